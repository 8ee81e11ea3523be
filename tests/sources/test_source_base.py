"""The shared page loop and cursor maths every source builds on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from connector.sources.base import (
    RepeatedTokenError,
    SortOrderError,
    advance_cursor,
    check_order,
    from_iso,
    paginate,
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
