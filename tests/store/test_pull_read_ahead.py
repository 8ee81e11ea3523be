"""The pull reads one page ahead in a thread: same pages, same order, same state, same errors.

A fake source records which pages were asked for and when, so the tests can see the read-ahead
stays one page ahead, is declined on the last page and on a stop, and that an error in the
page read ahead surfaces with its own type after the pages before it are committed.
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
from connector.pull_ahead import ReadAhead
from connector.store import mirror, state

T0 = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


class PagedSource:
    """``pages`` pages of ``size`` rows; page ``fail_at`` raises ``error`` instead."""

    def __init__(
        self, pages: int, size: int = 3, fail_at: int | None = None, error: Exception | None = None
    ) -> None:
        self.pages, self.size, self.fail_at, self.error = pages, size, fail_at, error
        self.produced: list[int] = []  # page numbers, in the order they were built
        self.threads: set[str] = set()
        self.closed = threading.Event()

    def read(
        self, stream: StreamSpec, saved: JsonDict | None, *, run_start: datetime, full: bool
    ) -> Iterator[Page]:
        start = int((saved or {}).get("next", 0))
        try:
            for n in range(start, self.pages):
                self.threads.add(threading.current_thread().name)
                if n == self.fail_at:
                    assert self.error is not None
                    raise self.error
                self.produced.append(n)
                rows = [
                    Row(f"r{n:03d}-{i}", T0, False, {"name": f"page {n}", "seats": i})
                    for i in range(self.size)
                ]
                done = n == self.pages - 1
                yield Page(rows, {"next": n + 1}, api_calls=1, done=done)
        finally:
            self.closed.set()

    def all_ids(self, stream: StreamSpec) -> Iterator[list[str]]:
        return iter(())


def ids(store, spec: StreamSpec) -> list[str]:
    with store.connect() as conn:
        return sorted(conn.execute(select(mirror.table(spec).c.id)).scalars())


def saved(store, spec: StreamSpec) -> JsonDict | None:
    with store.connect() as conn:
        return state.get(conn, spec.name)


def run(store, spec, source, **kwargs):
    return pull(store, {"salesforce": source}, [spec], clock=lambda: T0, **kwargs)


def test_every_page_is_stored_in_order_by_a_thread_other_than_the_pulls(store, spec):
    mirror.ensure_tables(store, [spec])
    source = PagedSource(pages=5)

    report = run(store, spec, source)

    assert report.status == "completed"
    assert report.streams[0].pages == 5 and report.streams[0].api_calls == 5
    assert source.produced == [0, 1, 2, 3, 4]  # each page built once: no extra read
    assert ids(store, spec) == sorted(f"r{n:03d}-{i}" for n in range(5) for i in range(3))
    assert saved(store, spec) == {"next": 5}
    assert source.threads == {"pull contact"} and source.closed.is_set()


def test_an_error_in_the_page_read_ahead_surfaces_with_its_type_after_the_pages_before(store, spec):
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


def test_a_quota_stop_in_the_read_ahead_stops_the_run_with_state_kept(store, spec):
    mirror.ensure_tables(store, [spec])
    source = PagedSource(pages=4, fail_at=2, error=QuotaExhausted("reserve reached"))

    report = run(store, spec, source)

    assert report.status == "stopped" and report.streams[0].status == "stopped"
    assert saved(store, spec) == {"next": 2}


def test_a_stop_request_reads_no_page_ahead(store, spec):
    mirror.ensure_tables(store, [spec])
    source = PagedSource(pages=10)
    stop = threading.Event()

    def progress(_spec: StreamSpec, page: Page) -> None:
        if page.state["next"] == 2:
            stop.set()

    report = run(store, spec, source, progress=progress, should_stop=stop.is_set)

    assert report.streams[0].status == "stopped"
    assert saved(store, spec) == {"next": 2}
    # Page 2 may have been read ahead while page 1 was stored (the stop came after); no more.
    assert source.produced in ([0, 1], [0, 1, 2])
    assert source.closed.is_set()  # the generator was closed, in its own thread


def test_a_store_failure_stops_the_read_ahead_thread(store, spec, monkeypatch):
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
    assert source.produced in ([0, 1, 2], [0, 1, 2, 3])  # at most one past the failed one
    assert not [t for t in threading.enumerate() if t.name == "pull contact"]


def test_read_ahead_is_one_item_ahead_and_declines_when_asked():
    built: list[int] = []

    def items() -> Iterator[int]:
        for n in range(5):
            built.append(n)
            yield n

    taken = []
    with ReadAhead(items(), ahead=lambda n: n < 2) as ahead:
        for n in ahead:
            taken.append(n)
            if n == 0:
                _settle(built, 2)
                assert built == [0, 1]  # the next one, and no further
            if n == 2:
                assert built == [0, 1, 2]  # declined: nothing read ahead of item 2
    assert taken == [0, 1, 2, 3, 4]


def test_read_ahead_re_raises_the_original_exception_object():
    class Odd(Exception):
        pass

    boom = Odd("in the thread")

    def items() -> Iterator[int]:
        yield 1
        raise boom

    ahead = ReadAhead(items())
    assert next(ahead) == 1
    with pytest.raises(Odd) as caught:
        next(ahead)
    assert caught.value is boom
    with pytest.raises(StopIteration):
        next(ahead)


def _settle(built: list[int], count: int) -> None:
    for _ in range(200):
        if len(built) >= count:
            break
        threading.Event().wait(0.01)
    threading.Event().wait(0.05)  # and nothing more comes
