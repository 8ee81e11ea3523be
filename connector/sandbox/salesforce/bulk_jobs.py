"""Bulk API 2.0 jobs as the sandbox keeps them, and the JSON job info Salesforce answers with.

Key names, their order and the creation-time subset follow the Bulk API 2.0 Developer Guide
("Create a Job", "Create a Query Job", "Get Information About an Ingest Job", "Get Information
About a Query Job", "Get All Jobs"). Times are the sandbox clock in the API's ``+0000`` form.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Response

QUERY, INGEST = "V2Query", "V2Ingest"
OPEN, UPLOAD_COMPLETE, IN_PROGRESS = "Open", "UploadComplete", "InProgress"
COMPLETE, FAILED, ABORTED = "JobComplete", "Failed", "Aborted"
FINAL = frozenset({COMPLETE, FAILED, ABORTED})


@dataclass
class BulkJob:
    """One query or ingest job; a query job holds its CSV snapshot, an ingest job its data."""

    id: str
    job_type: str
    operation: str
    object: str
    created_by: str
    created_at: datetime
    api_version: str  # "62.0"
    column_delimiter: str = "COMMA"
    line_ending: str = "LF"
    external_id_field: str | None = None
    state: str = OPEN
    modstamp: datetime | None = None
    queued_at: datetime | None = None  # created (query) or closed (ingest)
    ready_at: datetime | None = None  # when processing ends: queued_at + job_seconds
    error_message: str | None = None
    processed: int = 0
    failed: int = 0
    processing_ms: int = 0
    header: list[str] = field(default_factory=list)  # query: select list; ingest: uploaded
    rows: list[list[str]] = field(default_factory=list)  # query results or uploaded rows
    kinds: list[str] = field(default_factory=list)  # query: value kind per column
    uploaded: bool = False
    data: bytes = b""  # ingest: the one CSV upload, parsed when the job is processed
    successful: list[list[str]] = field(default_factory=list)
    failures: list[list[str]] = field(default_factory=list)
    unprocessed: list[list[str]] = field(default_factory=list)

    @property
    def is_query(self) -> bool:
        return self.job_type == QUERY

    def touch(self, now: datetime) -> None:
        self.modstamp = now


def wire_time(moment: datetime | None) -> str | None:
    """``2022-01-02T17:38:59.000+0000``."""
    if moment is None:
        return None
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def job_info(job: BulkJob, *, detail: bool) -> dict[str, Any]:
    """The job as JSON: the create/close answer (``detail`` False) or Get Job Info's."""
    info: dict[str, Any] = {
        "id": job.id,
        "operation": job.operation,
        "object": job.object,
        "createdById": job.created_by,
        "createdDate": wire_time(job.created_at),
        "systemModstamp": wire_time(job.modstamp or job.created_at),
        "state": job.state,
    }
    if job.external_id_field and not job.is_query:
        info["externalIdFieldName"] = job.external_id_field
    info.update(concurrencyMode="Parallel", contentType="CSV", apiVersion=float(job.api_version))
    if detail:
        info["jobType"] = job.job_type
    if not job.is_query and (not detail or job.state == OPEN):
        info["contentUrl"] = f"services/data/v{job.api_version}/jobs/ingest/{job.id}/batches"
    info.update(lineEnding=job.line_ending, columnDelimiter=job.column_delimiter)
    if detail:
        info["numberRecordsProcessed"] = job.processed
        if not job.is_query:
            info["numberRecordsFailed"] = job.failed
        info.update(retries=0, totalProcessingTime=job.processing_ms)
        if job.is_query:
            info["isPkChunkingSupported"] = True
        else:
            info.update(apiActiveProcessingTime=job.processing_ms, apexProcessingTime=0)
        if job.error_message:
            info["errorMessage"] = job.error_message
    return info


def list_info(job: BulkJob) -> dict[str, Any]:
    """One entry of Get All Jobs: the job info without the record counts."""
    info = job_info(job, detail=False)
    info["jobType"] = job.job_type
    return info


def json_response(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json;charset=UTF-8")


def error(status: int, code: str, message: str) -> Response:
    """The REST error body: a list of ``{errorCode, message}``."""
    return json_response([{"errorCode": code, "message": message}], status)


def not_found() -> Response:
    return error(404, "NOT_FOUND", "The requested resource does not exist")


def csv_response(body: bytes, headers: dict[str, str] | None = None) -> Response:
    return Response(body, status=200, headers=headers, content_type="text/csv")
