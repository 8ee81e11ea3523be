"""The initial load of a big stream as a Bulk API 2.0 query job, spread over cycles if need be.

The job id is checkpointed (in a page with no rows) before anything else, so a crash never
starts a second job. Waiting is bounded: past the budget the read stops with the job saved and
the next cycle polls again. Result pages follow ``Sforce-Locator``; each page's rows commit in
parts, the last with the locator of the next page, and the cursor moves only when the last page
is in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from itertools import islice
from typing import Any, TypeVar

from connector.errors import FatalApiError
from connector.model import Page, StreamSpec
from connector.sources.base import paginate
from connector.sources.salesforce import soql
from connector.sources.salesforce.client import SalesforceClient
from connector.sources.salesforce.meter import Spent
from connector.sources.salesforce.records import RecordReader, field_types, from_bulk_rows
from connector.sources.salesforce.state import BulkJob, StreamState

COMPLETE = "JobComplete"
FINAL = frozenset({COMPLETE, "Failed", "Aborted"})
# Rows built and committed at once from a result page: a whole page's rows were the pull's
# largest allocation (about 75 MB for 50,000 tasks), and smaller parts let the page writer
# store one part while the next is built.
ROWS_PER_COMMIT = 10_000

T = TypeVar("T")


def start(
    client: SalesforceClient,
    spec: StreamSpec,
    state: StreamState,
    run_start: datetime,
    spent: Spent,
) -> tuple[StreamState, Page]:
    """Create the job; the page that saves its id carries the calls spent so far."""
    job_id = client.bulk_query_create(soql.bulk(spec), include_deleted=soql.has_is_deleted(spec))
    state = replace(state, sweep=None, bulk=BulkJob(job_id, None, run_start))
    return state, Page((), state.dump(), spent())


def wait_for(
    client: SalesforceClient,
    job_id: str,
    *,
    budget: timedelta,
    clock: Callable[[], datetime],
    sleep: Callable[[float], None],
    first_delay: float = 0.5,
) -> dict[str, Any] | None:
    """The job's final info, or None when it is still running after ``budget``."""
    deadline = clock() + budget
    delay = first_delay
    while True:
        info = client.bulk_query_status(job_id)
        if info.get("state") in FINAL:
            return info
        if clock() + timedelta(seconds=delay) > deadline:
            return None
        sleep(delay)
        delay = min(delay * 2, 10.0)


def results(
    client: SalesforceClient,
    spec: StreamSpec,
    reader: RecordReader,
    state: StreamState,
    *,
    lag: timedelta,
    max_records: int | None,
    wait: Callable[[str], dict[str, Any] | None],
    spent: Spent,
    rows_per_commit: int | None = None,
) -> Iterator[Page]:
    """Wait for the job, then read its result pages from the saved locator on.

    A result page is up to 50,000 rows (more on real Salesforce, which sizes pages by bytes);
    it is built and committed ``rows_per_commit`` rows at a time (``ROWS_PER_COMMIT``). Every
    part but the page's last keeps the page's own locator, so a crash mid-page resumes by
    reading that page again (the upsert by Id makes the repeat harmless); the last part moves
    the locator on.
    """
    job = state.bulk
    assert job is not None
    info = wait(job.job_id)
    if info is None:
        yield Page((), state.dump(), spent())  # still running: the next cycle polls again
        return
    if info.get("state") != COMPLETE:
        yield Page((), replace(state, bulk=None).dump(), spent())  # the next cycle starts anew
        raise FatalApiError(
            f"{spec.name}: Bulk query job {job.job_id} ended {info.get('state')}: "
            f"{info.get('errorMessage') or 'no message'}",
            code="BULK_JOB_FAILED",
        )
    types = field_types(client.describe(spec.source_object))
    pages = paginate(
        lambda: client.bulk_query_results(job.job_id, job.locator, max_records),
        lambda locator: client.bulk_query_results(job.job_id, locator, max_records),
        lambda page: page[1],
        prefetch=lambda locator: client.prefetch_bulk_results(job.job_id, locator, max_records),
    )
    for csv_rows, following in pages:
        parts = _parts(from_bulk_rows(csv_rows, types), rows_per_commit or ROWS_PER_COMMIT)
        for records, last in parts:
            rows, issues = reader.rows(records)
            if not last:  # the page's locator still: a resume reads this page again
                yield Page(rows, state.dump(), spent(), issues)
            elif following is None:
                done = state.finished(job.run_start, lag)
                yield Page(rows, done.dump(), spent(), issues, done=True)
                return
            else:
                state = replace(state, bulk=replace(job, locator=following))
                yield Page(rows, state.dump(), spent(), issues)


def _parts(records: Iterable[T], size: int) -> Iterator[tuple[list[T], bool]]:
    """``records`` in lists of ``size``, each with whether it is the last (at least one list)."""
    items = iter(records)
    part = list(islice(items, size))
    while True:
        following = list(islice(items, size))
        yield part, not following
        if not following:
            return
        part = following
