"""Bulk API 2.0 query jobs: the job's result is fixed when it is created, then read in pages.

A page holds ``maxRecords`` rows (default 50,000, simple-salesforce's page size too); the
``Sforce-Locator`` header names the next page (an opaque base64 token, as in "Get Results for a
Query Job") or the string ``null`` after the last, and ``Sforce-NumberOfRecords`` counts the
page. The header row is the select list with relationship paths dotted (``Account.Name``).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from werkzeug.wrappers import Response

from connector.sandbox.salesforce import bulk_csv as bulk_csv
from connector.sandbox.salesforce import soql
from connector.sandbox.salesforce.bulk_jobs import QUERY, UPLOAD_COMPLETE, BulkJob, error
from connector.sandbox.salesforce.soql.errors import SoqlError
from connector.sandbox.salesforce.soql.syntax import Resolved
from connector.sandbox.salesforce.store import Org

DEFAULT_MAX_RECORDS = 50_000
OPERATIONS = ("query", "queryAll")


def create_query_job(
    org: Org, body: Mapping[str, Any], *, job_id: str, user_id: str, version: str, now: datetime
) -> BulkJob | Response:
    """Validate the request, run the query now and keep its rows as CSV cells."""
    problem = _check_options(body)
    if problem is not None:
        return problem
    text = str(body.get("query") or "")
    try:
        bound = soql.bind(soql.parse(text), org)
        if bound.count:
            return error(
                400,
                "INVALIDJOB",
                "InvalidJob : Aggregate functions such as COUNT() are not supported "
                "by Bulk API 2.0 queries",
            )
        if bound.offset:
            return error(
                400, "INVALIDJOB", "InvalidJob : OFFSET is not supported by Bulk API 2.0 queries"
            )
        result = org.query(text, include_deleted=body["operation"] == "queryAll", version=version)
    except SoqlError as exc:
        return error(400, exc.error_code, exc.message)
    assert bound.plan is not None
    select = bound.plan.select
    return BulkJob(
        id=job_id,
        job_type=QUERY,
        operation=str(body["operation"]),
        object=bound.sobject,
        created_by=user_id,
        created_at=now,
        api_version=version,
        column_delimiter=str(body.get("columnDelimiter") or "COMMA"),
        line_ending=str(body.get("lineEnding") or "LF"),
        state=UPLOAD_COMPLETE,
        header=[target.key for target in select],
        kinds=[target.kind for target in select],
        rows=[[bulk_csv.cell(_value(row, t), t.kind) for t in select] for row in result.rows],
    )


def _check_options(body: Mapping[str, Any]) -> Response | None:
    if body.get("operation") not in OPERATIONS:
        return error(
            400,
            "INVALIDJOB",
            f"InvalidJob : Invalid operation for a query job: {body.get('operation')}",
        )
    if not body.get("query"):
        return error(400, "INVALIDJOB", "InvalidJob : query is required for a query job")
    return check_format(body)


def check_format(body: Mapping[str, Any]) -> Response | None:
    """contentType, columnDelimiter and lineEnding: CSV and the documented enum values."""
    if body.get("contentType", "CSV") != "CSV":
        return error(
            400, "INVALIDJOB", f"InvalidJob : Unsupported contentType: {body.get('contentType')}"
        )
    if body.get("columnDelimiter", "COMMA") not in bulk_csv.DELIMITERS:
        return error(
            400,
            "INVALIDJOB",
            f"InvalidJob : Invalid columnDelimiter: {body.get('columnDelimiter')}",
        )
    if body.get("lineEnding", "LF") not in bulk_csv.LINE_ENDINGS:
        return error(
            400, "INVALIDJOB", f"InvalidJob : Invalid lineEnding: {body.get('lineEnding')}"
        )
    return None


def _value(row: dict[str, Any], target: Resolved) -> Any:
    """The value of a (possibly dotted) select item in a REST-shaped row; None past a null."""
    node: Any = row
    for hop in target.hops:
        node = node.get(hop.name) if isinstance(node, dict) else None
    return node.get(target.field) if isinstance(node, dict) else None


def results_page(job: BulkJob, args: Mapping[str, str]) -> tuple[Response, int]:
    """One page of results and the number of rows in it."""
    try:
        start = _decode(args.get("locator") or "")
        size = int(args.get("maxRecords") or DEFAULT_MAX_RECORDS)
    except ValueError:
        return error(400, "INVALIDJOB", "InvalidJob : Invalid locator or maxRecords"), 0
    if size <= 0 or start > len(job.rows):
        return error(400, "INVALIDJOB", "InvalidJob : Invalid locator or maxRecords"), 0
    page = job.rows[start : start + size]
    following = start + size
    locator = _encode(following) if following < len(job.rows) else "null"
    body = bulk_csv.write(job.header, page, job.column_delimiter, job.line_ending)
    headers = {"Sforce-Locator": locator, "Sforce-NumberOfRecords": str(len(page))}
    return Response(body, status=200, headers=headers, content_type="text/csv"), len(page)


def _encode(offset: int) -> str:
    return base64.b64encode(str(offset).encode()).decode().rstrip("=")


def _decode(locator: str) -> int:
    if not locator or locator == "null":
        return 0
    try:
        text = base64.b64decode(locator + "=" * (-len(locator) % 4), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ValueError(locator) from exc
    return int(text)
