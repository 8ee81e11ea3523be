"""The SOQL engine of the Salesforce emulator: parse, bind to the schema, execute.

``parse`` checks syntax only, ``bind`` resolves names against what the integration user
sees, ``execute`` filters, sorts, pages and shapes rows as the REST ``query`` and
``queryAll`` resources return them. Errors are :class:`SoqlError` with Salesforce's error
code and message, ready for the 400 body.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from itertools import islice
from typing import Any

from connector.sandbox.salesforce.soql.bind import bind
from connector.sandbox.salesforce.soql.errors import SoqlError
from connector.sandbox.salesforce.soql.evaluate import predicate, sort_rows
from connector.sandbox.salesforce.soql.parse import parse
from connector.sandbox.salesforce.soql.rows import projector
from connector.sandbox.salesforce.soql.syntax import Query, RecordSource

__all__ = [
    "Query",
    "QueryResult",
    "RecordSource",
    "SoqlError",
    "bind",
    "execute",
    "parse",
]

Record = dict[str, Any]


@dataclass
class QueryResult:
    """Matching rows in wire shape; for ``COUNT()`` no rows and the count in ``total_size``."""

    total_size: int
    rows: list[dict[str, Any]]


def execute(
    query: Query,
    source: RecordSource,
    *,
    include_deleted: bool,
    version: str,
    now: datetime | None = None,
) -> QueryResult:
    """Run ``query`` (bound here if it is not yet) over ``source``.

    ``include_deleted`` is queryAll; ``version`` (``"62.0"`` or ``"v62.0"``) goes into each
    row's url; ``now`` anchors TODAY and LAST_N_DAYS (default: the wall clock, UTC).
    """
    if query.plan is None:
        query = bind(query, source)
    plan = query.plan
    assert plan is not None
    today = (now or datetime.now(UTC)).astimezone(UTC).date()
    matches = _matching(query, source, include_deleted, today)
    if plan.order:
        rows = sort_rows(list(matches), plan.order, source)
        page: list[Record] = rows[query.offset : _stop(query)]
    else:
        page = list(islice(matches, query.offset, _stop(query)))
    if query.count:
        return QueryResult(len(page), [])
    url_prefix = f"/services/data/v{version.removeprefix('v')}/sobjects/"
    shape = projector(plan.select, query.sobject, url_prefix, source)
    return QueryResult(len(page), [shape(r) for r in page])


def _stop(query: Query) -> int | None:
    return None if query.limit is None else query.offset + query.limit


def _matching(
    query: Query, source: RecordSource, include_deleted: bool, today: date
) -> Iterator[Record]:
    """Records passing the WHERE clause, soft-deleted ones only for queryAll."""
    records: Iterable[Record] = source.records(query.sobject)
    if not include_deleted:
        records = (r for r in records if not r.get("IsDeleted"))
    assert query.plan is not None
    if query.plan.where is None:
        return iter(records)
    test = predicate(query.plan.where, source, today)
    return (r for r in records if test(r))
