"""Bulk API 2.0 ingest jobs: create, one upload, and the per-record processing and results.

Each row is written through ``Org`` like any API write, so validation rules, row locks and
required fields fail per record exactly as they do on sObject Collections. Results follow
"Get Job Successful/Failed/Unprocessed Record Results": ``"sf__Id","sf__Created"`` or
``"sf__Id","sf__Error"`` then the uploaded columns; errors read ``CODE:message:fields --``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from werkzeug.wrappers import Response

from connector.sandbox.salesforce import bulk_csv as bulk_csv
from connector.sandbox.salesforce.bulk_csv import UNSET, CsvProblem
from connector.sandbox.salesforce.bulk_jobs import (
    COMPLETE,
    FAILED,
    INGEST,
    OPEN,
    BulkJob,
    csv_response,
    error,
)
from connector.sandbox.salesforce.bulk_query import check_format
from connector.sandbox.salesforce.errors import RecordError, WriteResult
from connector.sandbox.salesforce.schema import SObjectDef
from connector.sandbox.salesforce.store import Org

OPERATIONS = ("insert", "update", "upsert", "delete", "hardDelete")
RESULTS = {
    "successfulresults": "successful",
    "failedresults": "failures",
    "unprocessedrecords": "unprocessed",
}


def create_ingest_job(
    org: Org, body: Mapping[str, Any], *, job_id: str, user_id: str, version: str, now: datetime
) -> BulkJob | Response:
    """Validate the job request; the job starts Open, waiting for its one upload."""
    operation, name = body.get("operation"), str(body.get("object") or "")
    if operation not in OPERATIONS:
        return error(400, "INVALIDJOB", f"InvalidJob : Invalid operation: {operation}")
    sobj = org.sobject(name)
    if sobj is None:
        return error(400, "INVALIDJOB", f"InvalidJob : Unable to find object: {name}")
    problem = check_format(body)
    if problem is not None:
        return problem
    ext_field = body.get("externalIdFieldName")
    if operation == "upsert":
        fdef = sobj.field(str(ext_field or ""))
        if fdef is None or not (fdef.external_id or fdef.name == "Id"):
            return error(
                400,
                "INVALIDJOB",
                f"InvalidJob : The field {ext_field} is not an "
                f"External ID or indexed field for {sobj.name}",
            )
        ext_field = fdef.name
    return BulkJob(
        id=job_id,
        job_type=INGEST,
        operation=str(operation),
        object=sobj.name,
        created_by=user_id,
        created_at=now,
        api_version=version,
        column_delimiter=str(body.get("columnDelimiter") or "COMMA"),
        line_ending=str(body.get("lineEnding") or "LF"),
        external_id_field=ext_field if operation == "upsert" else None,
        state=OPEN,
    )


def upload(job: BulkJob, data: bytes) -> Response:
    """``PUT .../batches``: one CSV per job (a second PUT is refused), 201 Created."""
    if job.state != OPEN:
        return error(409, "INVALIDJOBSTATE", f"InvalidJobState : Job {job.id} is not Open")
    if job.uploaded:
        return error(
            400,
            "BULK_API_ERROR",
            f"Found multiple contents for job: {job.id}, "
            "please 'Close' / 'Abort' / 'Delete' the current Job then create a new "
            "Job and make sure you only do 'PUT' once on a given Job.",
        )
    job.data, job.uploaded = data, True
    return Response(status=201)


def parse_upload(job: BulkJob) -> None:
    """Header and rows of the upload into the job; raises CsvProblem for unusable data."""
    if not job.header:
        job.header, job.rows = bulk_csv.read(job.data, job.column_delimiter, job.line_ending)


def leave_unprocessed(job: BulkJob) -> None:
    """A job that fails or is aborted before processing: every uploaded row is unprocessed."""
    try:
        parse_upload(job)
    except CsvProblem:
        return
    job.unprocessed = list(job.rows)


def process(job: BulkJob, org: Org) -> int:
    """Write every uploaded row; returns the number of records written successfully."""
    try:
        parse_upload(job)
        sobj = org.sobject(job.object)
        assert sobj is not None
        _check_columns(org, sobj, job.header)
    except CsvProblem as exc:
        job.state, job.error_message = FAILED, str(exc)
        job.unprocessed = list(job.rows)
        return 0
    for row in job.rows:
        result = _write(org, job, sobj, row)
        if result.success:
            job.successful.append([result.id or "", _created(job, result), *row])
        else:
            job.failures.append([result.id or "", _error_text(result.errors), *row])
    job.processed, job.failed = len(job.rows), len(job.failures)
    job.state = COMPLETE
    return len(job.successful)


def _check_columns(org: Org, sobj: SObjectDef, header: list[str]) -> None:
    for column in header:
        name, parent_field, _ = bulk_csv.column_target(column)
        if parent_field is None:
            fdef = sobj.field(name)
            known = fdef is not None and not org.is_hidden(sobj.name, fdef.name)
        else:
            known = sobj.relationship(name) is not None
        if not known:
            raise CsvProblem(f"InvalidBatch : Field name not found : {column}")


def _values(sobj: SObjectDef, header: list[str], row: list[str]) -> dict[str, Any]:
    """Typed values of one row: empty cells left out, ``#N/A`` as null, parents by ext id."""
    values: dict[str, Any] = {}
    for column, text in zip(header, row, strict=True):
        name, parent_field, parent_type = bulk_csv.column_target(column)
        if parent_field is None:
            value = bulk_csv.typed(text, sobj.field(name))
            if value is not UNSET:
                values[name] = value
            continue
        reference = sobj.relationship(name)
        if text == "" or reference is None:
            continue
        if text == bulk_csv.NULL:
            values[reference.name] = None
            continue
        spec: dict[str, Any] = {parent_field: text}
        if parent_type:
            spec["attributes"] = {"type": parent_type}
        values[name] = spec
    return values


def _write(org: Org, job: BulkJob, sobj: SObjectDef, row: list[str]) -> WriteResult:
    values = _values(sobj, job.header, row)
    record_id = _pop(values, "Id")
    user = job.created_by
    if job.operation == "insert":
        return org.insert(sobj.name, values, user_id=user)
    if job.operation == "upsert":
        assert job.external_id_field is not None
        raw = dict(zip(job.header, row, strict=True))
        ext_value = next(
            (v for k, v in raw.items() if k.lower() == job.external_id_field.lower()), ""
        )
        return org.upsert(sobj.name, job.external_id_field, ext_value, values, user_id=user)
    if not record_id:
        verb = "an update" if job.operation == "update" else "a delete"
        return WriteResult(
            None,
            False,
            errors=(RecordError("MISSING_ARGUMENT", f"Id not specified in {verb} call"),),
        )
    if job.operation == "update":
        return org.update(sobj.name, str(record_id), values, user_id=user)
    result = org.delete(str(record_id), user_id=user)
    if result.success and job.operation == "hardDelete" and result.id:
        org.purge(result.id)
    return result


def _pop(values: dict[str, Any], name: str) -> Any:
    key = next((k for k in values if k.lower() == name.lower()), None)
    return values.pop(key) if key is not None else None


def _created(job: BulkJob, result: WriteResult) -> str:
    return "true" if result.created and job.operation in ("insert", "upsert") else "false"


def _error_text(errors: tuple[RecordError, ...]) -> str:
    """``STATUS_CODE:message:Field1,Field2 --`` (``--`` alone when no field is named)."""
    first = errors[0] if errors else RecordError("UNKNOWN_EXCEPTION", "unknown error")
    fields = f"{','.join(first.fields)} --" if first.fields else "--"
    return f"{first.status_code}:{first.message}:{fields}"


def results(job: BulkJob, which: str) -> Response:
    """One of the three result files; an unfinished job has none of its rows yet."""
    rows: list[list[str]] = getattr(job, RESULTS[which])
    if which == "unprocessedrecords":
        body = bulk_csv.write(
            [], rows, job.column_delimiter, job.line_ending, raw_header=job.header
        )
    else:
        second = "sf__Created" if which == "successfulresults" else "sf__Error"
        body = bulk_csv.write(
            ["sf__Id", second], rows, job.column_delimiter, job.line_ending, raw_header=job.header
        )
    return csv_response(body)
