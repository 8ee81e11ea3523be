"""The pull shell: for each stream, for each page, write the rows and the cursor in one transaction.

Sources never touch the store and the store never calls an API; this module moves pages from one
to the other, so a kill at any moment leaves the store at the last committed page, and the next
pull resumes from exactly there.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine

from connector.errors import FatalApiError, QuotaExhausted, TransientApiError
from connector.heap import quiet_heap
from connector.model import Page, Source, StreamSpec
from connector.page_writer import PageWriter
from connector.sources.base import read_ahead
from connector.store import mirror, runs, state
from connector.store.runs import RunStatus
from connector.store.uow import UnitOfWork

log = logging.getLogger(__name__)

Progress = Callable[[StreamSpec, Page], None]


@dataclass
class StreamResult:
    """What one stream's pull did."""

    stream: str
    source: str
    records: int = 0
    deleted: int = 0
    issues: int = 0
    pages: int = 0
    api_calls: int = 0
    seconds: float = 0.0
    status: str = "completed"  # completed | deferred | stopped | failed | skipped
    note: str = ""


@dataclass
class PullReport:
    """The whole run: per-stream results and the overall status."""

    run_id: int
    status: RunStatus
    streams: list[StreamResult] = field(default_factory=list)
    api_usage: str | None = None  # the org's daily allowance after the run: "used/max"

    @property
    def records(self) -> int:
        return sum(s.records for s in self.streams)

    @property
    def api_calls(self) -> int:
        return sum(s.api_calls for s in self.streams)


# SQLite copies the WAL into the database (and syncs both) once it holds this many pages; the
# default, 1,000 (4 MB), checkpoints every few pages of a first load and rewrites the same index
# pages each time. 10,000 (40 MB) cut a 250k-ticket load's wall time by a quarter. Commits stay
# as durable as before (WAL, synchronous=NORMAL); only the copying is batched.
SQLITE_WAL_PAGES = 10_000


@quiet_heap()
def pull(
    engine: Engine,
    sources: Mapping[str, Source],
    specs: Sequence[StreamSpec],
    *,
    clock: Callable[[], datetime],
    full: bool = False,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    job: str = "pull",
    api_usage: Callable[[], str | None] = lambda: None,
) -> PullReport:
    """Pull every stream in ``specs``; a quota stop ends the run cleanly with state kept."""
    run_start = clock()
    with UnitOfWork(engine) as uow:
        run_id = runs.start(uow.conn, job, started_at=run_start)
        uow.commit()
    report = PullReport(run_id=run_id, status="completed")
    for spec in specs:
        if report.status == "stopped" or should_stop():
            report.streams.append(StreamResult(spec.name, spec.source, status="skipped"))
            report.status = "stopped"
            continue
        result = _pull_stream(
            engine,
            sources[spec.source],
            spec,
            run_id,
            run_start,
            clock,
            full=full,
            progress=progress,
            should_stop=should_stop,
        )
        report.streams.append(result)
        if result.status == "stopped":
            report.status = "stopped"
        elif result.status == "failed" and report.status == "completed":
            report.status = "failed"
    report.api_usage = api_usage()
    _finish(engine, report, clock)
    return report


def _pull_stream(
    engine: Engine,
    source: Source,
    spec: StreamSpec,
    run_id: int,
    run_start: datetime,
    clock: Callable[[], datetime],
    *,
    full: bool,
    progress: Progress | None,
    should_stop: Callable[[], bool],
) -> StreamResult:
    result = StreamResult(spec.name, spec.source)
    started = time.perf_counter()
    with UnitOfWork(engine) as uow:
        saved = None if full else state.get(uow.conn, spec.name)

    def store(page: Page) -> None:
        _commit_page(engine, spec, page, run_id, clock)
        _count(result, page)
        if progress is not None:
            progress(spec, page)

    try:
        # Two things overlap the pull's own work on a page: the next page's request, sent as
        # soon as its token is known (its bytes arrive in a thread), and storing the page
        # before it (the writer's thread). Decoding and building rows happen here, in order.
        # Nothing is sent after the last page, nor once a stop is asked (a stop asked while a
        # page is built may leave one request sent and its answer dropped).
        writer: PageWriter[Page] = PageWriter(store)
        try:
            pages = source.read(spec, saved, run_start=run_start, full=full)
            with read_ahead(eager=lambda: not should_stop()), _closing(pages):
                for page in pages:
                    writer.put(page)
                    if should_stop() and not page.done:
                        result.status, result.note = "stopped", "stop requested; resumes from here"
                        break
        finally:
            writer.close()  # every page handed over is committed (a store error raises here)
    except QuotaExhausted as exc:
        result.status, result.note = "stopped", f"API allowance: {exc}"
    except TransientApiError as exc:
        result.status, result.note = "deferred", f"will resume next cycle: {exc}"
    except FatalApiError as exc:
        result.status, result.note = "failed", str(exc)
        log.error("stream %s failed: %s", spec.name, exc)
    result.seconds = round(time.perf_counter() - started, 3)
    _record_stream(engine, run_id, result)
    return result


@contextmanager
def _closing(pages: Iterator[Page]) -> Iterator[None]:
    """Close the source's generator on the way out: its own ``finally`` (a request sent ahead
    is waited for) runs now, not whenever it is collected."""
    try:
        yield
    finally:
        close = getattr(pages, "close", None)
        if close is not None:
            close()


def _commit_page(
    engine: Engine, spec: StreamSpec, page: Page, run_id: int, clock: Callable[[], datetime]
) -> None:
    """The page's rows, its issues and the state after it: together or not at all."""
    with UnitOfWork(engine) as uow:
        if page.rows:
            if uow.conn.dialect.name == "sqlite":  # a connection setting, not part of the page
                uow.conn.exec_driver_sql(f"PRAGMA wal_autocheckpoint={SQLITE_WAL_PAGES}").close()
            mirror.upsert(uow.conn, spec, page.rows, pulled_at=clock())
        if page.issues:
            runs.add_record_errors(uow.conn, run_id, spec.name, page.issues)
        state.save(uow.conn, spec.name, page.state)
        uow.commit()
    for issue in page.issues:  # stored above (status lists them); one line each for the operator
        log.warning("%s: skipped %s: %s", spec.name, issue.record_id, issue.reason)


def _count(result: StreamResult, page: Page) -> None:
    result.pages += 1
    result.records += len(page.rows)
    result.deleted += sum(1 for r in page.rows if r.deleted)
    result.issues += len(page.issues)
    result.api_calls += page.api_calls


def _record_stream(engine: Engine, run_id: int, result: StreamResult) -> None:
    with UnitOfWork(engine) as uow:
        runs.add_stream(
            uow.conn,
            run_id,
            stream=result.stream,
            records=result.records,
            deleted=result.deleted,
            issues=result.issues,
            api_calls=result.api_calls,
            seconds=result.seconds,
            status=result.status,
            note=result.note,
        )
        uow.commit()


def _finish(engine: Engine, report: PullReport, clock: Callable[[], datetime]) -> None:
    with UnitOfWork(engine) as uow:
        runs.finish(
            uow.conn,
            report.run_id,
            status=report.status,
            ended_at=clock(),
            summary={s.stream: s.records for s in report.streams},
            api_calls=report.api_calls,
            api_usage=report.api_usage,
        )
        uow.commit()


def sweep_ids(
    engine: Engine,
    sources: Mapping[str, Source],
    specs: Iterable[StreamSpec],
    *,
    clock: Callable[[], datetime],
) -> dict[str, int]:
    """The nightly Id sweep: mark rows the source no longer has (hard-deleted, purged)."""
    marked: dict[str, int] = {}
    for spec in specs:
        if spec.source != "salesforce":
            continue
        live: set[str] = set()
        for batch in sources[spec.source].all_ids(spec):
            live.update(batch)
        with UnitOfWork(engine) as uow:
            marked[spec.name] = mirror.sweep_missing(uow.conn, spec, live, at=clock())
            uow.commit()
    return marked
