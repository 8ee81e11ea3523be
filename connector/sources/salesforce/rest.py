"""The sorted REST sweep: ``queryAll`` pages ordered by SystemModstamp, Id, one checkpoint each.

Each page's state records how far the sweep got (the last row's SystemModstamp); a resumed
sweep reads from that instant inclusive and drops the rows before it that the second-precision
SOQL literal lets through, so only rows at the boundary instant are read twice (the upsert by
Id absorbs them). The last page moves the cursor to the sweep's signpost.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from connector.errors import FatalApiError
from connector.model import Page, StreamSpec
from connector.sources.base import paginate
from connector.sources.salesforce import soql
from connector.sources.salesforce.client import SalesforceClient
from connector.sources.salesforce.meter import Spent
from connector.sources.salesforce.records import RecordReader
from connector.sources.salesforce.state import StreamState


def sweep(
    client: SalesforceClient,
    spec: StreamSpec,
    reader: RecordReader,
    state: StreamState,
    *,
    since: datetime | None,
    inclusive: bool,
    run_start: datetime,
    lag: timedelta,
    page_size: int,
    spent: Spent,
) -> Iterator[Page]:
    """Pages from ``since`` to now; ``run_start`` is the sweep's own (kept across resumes)."""
    text = soql.incremental(spec, since, inclusive)
    floor = since if inclusive else None
    position = floor
    bodies = paginate(
        lambda: client.query_page(
            text, include_deleted=soql.has_is_deleted(spec), batch_size=page_size
        ),
        client.next_page,
        _next_url,
        prefetch=client.prefetch_next_page,
    )
    for body in bodies:
        rows, issues = reader.rows(body.get("records") or (), sorted_by_cursor=True, floor=floor)
        if body.get("done", True):
            yield Page(rows, state.finished(run_start, lag).dump(), spent(), issues, done=True)
            return
        if reader.last is not None and (position is None or reader.last > position):
            position = reader.last
        yield Page(rows, state.at(position, run_start).dump(), spent(), issues)


def _next_url(body: dict[str, Any]) -> str | None:
    if body.get("done", True):
        return None
    url = body.get("nextRecordsUrl")
    if not url:
        raise FatalApiError("query page is not done but has no nextRecordsUrl", code="NO_NEXT")
    return str(url)
