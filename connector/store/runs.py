"""Run history: one row per job run, its per-stream counts and the records it skipped.

``status`` and ``last`` read it back; a run still ``running`` after its process died shows
what was in flight.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, cast

from sqlalchemy import Connection, insert, select, update

from connector.model import JsonDict, RecordIssue
from connector.store.schema import record_errors, run_streams, runs

RunStatus = Literal["running", "completed", "stopped", "failed"]


@dataclass(frozen=True)
class RunStream:
    """What one stream did in a run, as recorded."""

    stream: str
    records: int = 0
    deleted: int = 0
    issues: int = 0
    api_calls: int = 0
    seconds: float = 0.0
    status: str = "completed"
    note: str | None = None


@dataclass(frozen=True)
class Run:
    """One run as recorded, with its streams in the order they were added."""

    id: int
    job: str
    started_at: datetime
    ended_at: datetime | None
    status: RunStatus
    summary: JsonDict | None
    api_calls: int
    api_usage: str | None
    error: str | None
    streams: tuple[RunStream, ...] = ()


def start(conn: Connection, job: str, *, started_at: datetime | None = None) -> int:
    """Record a run as started; returns its id."""
    values = {"job": job, "started_at": started_at or _now(), "status": "running", "api_calls": 0}
    key = conn.execute(insert(runs).values(values)).inserted_primary_key
    assert key is not None
    return int(key[0])


def finish(
    conn: Connection,
    run_id: int,
    status: RunStatus,
    summary: JsonDict | None = None,
    api_calls: int = 0,
    api_usage: str | None = None,
    error: str | None = None,
    *,
    ended_at: datetime | None = None,
) -> None:
    """Close a run with its outcome (``error`` already redacted by the caller)."""
    values = {
        "ended_at": ended_at or _now(),
        "status": status,
        "summary": summary,
        "api_calls": api_calls,
        "api_usage": api_usage,
        "error": error,
    }
    conn.execute(update(runs).where(runs.c.id == run_id).values(values))


def add_stream(
    conn: Connection,
    run_id: int,
    stream: str,
    *,
    records: int = 0,
    deleted: int = 0,
    issues: int = 0,
    api_calls: int = 0,
    seconds: float = 0.0,
    status: str = "completed",
    note: str | None = None,
) -> None:
    """Record one stream's counts for the run (``status``: completed, stopped, failed, ...)."""
    values = {
        "run_id": run_id,
        "stream": stream,
        "records": records,
        "deleted": deleted,
        "issues": issues,
        "api_calls": api_calls,
        "seconds": seconds,
        "status": status,
        "note": note,
    }
    conn.execute(insert(run_streams).values(values))


def add_record_errors(
    conn: Connection,
    run_id: int,
    stream: str,
    issues: Sequence[RecordIssue],
    *,
    at: datetime | None = None,
) -> int:
    """Store the records a stream skipped, so they can be listed and retried; returns the count."""
    if not issues:
        return 0
    when = at or _now()
    rows = [
        {
            "run_id": run_id,
            "stream": stream,
            "record_id": issue.record_id,
            "code": issue.code,
            "message": issue.reason,
            "at": when,
        }
        for issue in issues
    ]
    conn.execute(insert(record_errors), rows)
    return len(rows)


def last(conn: Connection, job: str | None = None, n: int = 10) -> list[Run]:
    """The ``n`` most recent runs (of ``job``, if given), newest first."""
    query = select(runs).order_by(runs.c.id.desc()).limit(n)
    if job is not None:
        query = query.where(runs.c.job == job)
    found = conn.execute(query).mappings().all()
    streams = _streams(conn, [row["id"] for row in found])
    return [_run(row, streams.get(row["id"], ())) for row in found]


def _streams(conn: Connection, run_ids: Sequence[int]) -> dict[int, tuple[RunStream, ...]]:
    if not run_ids:
        return {}
    query = select(run_streams).where(run_streams.c.run_id.in_(run_ids)).order_by(run_streams.c.id)
    by_run: dict[int, list[RunStream]] = {}
    for row in conn.execute(query).mappings():
        fields = {k: v for k, v in row.items() if k not in ("id", "run_id")}
        by_run.setdefault(row["run_id"], []).append(RunStream(**fields))
    return {run_id: tuple(results) for run_id, results in by_run.items()}


def _run(row: Any, streams: tuple[RunStream, ...]) -> Run:
    return Run(
        id=row["id"],
        job=row["job"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        status=cast(RunStatus, row["status"]),
        summary=row["summary"],
        api_calls=row["api_calls"],
        api_usage=row["api_usage"],
        error=row["error"],
        streams=streams,
    )


def _now() -> datetime:
    return datetime.now(UTC)
