"""The shared page loop and cursor maths every source builds on."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest

from connector.errors import FatalApiError
from connector.sources.base import (
    Prefetch,
    RepeatedTokenError,
    SortOrderError,
    advance_cursor,
    check_order,
    from_iso,
    paginate,
    read_ahead,
    signpost,
    to_iso,
)

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def test_paginate_follows_tokens_until_there_is_none():
    pages = {"a": ("b", 2), "b": (None, 3)}

    got = list(paginate(lambda: ("a", 1), lambda token: pages[token], lambda page: page[0]))

    assert [page[1] for page in got] == [1, 2, 3]


def test_paginate_raises_on_a_token_it_has_seen_before():
    pages = {"a": ("b", 2), "b": ("a", 3)}

    with pytest.raises(RepeatedTokenError):
        list(paginate(lambda: ("a", 1), lambda token: pages[token], lambda page: page[0]))


def test_paginate_makes_no_call_until_iterated():
    calls: list[str] = []

    pages = paginate(
        lambda: calls.append("first") or ("", None), lambda t: ("", None), lambda p: None
    )

    assert calls == []
    list(pages)
    assert calls == ["first"]


def test_the_signpost_is_the_run_start_minus_the_lag():
    assert signpost(T0, timedelta(minutes=5)) == T0 - timedelta(minutes=5)


def test_the_signpost_is_never_past_the_run_start():
    assert signpost(T0, timedelta(minutes=-5)) == T0


def test_the_cursor_advances_to_the_signpost():
    old = T0 - timedelta(hours=1)

    assert advance_cursor(old, T0, timedelta(minutes=5)) == T0 - timedelta(minutes=5)


def test_the_cursor_never_moves_behind_the_old_one():
    old = T0 - timedelta(minutes=1)

    assert advance_cursor(old, T0, timedelta(minutes=5)) == old


def test_a_first_sweep_sets_the_cursor_to_the_signpost():
    assert advance_cursor(None, T0, timedelta(0)) == T0


def test_an_equal_or_later_cursor_value_is_in_order():
    check_order(None, T0, stream="s")
    check_order(T0, T0, stream="s")
    check_order(T0, T0 + timedelta(milliseconds=1), stream="s")


def test_a_cursor_value_going_backwards_raises_naming_the_stream():
    with pytest.raises(SortOrderError, match="contact"):
        check_order(T0, T0 - timedelta(milliseconds=1), stream="contact")


@pytest.mark.parametrize(
    "text", ["2026-05-01T12:00:00.000+0000", "2026-05-01T12:00:00Z", "2026-05-01T14:00:00+02:00"]
)
def test_timestamps_parse_to_aware_utc(text):
    assert from_iso(text) == T0 and from_iso(text).tzinfo == UTC


def test_states_keep_timestamps_as_utc_with_milliseconds():
    moment = datetime(2026, 5, 1, 14, 0, 0, 123_456, tzinfo=timezone(timedelta(hours=2)))

    assert to_iso(moment) == "2026-05-01T12:00:00.123+00:00"


def test_naive_timestamps_are_refused():
    with pytest.raises(ValueError):
        from_iso("2026-05-01T12:00:00")
    with pytest.raises(ValueError):
        to_iso(datetime(2026, 5, 1))  # noqa: DTZ001


# -- read-ahead: the next page's request sent while the pull stores this one -----------------
class _Ahead:
    """A ``prefetch`` for ``paginate``: sends through a real ``Prefetch``, records tokens."""

    def __init__(self, answers: dict[str, tuple[str | None, int]]) -> None:
        self.answers = answers
        self.sent: list[str] = []  # tokens sent ahead
        self.fetched: list[str] = []  # tokens fetch() asked for
        self.threads: set[str] = set()
        self.box = Prefetch()

    def prefetch(self, token: str) -> Prefetch:
        def send() -> tuple[str | None, int]:
            self.threads.add(threading.current_thread().name)
            return self.answers[token]

        self.sent.append(token)
        self.box.start(token, send)
        return self.box

    def fetch(self, token: str) -> tuple[str | None, int]:
        self.fetched.append(token)
        taken, page = self.box.take(token)
        return page if taken else self.answers[token]


def _pages(ahead: _Ahead) -> Iterator[tuple[str | None, int]]:
    return paginate(lambda: ("a", 1), ahead.fetch, lambda page: page[0], prefetch=ahead.prefetch)


def test_paginate_sends_nothing_ahead_outside_read_ahead():
    ahead = _Ahead({"a": ("b", 2), "b": (None, 3)})

    assert [p[1] for p in _pages(ahead)] == [1, 2, 3]
    assert ahead.sent == [] and ahead.fetched == ["a", "b"]


def test_under_read_ahead_the_next_request_goes_out_when_asked_and_is_taken_by_fetch():
    ahead = _Ahead({"a": ("b", 2), "b": ("c", 3), "c": (None, 4)})
    got = []
    with read_ahead() as send_next:
        for page in _pages(ahead):
            got.append(page[1])
            if page[1] < 3:  # asked on the first two pages, not on the third (as on a stop)
                send_next()
                send_next()  # a second ask sends nothing more
    assert got == [1, 2, 3, 4]
    assert ahead.sent == ["a", "b"]  # sent ahead in a thread ...
    assert ahead.threads == {"pull read-ahead"}
    assert ahead.fetched == ["a", "b", "c"]  # ... and taken by the same request, in order
    assert not ahead.box.pending


def test_eager_read_ahead_sends_the_next_request_before_the_page_is_handed_over():
    ahead = _Ahead({"a": ("b", 2), "b": (None, 3)})
    sent_when_taken = []
    with read_ahead(eager=lambda: True):
        for _page in _pages(ahead):
            sent_when_taken.append(list(ahead.sent))  # what was in flight as the page arrived
    assert sent_when_taken == [["a"], ["a", "b"], ["a", "b"]]  # nothing after the last page
    assert ahead.fetched == ["a", "b"] and not ahead.box.pending


def test_eager_read_ahead_that_says_no_leaves_the_request_to_be_asked_for():
    ahead = _Ahead({"a": ("b", 2), "b": (None, 3)})
    with read_ahead(eager=lambda: False) as send_next:
        pages = _pages(ahead)
        next(pages)
        assert ahead.sent == []  # a stop was asked: nothing went out on its own
        send_next()
        assert ahead.sent == ["a"]
        pages.close()
    assert not ahead.box.pending


def test_read_ahead_offers_nothing_after_the_last_page():
    ahead = _Ahead({"a": (None, 2)})
    with read_ahead() as send_next:
        for _page in _pages(ahead):
            send_next()
    assert ahead.sent == ["a"]


def test_closing_the_pages_early_waits_for_the_request_in_flight():
    gate = threading.Event()
    ahead = _Ahead({"a": ("b", 2), "b": (None, 3)})
    real = ahead.answers

    class Slow(dict):
        def __getitem__(self, key):
            gate.wait(5)
            return real[key]

    ahead.answers = Slow()
    with read_ahead() as send_next:
        pages = _pages(ahead)
        next(pages)
        send_next()
        assert ahead.box.pending
        threading.Timer(0.05, gate.set).start()
        pages.close()  # a stop: the answer read ahead is waited for and dropped
    assert not ahead.box.pending


def test_an_error_asking_for_the_next_token_comes_after_the_page_it_follows():
    def next_token(page: tuple[str | None, int]) -> str | None:
        if page[1] == 2:
            raise FatalApiError("no next url", code="NO_NEXT")
        return page[0]

    ahead = _Ahead({"a": ("b", 2)})
    got = []
    with read_ahead() as send_next, pytest.raises(FatalApiError):
        for page in paginate(lambda: ("a", 1), ahead.fetch, next_token, prefetch=ahead.prefetch):
            got.append(page[1])
            send_next()
    assert got == [1, 2] and ahead.sent == ["a"]


def test_prefetch_hands_over_the_answer_or_the_exception_of_the_same_request():
    box = Prefetch()
    assert box.take("x") == (False, None)  # nothing started: the caller sends

    box.start("x", lambda: "answer")
    assert box.take("y") == (False, None)  # another request: dropped, the caller sends
    assert not box.pending

    box.start("x", lambda: "answer")
    assert box.take("x") == (True, "answer")

    boom = ConnectionError("reset")

    def fail() -> str:
        raise boom

    box.start("x", fail)
    with pytest.raises(ConnectionError) as caught:
        box.take("x")
    assert caught.value is boom and not box.pending
