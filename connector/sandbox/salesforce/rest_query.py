"""The ``query`` and ``queryAll`` resources: SOQL results in pages behind query locators.

A locator holds the rows the query matched when it ran, so later writes never change an open
cursor. Pages are ``batchSize`` records (``Sforce-Query-Options``, 200 to 2,000, default from the
sandbox config); ``nextRecordsUrl`` is ``/services/data/vXX.X/query/<locator>-<offset>`` for
queryAll too, as the QueryAll More Results page shows. Each user keeps at most ten open
cursors; opening another releases the oldest, as the SOQL limits say.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Response

from connector.sandbox.ids import IdMinter
from connector.sandbox.salesforce.soql import SoqlError
from connector.sandbox.salesforce.wire import BadRequest, Call, error, json_response

if TYPE_CHECKING:
    from connector.sandbox.salesforce.store import Org

MIN_BATCH, MAX_BATCH = 200, 2000
CURSORS_PER_USER = 10
_BATCH = re.compile(r"batchSize\s*=\s*(\d+)", re.IGNORECASE)


@dataclass
class Cursor:
    """Rows of one query, kept until the last page is read or the cursor is released."""

    rows: list[dict[str, Any]]
    total_size: int
    batch_size: int
    user_id: str


class Cursors:
    """Open query locators, at most ``CURSORS_PER_USER`` per user."""

    def __init__(self) -> None:
        self._open: OrderedDict[str, Cursor] = OrderedDict()
        self._minter = IdMinter()
        self._lock = threading.Lock()

    def open(self, cursor: Cursor) -> str:
        locator = self._minter.mint("01g")
        with self._lock:
            self._open[locator] = cursor
            mine = [k for k, c in self._open.items() if c.user_id == cursor.user_id]
            for old in mine[: max(0, len(mine) - CURSORS_PER_USER)]:
                del self._open[old]
        return locator

    def get(self, locator: str) -> Cursor | None:
        with self._lock:
            return self._open.get(locator)

    def close(self, locator: str) -> None:
        with self._lock:
            self._open.pop(locator, None)

    def clear(self) -> None:
        with self._lock:
            self._open.clear()


def batch_size(call: Call, default: int) -> int:
    """``Sforce-Query-Options: batchSize=N``, held within the documented 200..2,000."""
    match = _BATCH.search(call.request.headers.get("Sforce-Query-Options", ""))
    size = int(match.group(1)) if match else default
    return max(MIN_BATCH, min(MAX_BATCH, size))


def run_query(call: Call, org: Org, cursors: Cursors, *, include_deleted: bool) -> Response:
    """``GET .../query/?q=`` and ``.../queryAll/?q=``: the first page."""
    soql = call.request.args.get("q")
    if not soql:
        return error(400, "MALFORMED_QUERY", "A query string has to be specified")
    try:
        result = org.query(soql, include_deleted=include_deleted, version=call.version)
    except SoqlError as exc:
        return error(400, exc.error_code, exc.message)
    size = batch_size(call, org.state.config.query_page_size)
    cursor = Cursor(result.rows, result.total_size, size, call.user_id)
    locator = cursors.open(cursor) if len(result.rows) > size else ""
    return _page(call, cursors, locator, cursor, 0, size)


def more_results(call: Call, org: Org, cursors: Cursors, locator_offset: str) -> Response:
    """``GET .../query/<locator>-<offset>`` (or queryAll): the next page of an open cursor."""
    locator, _, offset_text = locator_offset.rpartition("-")
    cursor = cursors.get(locator) if offset_text.isdigit() else None
    offset = int(offset_text) if offset_text.isdigit() else -1
    if cursor is None or not 0 < offset < len(cursor.rows):
        raise BadRequest(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
    size = (
        batch_size(call, cursor.batch_size)
        if "Sforce-Query-Options" in call.request.headers
        else cursor.batch_size
    )
    return _page(call, cursors, locator, cursor, offset, size)


def _page(
    call: Call, cursors: Cursors, locator: str, cursor: Cursor, offset: int, size: int
) -> Response:
    rows = cursor.rows[offset : offset + size]
    end = offset + len(rows)
    done = end >= len(cursor.rows)
    body: dict[str, Any] = {"totalSize": cursor.total_size, "done": done}
    if done:
        if locator:
            cursors.close(locator)
    else:
        body["nextRecordsUrl"] = f"/services/data/{call.version}/query/{locator}-{end}"
    body["records"] = rows
    call.ctx.read(len(rows))
    return json_response(body)
