"""Large plans through Bulk API 2.0 ingest jobs: submitted in one cycle, collected in a later one.

``submit`` creates a job, makes its one upload and closes it (three calls), and returns at once;
the caller stores the ``BulkJob`` and ``poll``s it on later cycles (one status call, then up to
three result calls once it has finished). Nothing here waits for Salesforce.

The CSV follows the Bulk API 2.0 Developer Guide: "Prepare CSV Files" (UTF-8, comma, LF; an
empty cell leaves a field alone and ``#N/A`` sets it to null), "Valid Date Format in Records"
(``yyyy-MM-dd``; datetimes ``yyyy-MM-ddTHH:mm:ss.SSSZ``) and "Relationship Fields in a Header
Row (2.0)": a parent named by External Id is a column ``CTA__r.Sync_Key__c``, and a polymorphic
one names the parent's object first, ``CS_CTA__c:What.Sync_Key__c``. "Upload Job Data" allows
150 MB of base64 per job, about 100 MB of CSV, and one upload per job: a larger plan is split
into several jobs. Results echo the uploaded columns after ``sf__Id`` and ``sf__Created`` (or
``sf__Error``, ``CODE:message:fields``), in no particular order, so they are matched to writes
by the External Id column (``Id`` for updates by Id and deletes).
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from connector.errors import ApiError, FatalApiError
from connector.push.salesforce import ALREADY_DELETED, kind, record
from connector.reconcile.model import Write
from connector.sources.salesforce.client import SalesforceClient
from connector.targets import Target

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 100_000_000  # "Upload Job Data": 150 MB once base64-encoded
NULL = "#N/A"
# Relationships that can point at more than one object; their headers name the parent's type.
POLYMORPHIC = frozenset({"What", "Who"})
PENDING = frozenset({"Open", "UploadComplete", "InProgress"})
COMPLETE = "JobComplete"
_REST_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?[+-]\d{4}$")
_CODE = re.compile(r"^[A-Z][A-Z0-9_]*$")


@dataclass(frozen=True)
class BulkJob:
    """One submitted ingest job, as the caller stores it until ``poll`` has its results.

    ``external_ids`` are the writes' keys in upload order; ``crm_ids`` (updates by Id and
    deletes) are their record Ids in the same order, which is what those results echo.
    """

    job_id: str
    target: str
    external_ids: tuple[str, ...]
    operation: str = "upsert"
    crm_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class BulkResult:
    """One write's outcome: its record Id, or the org's status code and message."""

    external_id: str
    ok: bool
    crm_id: str | None = None
    code: str | None = None
    message: str | None = None


# -- CSV ------------------------------------------------------------------------------------
def to_csv(
    target: Target,
    writes: Sequence[Write],
    targets: Mapping[str, Target],
    now: datetime,
    *,
    polymorphic: Collection[str] = POLYMORPHIC,
) -> str:
    """The upload for ``writes`` (all travelling the same way): ``record()`` bodies, flattened."""
    header, rows = _table(target, writes, targets, now, polymorphic)
    return _line(header) + "".join(_line(row) for row in rows)


def _table(
    t: Target,
    writes: Sequence[Write],
    targets: Mapping[str, Target],
    now: datetime,
    polymorphic: Collection[str],
) -> tuple[list[str], list[list[str]]]:
    hows = {kind(w, t) for w in writes}
    if len(hows) > 1:
        raise ValueError(f"{t.output}: one CSV per kind of write, got {sorted(hows)}")
    how = hows.pop() if hows else ("update" if t.by_id else "upsert")
    flat: list[dict[str, str]] = []
    for w in writes:
        if how == "delete":
            flat.append({"Id": str(w.crm_id or "")})
        else:
            flat.append(_flatten(record(w, t, targets, now), polymorphic))
    header = [_key_column(t, how)]
    for row in flat:
        header.extend(c for c in row if c not in header)
    return header, [[row.get(c, "") for c in header] for row in flat]


def _key_column(t: Target, how: str) -> str:
    if how == "upsert":
        assert t.external_id is not None
        return t.external_id
    return "Id"


def _flatten(body: Mapping[str, Any], polymorphic: Collection[str]) -> dict[str, str]:
    """Columns of one record body; a nested parent reference becomes ``[Type:]Rel.Field``."""
    out: dict[str, str] = {}
    for name, value in body.items():
        if name == "attributes":
            continue
        if not isinstance(value, Mapping):
            out[name] = _cell(value)
            continue
        parent_type = (value.get("attributes") or {}).get("type")
        keys = [k for k in value if k != "attributes"]
        if len(keys) != 1:
            raise ValueError(f"{name}: a parent reference names exactly one field")
        prefix = f"{parent_type}:" if parent_type and name in polymorphic else ""
        out[f"{prefix}{name}.{keys[0]}"] = _cell(value[keys[0]])
    return out


def _cell(value: Any) -> str:
    """One value as uploaded text; a field set to null (or blank) is ``#N/A``."""
    if value is None or value == "":
        return NULL
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return _bulk_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):  # a multi-select picklist
        return ";".join(str(v) for v in value) or NULL
    text = str(value)
    if _REST_DATETIME.match(text):  # the REST form ``...+0000``: Bulk documents ``Z``/``+HH:mm``
        return _bulk_datetime(datetime.fromisoformat(text))
    return text.replace("\r\n", "\n")  # the job's line ending is LF, inside values too


def _bulk_datetime(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _line(cells: Sequence[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(cells)
    return out.getvalue()


def parse_error(text: str) -> tuple[str, str]:
    """``sf__Error`` (``STATUS_CODE:message:Field1,Field2 --``) as ``(code, message)``."""
    code, sep, rest = text.partition(":")
    if not sep or not _CODE.match(code):
        return "UNKNOWN_ERROR", text.strip()
    message, sep, fields = rest.rpartition(":")
    if sep and fields.strip().endswith("--"):
        return code, message.strip()
    return code, rest.strip()


# -- jobs ------------------------------------------------------------------------------------
class BulkWriter:
    """Submits writes as Bulk API 2.0 ingest jobs and turns finished jobs into results."""

    def __init__(
        self,
        client: SalesforceClient,
        targets: Mapping[str, Target],
        *,
        max_upload_bytes: int = MAX_UPLOAD_BYTES,
    ) -> None:
        self.client = client
        self.targets = targets
        self.max_upload_bytes = max_upload_bytes

    def submit(self, target: Target, writes: Sequence[Write], now: datetime) -> list[BulkJob]:
        """One job per kind of write (and per 100 MB of CSV): created, uploaded, closed."""
        groups: dict[str, list[Write]] = {}
        for w in writes:
            groups.setdefault(kind(w, target), []).append(w)
        jobs: list[BulkJob] = []
        for how, group in groups.items():
            header, rows = _table(target, group, self.targets, now, POLYMORPHIC)
            for start, end, text in self._uploads(header, rows):
                jobs.append(self._submit_one(target, how, group[start:end], text))
        return jobs

    def _uploads(self, header: list[str], rows: list[list[str]]) -> list[tuple[int, int, str]]:
        """``(first, end, csv)`` per upload, each at most ``max_upload_bytes`` when encoded."""
        head = _line(header)
        out: list[tuple[int, int, str]] = []
        start, size, lines = 0, len(head.encode("utf-8")), [head]
        for i, row in enumerate(rows):
            line = _line(row)
            length = len(line.encode("utf-8"))
            if i > start and size + length > self.max_upload_bytes:
                out.append((start, i, "".join(lines)))
                start, size, lines = i, len(head.encode("utf-8")), [head]
            lines.append(line)
            size += length
        if len(rows) > start:
            out.append((start, len(rows), "".join(lines)))
        return out

    def _submit_one(self, t: Target, how: str, writes: Sequence[Write], text: str) -> BulkJob:
        external_field = t.external_id if how == "upsert" else None
        job_id = self.client.bulk_ingest_create(t.sobject, how, external_field)
        try:
            self.client.bulk_ingest_upload(job_id, text)
            self._close(job_id)
        except BaseException:
            self._abort_quietly(job_id)
            raise
        by_id = how != "upsert"
        return BulkJob(
            job_id=job_id,
            target=t.output,
            external_ids=tuple(w.external_id for w in writes),
            operation=how,
            crm_ids=tuple(str(w.crm_id or "") for w in writes) if by_id else (),
        )

    def _close(self, job_id: str) -> None:
        """Close the job; a close whose answer was lost (the job is queued already) is fine."""
        try:
            self.client.bulk_ingest_close(job_id)
        except ApiError:
            state = self.client.bulk_ingest_status(job_id).get("state")
            if state in (None, "Open", "Aborted", "Failed"):
                raise

    def _abort_quietly(self, job_id: str) -> None:
        try:
            self.client.bulk_ingest_abort(job_id)
        except Exception as exc:  # the original failure matters more; the job expires anyway
            log.warning("could not abort bulk job %s: %s", job_id, exc)

    def poll(self, job: BulkJob) -> list[BulkResult] | None:
        """None while the job runs; else one result per write, in the job's order.

        A finished job's records come from its result files (fetched only when its counts say
        they hold rows); a failed or aborted job fails every record it did not process with
        its ``errorMessage``, as ``BULK_JOB_FAILED``.
        """
        info = self.client.bulk_ingest_status(job.job_id)
        state = str(info.get("state"))
        if state in PENDING:
            return None
        processed = _int(info.get("numberRecordsProcessed"))
        failed = _int(info.get("numberRecordsFailed"))
        found: dict[str, list[BulkResult]] = {}
        wanted: list[str] = []
        if processed is None or failed is None or processed > failed:
            wanted.append("successfulResults")
        if failed is None or failed > 0:
            wanted.append("failedResults")
        if state == COMPLETE:
            if processed is None or processed < len(job.external_ids):
                wanted.append("unprocessedrecords")
            for which in wanted:
                self._collect(job, which, found)
            leftover = ("NO_RESULT", f"Bulk job {job.job_id} reported nothing for this record")
        else:
            if processed != 0:  # records written before the job failed keep their results
                self._collect_quietly(job, wanted, found)
            message = str(info.get("errorMessage") or f"Bulk job {job.job_id} ended {state}")
            leftover = ("BULK_JOB_FAILED", message)
        out: list[BulkResult] = []
        for ext in job.external_ids:
            mine = found.get(ext)
            if mine:
                out.append(mine.pop(0))
            else:
                out.append(BulkResult(ext, False, code=leftover[0], message=leftover[1]))
        return out

    def _collect_quietly(
        self, job: BulkJob, wanted: Sequence[str], found: dict[str, list[BulkResult]]
    ) -> None:
        try:
            for which in wanted:
                self._collect(job, which, found)
        except FatalApiError as exc:  # a failed job's files are a bonus; without them, all fail
            log.warning("no results for failed bulk job %s: %s", job.job_id, exc)

    def _collect(self, job: BulkJob, which: str, found: dict[str, list[BulkResult]]) -> None:
        rows = self.client.bulk_ingest_results(job.job_id, which)
        keys = self._keys(job)
        for row in rows:
            ext = keys.get(_column(row, self._key_column(job)) or "")
            if ext is None:
                continue
            found.setdefault(ext, []).append(self._result(job, which, ext, row))

    def _key_column(self, job: BulkJob) -> str:
        if job.operation == "upsert":
            return str(self.targets[job.target].external_id)
        return "Id"

    def _keys(self, job: BulkJob) -> dict[str, str]:
        """The key column's value -> the write's External Id."""
        if job.operation == "upsert":
            return {e: e for e in job.external_ids}
        return dict(zip(job.crm_ids, job.external_ids, strict=True))

    def _result(self, job: BulkJob, which: str, ext: str, row: Mapping[str, str]) -> BulkResult:
        crm_id = row.get("sf__Id") or None
        if which == "successfulResults":
            return BulkResult(ext, True, crm_id=crm_id or _column(row, "Id"))
        if which == "unprocessedrecords":
            message = f"not processed by Bulk job {job.job_id}"
            return BulkResult(ext, False, code="UNPROCESSED", message=message)
        code, message = parse_error(row.get("sf__Error") or "")
        if job.operation == "delete" and code in ALREADY_DELETED:
            return BulkResult(ext, True, crm_id=crm_id or _column(row, "Id"))
        return BulkResult(ext, False, crm_id=crm_id, code=code, message=message[:1000])


def _column(row: Mapping[str, str], name: str) -> str | None:
    """A row's value under ``name``, whatever the echoed header's case."""
    if name in row:
        return row[name] or None
    low = name.lower()
    return next((v or None for k, v in row.items() if k and k.lower() == low), None)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
