"""Background jobs (``create_many``, ``update_many``) and the job_status records that report them.

Job Statuses API reference: a queued job answers ``{"job_status": {id, url, status, total,
progress, message, results}}``; status is queued, working, failed or completed; ``results`` lists
``{"index", "id"}`` per created record and ``{"id", "action": "update", "success": true,
"status": "Updated"}`` per updated one (a failed item carries ``error`` and ``details``). A job
completes ``faults.job_seconds`` after it is queued. Nothing runs in a thread: whatever is due is
run the next time anyone asks the emulator anything, stamped with its due time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from connector.sandbox.zendesk.http import ApiError, bad_request
from connector.sandbox.zendesk.store import MICROS, IdClock, Record
from connector.sandbox.zendesk.tickets import Actor, TicketWriter

BULK_MAX = 100  # "Accepts an array of up to 100 ticket objects"

Work = Callable[[int], list[Record]]


@dataclass
class Job:
    """One background job; ``work`` runs once, at or after ``due_us``."""

    id: str
    job_type: str
    total: int
    due_us: int
    work: Work | None
    status: str = "queued"
    progress: int = 0
    results: list[Record] | None = None
    message: str | None = None


class JobQueue:
    """Jobs of one account, in the order they were queued."""

    def __init__(self, base_url: str, clock: IdClock) -> None:
        self._base = base_url
        self._clock = clock
        self._jobs: dict[str, Job] = {}
        self._count = 0

    def submit(self, job_type: str, total: int, work: Work, seconds: float) -> Job:
        self._count += 1
        job_id = hashlib.sha1(f"job-{self._count}".encode()).hexdigest()[:32]
        due = self._clock.now_us() + int(max(0.0, seconds) * MICROS)
        job = Job(job_id, job_type, total, due, work)
        self._jobs[job_id] = job
        return job

    def run_due(self) -> int:
        """Run every queued job whose time has come; returns how many ran."""
        now = self._clock.now_us()
        due = [j for j in self._jobs.values() if j.work is not None and j.due_us <= now]
        for job in due:
            work, job.work = job.work, None
            assert work is not None
            job.results = work(job.due_us)
            job.progress = job.total
            job.status = "completed"
            stamp = datetime.fromtimestamp(job.due_us / MICROS, UTC)
            job.message = f"Completed at {stamp:%Y-%m-%d %H:%M:%S} +0000"
        return len(due)

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def all(self) -> list[Job]:
        return list(self._jobs.values())

    def as_json(self, job: Job) -> Record:
        return {
            "id": job.id,
            "url": f"{self._base}/api/v2/job_statuses/{job.id}.json",
            "job_type": job.job_type,
            "total": job.total,
            "progress": job.progress,
            "status": job.status,
            "message": job.message,
            "results": job.results,
        }


def too_many(name: str, count: int) -> ApiError | None:
    """The 400 for more than 100 items in one bulk call, else None."""
    if count <= BULK_MAX:
        return None
    return bad_request(
        "TooManyValues",
        f"Parameter {name} cannot specify more than {BULK_MAX} values",
        max_count=BULK_MAX,
    )


def _details(error: ApiError) -> str:
    """The first human-readable message of an error body."""
    for items in (error.body.get("details") or {}).values():
        for item in items:
            return str(item.get("description", ""))
    return str(error.body.get("description", ""))


def bulk_create(writer: TicketWriter, payloads: list[dict[str, Any]], actor: Actor) -> Work:
    """The work of ``tickets/create_many``: one ``{"index", "id"}`` result per ticket."""

    def run(at_us: int) -> list[Record]:
        results: list[Record] = []
        for index, payload in enumerate(payloads):
            try:
                ticket, _ = writer.create(payload, actor, at_us)
            except ApiError as err:
                results.append(
                    {"index": index, "error": "TicketCreateFailed", "details": _details(err)}
                )
                continue
            results.append({"index": index, "id": ticket["id"]})
        return results

    return run


def bulk_update(
    writer: TicketWriter, changes: list[tuple[int, dict[str, Any]]], actor: Actor
) -> Work:
    """The work of ``tickets/update_many``: one update result per ticket id."""

    def run(at_us: int) -> list[Record]:
        results: list[Record] = []
        for index, (ticket_id, payload) in enumerate(changes):
            try:
                writer.update(ticket_id, payload, actor, at_us)
            except ApiError as err:
                results.append(
                    {
                        "index": index,
                        "id": ticket_id,
                        "error": "TicketUpdateFailed",
                        "details": _details(err),
                    }
                )
                continue
            results.append(
                {"id": ticket_id, "action": "update", "success": True, "status": "Updated"}
            )
        return results

    return run
