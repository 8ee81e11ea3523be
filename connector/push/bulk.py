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
import json
import logging
import re
import tempfile
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import IO, Any

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
class SpooledJob:
    """One job submitted from a ``Spool``: its rows' tags (``Spool.add``) in upload order."""

    job_id: str
    operation: str
    tags: list[int] = field(repr=False)


@dataclass(frozen=True)
class Finished:
    """A finished job's results as they are read: ``(key, result)``, the key being the key
    column's value (the External Id; the Id of an update by Id or a delete), and the code and
    message of a record no result names."""

    rows: Iterator[tuple[str, BulkResult]]
    leftover: tuple[str, str]


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


class Spool:
    """One object's writes on their way to ingest jobs, on disk as they are planned.

    A job's CSV built in memory (its records' bodies, rows and text at once) held a whole
    object's writes several times over: 170,000 personas at scale L. Each write is flattened
    as it comes and kept as a line of JSON in a temporary file, with the columns seen so far;
    ``BulkWriter.submit_spool`` writes the CSV from it (the header is known only at the end)
    and uploads each job's file. Rows carry a caller's ``tag`` (an outbox row id).
    """

    def __init__(
        self,
        target: Target,
        targets: Mapping[str, Target],
        now: datetime,
        polymorphic: Collection[str] = POLYMORPHIC,
    ) -> None:
        self.target, self.targets, self.now, self.polymorphic = target, targets, now, polymorphic
        self.headers: dict[str, list[str]] = {}  # kind of write -> columns, in first-seen order
        self._seen: dict[str, set[str]] = {}
        self.count = 0
        # Open as long as the spool: closed by ``close`` or when it is collected.
        self._file: IO[str] = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115

    def add(self, w: Write, tag: int) -> None:
        """One write, flattened to its CSV cells (``to_csv``'s), after the ones before it."""
        t, how = self.target, kind(w, self.target)
        crm_id = str(w.crm_id or "") if how != "upsert" else ""
        if how == "delete":
            cells = {"Id": crm_id}
        else:
            cells = _flatten(record(w, t, self.targets, self.now), self.polymorphic)
        header = self.headers.setdefault(how, [_key_column(t, how)])
        seen = self._seen.setdefault(how, set(header))
        for column in cells:
            if column not in seen:
                seen.add(column)
                header.append(column)
        self._file.write(json.dumps([how, tag, w.external_id, crm_id, cells]))
        self._file.write("\n")
        self.count += 1

    def rows(self, how: str) -> Iterator[tuple[int, str, str, list[str]]]:
        """``(tag, External Id, Id, cells in header order)`` of one kind's writes, in order."""
        header = self.headers[how]
        self._file.flush()
        self._file.seek(0)
        for line in self._file:
            row_how, tag, ext, crm_id, cells = json.loads(line)
            if row_how == how:
                yield tag, ext, crm_id, [cells.get(c, "") for c in header]

    def close(self) -> None:
        self._file.close()


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

    def spool(self, target: Target, now: datetime) -> Spool:
        """An empty ``Spool`` for ``target``'s writes, to fill and ``submit_spool``."""
        return Spool(target, self.targets, now)

    def submit(self, target: Target, writes: Sequence[Write], now: datetime) -> list[BulkJob]:
        """One job per kind of write (and per 100 MB of CSV): created, uploaded, closed."""
        spool = self.spool(target, now)
        try:
            for i, w in enumerate(writes):
                spool.add(w, i)
            sent = self.submit_spool(spool)
        finally:
            spool.close()
        return [
            BulkJob(
                job_id=job.job_id,
                target=target.output,
                external_ids=tuple(writes[i].external_id for i in job.tags),
                operation=job.operation,
                crm_ids=(
                    tuple(str(writes[i].crm_id or "") for i in job.tags)
                    if job.operation != "upsert"
                    else ()
                ),
            )
            for job in sent
        ]

    def submit_spool(self, spool: Spool) -> list[SpooledJob]:
        """A spool's writes as jobs, one per kind of write and per ``max_upload_bytes`` of CSV,
        each written to a temporary file and uploaded from it."""
        jobs: list[SpooledJob] = []
        for how, header in spool.headers.items():
            head = _line(header).encode("utf-8")
            upload: IO[bytes] | None = None
            tags: list[int] = []
            size = 0
            for tag, _ext, _crm_id, cells in spool.rows(how):
                line = _line(cells).encode("utf-8")
                if upload is not None and tags and size + len(line) > self.max_upload_bytes:
                    jobs.append(self._submit_file(spool.target, how, upload, tags))
                    upload, tags = None, []
                if upload is None:
                    upload = tempfile.TemporaryFile("w+b")  # noqa: SIM115 (closed below)
                    upload.write(head)
                    size = len(head)
                upload.write(line)
                size += len(line)
                tags.append(tag)
            if upload is not None:
                jobs.append(self._submit_file(spool.target, how, upload, tags))
        return jobs

    def _submit_file(self, t: Target, how: str, upload: IO[bytes], tags: list[int]) -> SpooledJob:
        """Create the job, upload ``upload`` (closed after), close the job."""
        with upload:
            external_field = t.external_id if how == "upsert" else None
            job_id = self.client.bulk_ingest_create(t.sobject, how, external_field)
            try:
                self.client.bulk_ingest_upload(job_id, upload)
                self._close(job_id)
            except BaseException:
                self._abort_quietly(job_id)
                raise
        return SpooledJob(job_id, how, tags)

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
        """None while the job runs; else one result per write, in the job's order
        (``finished``, matched to the writes by the key column)."""
        done = self.finished(job.job_id, job.target, job.operation, len(job.external_ids))
        if done is None:
            return None
        keys = self._keys(job)
        found: dict[str, list[BulkResult]] = {}
        for key, result in done.rows:
            ext = keys.get(key)
            if ext is not None:
                found.setdefault(ext, []).append(replace(result, external_id=ext))
        out: list[BulkResult] = []
        code, message = done.leftover
        for ext in job.external_ids:
            mine = found.get(ext)
            out.append(mine.pop(0) if mine else BulkResult(ext, False, code=code, message=message))
        return out

    def finished(self, job_id: str, target: str, operation: str, size: int) -> Finished | None:
        """None while the job (of ``size`` records) runs; else its results, read a row at a
        time from its result files, each downloaded to a temporary file first.

        A finished job's records come from its result files (fetched only when its counts say
        they hold rows); a failed or aborted job fails every record it did not process with
        its ``errorMessage``, as ``BULK_JOB_FAILED``.
        """
        info = self.client.bulk_ingest_status(job_id)
        state = str(info.get("state"))
        if state in PENDING:
            return None
        processed = _int(info.get("numberRecordsProcessed"))
        failed = _int(info.get("numberRecordsFailed"))
        wanted: list[str] = []
        if processed is None or failed is None or processed > failed:
            wanted.append("successfulResults")
        if failed is None or failed > 0:
            wanted.append("failedResults")
        files: list[tuple[str, IO[str]]] = []
        if state == COMPLETE:
            if processed is None or processed < size:
                wanted.append("unprocessedrecords")
            files = [(which, self.client.bulk_ingest_results(job_id, which)) for which in wanted]
            leftover = ("NO_RESULT", f"Bulk job {job_id} reported nothing for this record")
        else:
            try:  # records written before the job failed keep their results
                for which in wanted if processed != 0 else []:
                    files.append((which, self.client.bulk_ingest_results(job_id, which)))
            except FatalApiError as exc:  # a failed job's files are a bonus; without, all fail
                log.warning("no results for failed bulk job %s: %s", job_id, exc)
            message = str(info.get("errorMessage") or f"Bulk job {job_id} ended {state}")
            leftover = ("BULK_JOB_FAILED", message)
        return Finished(self._rows(job_id, target, operation, files), leftover)

    def _rows(
        self, job_id: str, target: str, operation: str, files: Sequence[tuple[str, IO[str]]]
    ) -> Iterator[tuple[str, BulkResult]]:
        key_column = str(self.targets[target].external_id) if operation == "upsert" else "Id"
        try:
            for which, text in files:
                for row in csv.DictReader(text):
                    key = _column(row, key_column) or ""
                    yield key, _result(job_id, operation, which, key, row)
        finally:
            for _, text in files:
                text.close()

    def _keys(self, job: BulkJob) -> dict[str, str]:
        """The key column's value -> the write's External Id."""
        if job.operation == "upsert":
            return {e: e for e in job.external_ids}
        return dict(zip(job.crm_ids, job.external_ids, strict=True))


def _result(
    job_id: str, operation: str, which: str, key: str, row: Mapping[str, str]
) -> BulkResult:
    """One result row as a ``BulkResult`` whose ``external_id`` is the row's ``key``."""
    crm_id = row.get("sf__Id") or None
    if which == "successfulResults":
        return BulkResult(key, True, crm_id=crm_id or _column(row, "Id"))
    if which == "unprocessedrecords":
        message = f"not processed by Bulk job {job_id}"
        return BulkResult(key, False, code="UNPROCESSED", message=message)
    code, message = parse_error(row.get("sf__Error") or "")
    if operation == "delete" and code in ALREADY_DELETED:
        return BulkResult(key, True, crm_id=crm_id or _column(row, "Id"))
    return BulkResult(key, False, crm_id=crm_id, code=code, message=message[:1000])


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
