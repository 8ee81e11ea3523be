"""Bulk API 2.0 (``/services/data/vXX.X/jobs/query|ingest``) for the Salesforce emulator.

Jobs advance lazily: when a request touches a queued job, it is ``InProgress`` until
``faults.job_seconds`` have passed since it was queued, then it completes (an ingest job writes
its rows in that request, which therefore reports them as written) or, with the
``fail_bulk_jobs`` fault, ends ``Failed`` with an ``errorMessage``. No background threads, so
a test with a fake clock controls every transition.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from werkzeug.wrappers import Response

from connector.sandbox.ids import IdMinter
from connector.sandbox.salesforce import bulk_ingest as ingest
from connector.sandbox.salesforce import bulk_query as query
from connector.sandbox.salesforce.auth import AuthenticatedSession
from connector.sandbox.salesforce.bulk_jobs import (
    ABORTED,
    COMPLETE,
    FAILED,
    FINAL,
    IN_PROGRESS,
    INGEST,
    OPEN,
    QUERY,
    UPLOAD_COMPLETE,
    BulkJob,
    error,
    job_info,
    json_response,
    list_info,
    not_found,
)
from connector.sandbox.salesforce.store import Org
from connector.sandbox.state import RequestCtx, SandboxState

LIST_PAGE = 1000
_KINDS = {"query": QUERY, "ingest": INGEST}


class BulkApi:
    """The jobs of one org; ``handle`` answers every request under ``.../jobs/``."""

    def __init__(self, state: SandboxState, org: Org) -> None:
        self.state = state
        self.org = org
        self._jobs: dict[str, BulkJob] = {}
        self._minter = IdMinter()

    def reset(self) -> None:
        """Forget every job (a sandbox reset)."""
        with self.state.lock:
            self._jobs.clear()

    def handle(self, ctx: RequestCtx, version: str, session: AuthenticatedSession) -> Response:
        """Route ``jobs/<query|ingest>[/<id>[/<resource>]]`` by method."""
        version = version.removeprefix("v")
        _, _, rest = ctx.request.path.partition("/jobs/")
        parts = [p for p in rest.split("/") if p]
        if not parts or parts[0] not in _KINDS or len(parts) > 3:
            return not_found()
        job_type, method = _KINDS[parts[0]], ctx.request.method
        with self.state.lock:
            if len(parts) == 1:
                if method == "POST":
                    return self._create(ctx, job_type, version, session)
                if method == "GET":
                    return self._list(ctx, job_type, version)
                return _not_allowed(method, "GET,POST")
            job = self._jobs.get(parts[1])
            if job is None or job.job_type != job_type:
                return not_found()
            self._advance(ctx, job)
            if len(parts) == 2:
                return self._job(ctx, job)
            return self._resource(ctx, job, parts[2].lower(), version)

    # -- collection -----------------------------------------------------------------------
    def _create(
        self, ctx: RequestCtx, job_type: str, version: str, session: AuthenticatedSession
    ) -> Response:
        body = _json_body(ctx)
        if body is None:
            return error(400, "JSON_PARSER_ERROR", "The request body is not a JSON object")
        make = query.create_query_job if job_type == QUERY else ingest.create_ingest_job
        created = make(
            self.org,
            body,
            job_id=self._minter.mint("750"),
            user_id=session.user_id,
            version=version,
            now=self.state.now(),
        )
        if isinstance(created, Response):
            return created
        self._jobs[created.id] = created
        if created.is_query:
            self._queue(created)
        return json_response(job_info(created, detail=False))

    def _list(self, ctx: RequestCtx, job_type: str, version: str) -> Response:
        """Get All Jobs, oldest first, 1,000 a page with a ``queryLocator`` to the next."""
        for job in list(self._jobs.values()):
            self._advance(ctx, job)
        wanted = ctx.request.args.get("jobType") or job_type
        jobs = [j for j in self._jobs.values() if j.job_type == wanted]
        try:
            start = int(ctx.request.args.get("queryLocator") or 0)
        except ValueError:
            return error(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        page = jobs[start : start + LIST_PAGE]
        done = start + LIST_PAGE >= len(jobs)
        kind = "query" if job_type == QUERY else "ingest"
        next_url = (
            None
            if done
            else (f"/services/data/v{version}/jobs/{kind}?queryLocator={start + LIST_PAGE}")
        )
        return json_response(
            {"done": done, "records": [list_info(j) for j in page], "nextRecordsUrl": next_url}
        )

    # -- one job --------------------------------------------------------------------------
    def _job(self, ctx: RequestCtx, job: BulkJob) -> Response:
        method = ctx.request.method
        if method == "GET":
            return json_response(job_info(job, detail=True))
        if method == "PATCH":
            return self._change_state(ctx, job)
        if method == "DELETE":
            deletable = FINAL if job.is_query else FINAL | {UPLOAD_COMPLETE}
            if job.state not in deletable:
                return error(
                    400,
                    "INVALIDJOBSTATE",
                    f"InvalidJobState : Job {job.id} can't "
                    f"be deleted while its state is {job.state}",
                )
            del self._jobs[job.id]
            return Response(status=204)
        return _not_allowed(method, "GET,PATCH,DELETE")

    def _change_state(self, ctx: RequestCtx, job: BulkJob) -> Response:
        """Close (ingest, from Open) or abort (any unfinished job)."""
        body = _json_body(ctx) or {}
        wanted = body.get("state")
        now = self.state.now()
        if wanted == ABORTED and job.state not in FINAL:
            job.state = ABORTED
            if not job.is_query:
                ingest.leave_unprocessed(job)
        elif wanted == UPLOAD_COMPLETE and not job.is_query and job.state == OPEN:
            self._queue(job)
        else:
            return error(
                400,
                "INVALIDJOBSTATE",
                f"InvalidJobState : Can't change the state of "
                f"job {job.id} from {job.state} to {wanted}",
            )
        job.touch(now)
        return json_response(job_info(job, detail=False))

    def _resource(self, ctx: RequestCtx, job: BulkJob, name: str, version: str) -> Response:
        method = ctx.request.method
        if job.is_query and name == "results":
            if method != "GET":
                return _not_allowed(method, "GET")
            if job.api_version != version:
                return error(
                    409,
                    "INVALIDJOB",
                    "InvalidJob : Use the API version the job was "
                    f"created with (v{job.api_version}) to get its results",
                )
            if job.state != COMPLETE:
                return error(
                    412,
                    "JOB_NOT_COMPLETE",
                    "can only download query results of "
                    "successfully completed bulk job with status: JOB_COMPLETE. "
                    f"Current status: {_upper(job.state)}",
                )
            response, count = query.results_page(job, ctx.request.args)
            ctx.read(count)
            return response
        if not job.is_query and name == "batches":
            if method != "PUT":
                return _not_allowed(method, "PUT")
            return ingest.upload(job, ctx.request.get_data())
        if not job.is_query and name in ingest.RESULTS:
            return ingest.results(job, name) if method == "GET" else _not_allowed(method, "GET")
        return not_found()

    # -- time -----------------------------------------------------------------------------
    def _queue(self, job: BulkJob) -> None:
        now = self.state.now()
        job.state, job.queued_at = UPLOAD_COMPLETE, now
        job.ready_at = now + timedelta(seconds=self.state.faults.settings.job_seconds)
        job.touch(now)

    def _advance(self, ctx: RequestCtx, job: BulkJob) -> None:
        """Move a queued job on by the clock; finishing an ingest job writes its rows."""
        if job.state not in (UPLOAD_COMPLETE, IN_PROGRESS) or job.ready_at is None:
            return
        now = self.state.now()
        if now < job.ready_at:
            if job.state != IN_PROGRESS:
                job.state = IN_PROGRESS
                job.touch(now)
            return
        if self.state.faults.settings.fail_bulk_jobs:
            job.state, job.error_message = (
                FAILED,
                ("InternalServerError : The job failed in the sandbox (fail_bulk_jobs fault)"),
            )
            if not job.is_query:
                ingest.leave_unprocessed(job)
        elif job.is_query:
            job.state, job.processed = COMPLETE, len(job.rows)
        else:
            ctx.wrote(ingest.process(job, self.org))
        job.processing_ms = _millis(now - (job.queued_at or now))
        job.touch(now)


def _json_body(ctx: RequestCtx) -> dict[str, Any] | None:
    try:
        body = json.loads(ctx.request.get_data() or b"{}")
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _not_allowed(method: str, allowed: str) -> Response:
    return error(
        405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed. Allowed are {allowed}"
    )


def _upper(state: str) -> str:
    """``InProgress`` -> ``IN_PROGRESS``, as the 412 message spells states."""
    return "".join(f"_{c}" if c.isupper() and i else c for i, c in enumerate(state)).upper()


def _millis(delta: timedelta) -> int:
    return max(0, int(delta.total_seconds() * 1000))


__all__ = ["BulkApi"]
