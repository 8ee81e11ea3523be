"""The pull sends the next page's request while it builds and stores this one: same pages, same
order, same state, same errors, and at most the next page's request past a stop or a failure.

A fake source pages through ``paginate`` as the real ones do, its "HTTP" a function that
records the thread it ran in; a ``Prefetch`` hands an answer read ahead to the same request.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from connector.errors import FatalApiError, QuotaExhausted
from connector.model import JsonDict, Page, Row, StreamSpec
from connector.pull import pull
from connector.sources.base import Prefetch, paginate
from connector.store import mirror, state

T0 = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


class PagedSource:
    """``pages`` pages of ``size`` rows; the request for page ``fail_at`` raises ``error``."""

    def __init__(
        self, pages: int, size: int = 3, fail_at: int | None = None, error: Exception | None = None
    ) -> None:
        self.pages, self.size, self.fail_at, self.error = pages, size, fail_at, error
        self.requested: list[tuple[int, str]] = []  # (page, thread) of each request made
        self.sent_ahead: list[int] = []
        self.box = Prefetch()
        self.closed = threading.Event()

    def _get(self, n: int) -> int:
        self.requested.append((n, threading.current_thread().name))
        if n == self.fail_at:
            assert self.error is not None
            raise self.error
        return n

    def read(
        self, stream: StreamSpec, saved: JsonDict | None, *, run_start: datetime, full: bool
    ) -> Iterator[Page]:
        start = int((saved or {}).get("next", 0))

        def fetch(token: str) -> int:
            taken, body = self.box.take(token)
            return body if taken else self._get(int(token))  # type: ignore[no-any-return]

        def prefetch(token: str) -> Prefetch:
            self.sent_ahead.append(int(token))
            self.box.start(token, lambda: self._get(int(token)))
            return self.box

        def next_token(n: int) -> str | None:
            return str(n + 1) if n + 1 < self.pages else None

        try:
            for n in paginate(lambda: fetch(str(start)), fetch, next_token, prefetch=prefetch):
                rows = [
                    Row(f"r{n:03d}-{i}", T0, False, {"name": f"page {n}", "seats": i})
                    for i in range(self.size)
                ]
                yield Page(rows, {"next": n + 1}, api_calls=1, done=n == self.pages - 1)
        finally:
            self.closed.set()

    def all_ids(self, stream: StreamSpec) -> Iterator[list[str]]:
        return iter(())

    def pages_requested(self) -> list[int]:
        return [n for n, _thread in self.requested]


def ids(store, spec: StreamSpec) -> list[str]:
    with store.connect() as conn:
        return sorted(conn.execute(select(mirror.table(spec).c.id)).scalars())


def saved(store, spec: StreamSpec) -> JsonDict | None:
    with store.connect() as conn:
        return state.get(conn, spec.name)


def run(store, spec, source, **kwargs):
    return pull(store, {"salesforce": source}, [spec], clock=lambda: T0, **kwargs)


def no_read_ahead_thread_left() -> bool:
    return not [t for t in threading.enumerate() if t.name == "pull read-ahead"]


def test_every_page_is_stored_in_order_and_each_next_request_was_sent_ahead(store, spec):
    mirror.ensure_tables(store, [spec])
    source = PagedSource(pages=5)

    report = run(store, spec, source)

    assert report.status == "completed"
    assert report.streams[0].pages == 5 and report.streams[0].api_calls == 5
    assert source.pages_requested() == [0, 1, 2, 3, 4]  # each page requested once
    assert source.sent_ahead == [1, 2, 3, 4]  # none past the last page
    threads = {thread for n, thread in source.requested if n > 0}
    assert threads == {"pull read-ahead"} and source.requested[0][1] == "MainThread"
    assert ids(store, spec) == sorted(f"r{n:03d}-{i}" for n in range(5) for i in range(3))
    assert saved(store, spec) == {"next": 5}
    assert source.closed.is_set() and no_read_ahead_thread_left()


def test_an_error_in_the_request_sent_ahead_surfaces_with_its_type_after_the_pages_before(
    store, spec
):
    mirror.ensure_tables(store, [spec])
    error = FatalApiError("page 3 is broken", code="BROKEN")
    source = PagedSource(pages=6, fail_at=3, error=error)

    report = run(store, spec, source)

    result = report.streams[0]
    assert report.status == "failed" and result.status == "failed"
    assert result.note == "page 3 is broken" and result.pages == 3
    assert saved(store, spec) == {"next": 3}  # pages 0-2 committed, nothing after
    assert {i.split("-")[0] for i in ids(store, spec)} == {"r000", "r001", "r002"}

    resumed = run(store, spec, PagedSource(pages=6))  # the next run resumes at page 3
    assert resumed.status == "completed" and resumed.streams[0].pages == 3
    assert len(ids(store, spec)) == 18


def test_a_quota_stop_in_the_request_sent_ahead_stops_the_run_with_state_kept(store, spec):
    mirror.ensure_tables(store, [spec])
    source = PagedSource(pages=4, fail_at=2, error=QuotaExhausted("reserve reached"))

    report = run(store, spec, source)

    assert report.status == "stopped" and report.streams[0].status == "stopped"
    assert saved(store, spec) == {"next": 2}


def test_a_stop_request_stores_the_page_in_hand_and_sends_at_most_one_more(store, spec):
    mirror.ensure_tables(store, [spec])
    source = PagedSource(pages=10)
    stop = threading.Event()

    def progress(_spec: StreamSpec, page: Page) -> None:
        if page.state["next"] == 2:
            stop.set()

    report = run(store, spec, source, progress=progress, should_stop=stop.is_set)

    assert report.streams[0].status == "stopped"
    # Page 2 was read and built while page 1 was stored (the stop came after): it is stored
    # too. Page 3's request went out only if page 2's token came before the stop; no more.
    assert saved(store, spec) == {"next": 3}
    assert source.pages_requested() in ([0, 1, 2], [0, 1, 2, 3])
    assert source.sent_ahead == source.pages_requested()[1:]
    assert source.closed.is_set() and no_read_ahead_thread_left()


def test_a_stop_already_requested_sends_nothing_ahead(store, spec):
    mirror.ensure_tables(store, [spec])
    source = PagedSource(pages=10)
    asked = []

    def should_stop() -> bool:
        asked.append(1)
        return len(asked) > 2  # the checks before page 0 is read and when it is taken: go on

    report = run(store, spec, source, should_stop=should_stop)

    assert report.streams[0].status == "stopped"
    assert source.pages_requested() == [0, 1] and source.sent_ahead == [1]


def test_a_store_failure_waits_for_the_request_in_flight(store, spec, monkeypatch):
    mirror.ensure_tables(store, [spec])
    source = PagedSource(pages=10)
    real = mirror.upsert
    calls = []

    def failing(conn, spec, rows, pulled_at):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("disk full")
        return real(conn, spec, rows, pulled_at)

    monkeypatch.setattr(mirror, "upsert", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        run(store, spec, source)

    assert source.closed.is_set()
    assert saved(store, spec) == {"next": 2}
    # Page 3 was built while page 2 was stored, and page 4's request was out; no more.
    assert source.pages_requested() == [0, 1, 2, 3, 4]
    assert no_read_ahead_thread_left() and not source.box.pending
