"""``cs-connector status``: the last runs per job, what is stuck in the outbox, who holds a lock.

``status(engine)`` reads the store into a plain dict (``--json`` prints it with
``json.dumps(..., default=str)``); ``render`` draws it as tables. Nothing here writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import Connection, Engine, func, select

from connector.store import runs
from connector.store.schema import job_locks, outbox, record_errors
from connector.store.schema import runs as runs_table

SETTLED = ("done", "superseded")  # outbox statuses that need nothing more


def status(engine: Engine, *, runs_per_job: int = 3, now: datetime | None = None) -> dict[str, Any]:
    """The store's state for an admin: runs per job (newest first), outbox backlog, locks."""
    at = now or datetime.now(UTC)
    with engine.connect() as conn:
        jobs = _jobs(conn, runs_per_job)
        backlog = _backlog(conn, at)
        held = _locks(conn, at)
    return {"generated_at": at, "jobs": jobs, "outbox": backlog, "locks": held}


def _jobs(conn: Connection, n: int) -> list[dict[str, Any]]:
    names = conn.execute(select(runs_table.c.job).distinct().order_by(runs_table.c.job))
    out: list[dict[str, Any]] = []
    for (job,) in names:
        found = runs.last(conn, job, n)
        errors = _error_counts(conn, [r.id for r in found])
        out.append({"job": job, "runs": [_run(r, errors.get(r.id, 0)) for r in found]})
    return out


def _error_counts(conn: Connection, run_ids: Sequence[int]) -> dict[int, int]:
    if not run_ids:
        return {}
    query = (
        select(record_errors.c.run_id, func.count())
        .where(record_errors.c.run_id.in_(run_ids))
        .group_by(record_errors.c.run_id)
    )
    return {int(run_id): int(count) for run_id, count in conn.execute(query)}


def _run(run: runs.Run, record_error_count: int) -> dict[str, Any]:
    duration = (run.ended_at - run.started_at).total_seconds() if run.ended_at else None
    return {
        "id": run.id,
        "status": run.status,
        "started_at": run.started_at,
        "ended_at": run.ended_at,
        "duration_seconds": None if duration is None else round(duration, 3),
        "api_calls": run.api_calls,
        "api_usage": run.api_usage,
        "error": run.error,
        "record_errors": record_error_count,
        "streams": [
            {
                "stream": s.stream,
                "records": s.records,
                "deleted": s.deleted,
                "issues": s.issues,
                "api_calls": s.api_calls,
                "seconds": s.seconds,
                "status": s.status,
                "note": s.note,
            }
            for s in run.streams
        ],
        "summary": run.summary,
    }


def _backlog(conn: Connection, at: datetime) -> list[dict[str, Any]]:
    query = (
        select(outbox.c.target, outbox.c.status, func.count(), func.min(outbox.c.created_at))
        .where(outbox.c.status.not_in(SETTLED))
        .group_by(outbox.c.target, outbox.c.status)
        .order_by(outbox.c.target, outbox.c.status)
    )
    out = []
    for target, state, count, oldest in conn.execute(query):
        oldest_at = _aware(oldest)
        out.append(
            {
                "target": target,
                "status": state,
                "count": int(count),
                "oldest_created_at": oldest_at,
                "oldest_age_seconds": round((at - oldest_at).total_seconds())
                if oldest_at
                else None,
            }
        )
    return out


def _aware(value: Any) -> datetime | None:
    """MIN() over a UtcDateTime column skips the type on some backends: parse it back."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _locks(conn: Connection, at: datetime) -> list[dict[str, Any]]:
    query = select(job_locks).order_by(job_locks.c.job)
    return [
        {
            "job": row.job,
            "holder": row.holder,
            "acquired_at": row.acquired_at,
            "expires_at": row.expires_at,
            "expired": row.expires_at < at,
        }
        for row in conn.execute(query)
    ]


# -- rendering -----------------------------------------------------------------------------
def render(report: dict[str, Any], console: Console) -> None:
    """The status as tables: runs per job, the latest run's streams, the outbox, the locks."""
    if not report["jobs"]:
        console.print("No runs recorded yet.")
    else:
        console.print(_runs_table(report["jobs"]))
        for job in report["jobs"]:
            latest = job["runs"][0] if job["runs"] else None
            if latest and latest["streams"]:
                console.print(_streams_table(job["job"], latest))
        errors = [
            (job["job"], run) for job in report["jobs"] for run in job["runs"][:1] if run["error"]
        ]
        for name, run in errors:
            console.print(f"[red]{name} #{run['id']} {run['status']}:[/red] ", end="")
            console.print(run["error"], markup=False, highlight=False)
    if report["outbox"]:
        console.print(_outbox_table(report["outbox"]))
    else:
        console.print("Outbox: nothing waiting.")
    if report["locks"]:
        console.print(_locks_table(report["locks"]))


def _table(title: str, columns: Sequence[tuple[str, str]]) -> Table:
    table = Table(title=title, title_justify="left")
    for name, justify in columns:
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    return table


def _runs_table(jobs: list[dict[str, Any]]) -> Table:
    table = _table(
        "Last runs per job",
        [
            ("job", "left"),
            ("run", "right"),
            ("status", "left"),
            ("started", "left"),
            ("duration", "right"),
            ("records", "right"),
            ("API calls", "right"),
            ("API usage", "left"),
            ("record errors", "right"),
        ],
    )
    for job in jobs:
        for i, run in enumerate(job["runs"]):
            records = sum(s["records"] for s in run["streams"])
            table.add_row(
                job["job"] if i == 0 else "",
                str(run["id"]),
                _status(run["status"]),
                _when(run["started_at"]),
                _duration(run["duration_seconds"]),
                f"{records:,}" if run["streams"] else "",
                f"{run['api_calls']:,}",
                run["api_usage"] or "",
                str(run["record_errors"]) if run["record_errors"] else "",
            )
    return table


def _streams_table(job: str, run: dict[str, Any]) -> Table:
    table = _table(
        f"{job} #{run['id']}: streams",
        [
            ("stream", "left"),
            ("records", "right"),
            ("deleted", "right"),
            ("issues", "right"),
            ("API calls", "right"),
            ("seconds", "right"),
            ("status", "left"),
        ],
    )
    for s in run["streams"]:
        state = s["status"] if not s["note"] else f"{s['status']}: {s['note']}"
        table.add_row(
            s["stream"],
            f"{s['records']:,}",
            str(s["deleted"]),
            str(s["issues"]),
            str(s["api_calls"]),
            f"{s['seconds']:.2f}",
            state,
        )
    return table


def _outbox_table(rows: list[dict[str, Any]]) -> Table:
    table = _table(
        "Outbox: waiting or failed",
        [("target", "left"), ("status", "left"), ("count", "right"), ("oldest", "left")],
    )
    for row in rows:
        age = row["oldest_age_seconds"]
        oldest = f"{_when(row['oldest_created_at'])} ({_duration(age)} ago)" if age else ""
        table.add_row(row["target"], _status(row["status"]), f"{row['count']:,}", oldest)
    return table


def _locks_table(rows: list[dict[str, Any]]) -> Table:
    table = _table(
        "Job locks", [("job", "left"), ("holder", "left"), ("since", "left"), ("expires", "left")]
    )
    for row in rows:
        expires = _when(row["expires_at"]) + (" (expired)" if row["expired"] else "")
        table.add_row(row["job"], row["holder"], _when(row["acquired_at"]), expires)
    return table


_COLOURS = {
    "completed": "green",
    "done": "green",
    "running": "cyan",
    "pending": "cyan",
    "sent": "cyan",
    "stopped": "yellow",
    "failed": "red",
}


def _status(value: str) -> str:
    colour = _COLOURS.get(value)
    return f"[{colour}]{value}[/{colour}]" if colour else value


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else ""


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "running"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
