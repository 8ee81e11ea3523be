"""``status``: last runs per job with their streams and errors, the outbox backlog, the locks."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

from rich.console import Console
from sqlalchemy import insert

from connector.model import RecordIssue
from connector.status import render, status
from connector.store import UnitOfWork, locks, runs
from connector.store.schema import outbox

T0 = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=1)


def record_run(
    engine,
    job,
    started,
    minutes,
    state="completed",
    *,
    streams=(),
    issues=0,
    error=None,
    api_calls=0,
    api_usage=None,
):
    with UnitOfWork(engine) as uow:
        run_id = runs.start(uow.conn, job, started_at=started)
        for name, records in streams:
            runs.add_stream(uow.conn, run_id, name, records=records, api_calls=1, seconds=0.5)
        if issues:
            bad = [
                RecordIssue(record_id=f"003{i}", reason="bad email", code="invalid")
                for i in range(issues)
            ]
            runs.add_record_errors(uow.conn, run_id, "contact", bad, at=started)
        if state != "running":
            runs.finish(
                uow.conn,
                run_id,
                state,
                api_calls=api_calls,
                api_usage=api_usage,
                error=error,
                ended_at=started + timedelta(minutes=minutes),
            )
        uow.commit()
    return run_id


def add_outbox(engine, target, state, created):
    with UnitOfWork(engine) as uow:
        uow.conn.execute(
            insert(outbox).values(
                target=target,
                external_id=f"k-{created.isoformat()}-{state}",
                op="upsert",
                write={"f": 1},
                status=state,
                created_at=created,
            )
        )
        uow.commit()


def job(report, name):
    return next(j for j in report["jobs"] if j["job"] == name)


def test_an_empty_store_has_no_jobs_no_backlog_and_no_locks(engine):
    assert status(engine, now=NOW) == {"generated_at": NOW, "jobs": [], "outbox": [], "locks": []}


def test_runs_are_listed_per_job_newest_first(engine):
    record_run(engine, "cycle", T0, 2)
    second = record_run(engine, "cycle", T0 + timedelta(minutes=15), 3, "failed", error="boom")
    record_run(engine, "sweep", T0, 1)

    report = status(engine, now=NOW)

    assert [j["job"] for j in report["jobs"]] == ["cycle", "sweep"]
    latest = job(report, "cycle")["runs"][0]
    assert (latest["id"], latest["status"], latest["error"]) == (second, "failed", "boom")
    assert [r["status"] for r in job(report, "cycle")["runs"]] == ["failed", "completed"]


def test_only_the_last_runs_per_job_are_shown(engine):
    for i in range(5):
        record_run(engine, "cycle", T0 + timedelta(minutes=15 * i), 1)

    assert len(job(status(engine, runs_per_job=3, now=NOW), "cycle")["runs"]) == 3


def test_a_run_shows_its_duration_api_calls_and_usage(engine):
    record_run(engine, "cycle", T0, 2.5, api_calls=42, api_usage="api-usage=1042/15000")

    run = job(status(engine, now=NOW), "cycle")["runs"][0]

    assert run["started_at"] == T0
    assert run["ended_at"] == T0 + timedelta(minutes=2.5)
    assert run["duration_seconds"] == 150
    assert (run["api_calls"], run["api_usage"]) == (42, "api-usage=1042/15000")


def test_a_running_run_has_no_duration(engine):
    record_run(engine, "cycle", T0, 0, "running")

    run = job(status(engine, now=NOW), "cycle")["runs"][0]

    assert (run["status"], run["ended_at"], run["duration_seconds"]) == ("running", None, None)


def test_a_run_shows_its_per_stream_counts_and_record_error_count(engine):
    record_run(engine, "cycle:pull", T0, 1, streams=[("account", 10), ("contact", 25)], issues=3)

    run = job(status(engine, now=NOW), "cycle:pull")["runs"][0]

    assert [(s["stream"], s["records"]) for s in run["streams"]] == [
        ("account", 10),
        ("contact", 25),
    ]
    assert run["record_errors"] == 3


def test_the_outbox_backlog_counts_unsettled_rows_by_target_and_status(engine):
    add_outbox(engine, "cta", "pending", T0)
    add_outbox(engine, "cta", "pending", T0 + timedelta(minutes=5))
    add_outbox(engine, "cta", "failed", T0 + timedelta(minutes=10))
    add_outbox(engine, "cta", "done", T0)
    add_outbox(engine, "task", "superseded", T0)
    add_outbox(engine, "zendesk_task", "sent", T0 + timedelta(minutes=30))

    backlog = status(engine, now=NOW)["outbox"]

    assert [(b["target"], b["status"], b["count"]) for b in backlog] == [
        ("cta", "failed", 1),
        ("cta", "pending", 2),
        ("zendesk_task", "sent", 1),
    ]
    pending = backlog[1]
    assert pending["oldest_created_at"] == T0
    assert pending["oldest_age_seconds"] == 3600


def test_held_locks_are_listed_with_their_holder(engine):
    locks.acquire(engine, "cycle", "host:1:abc", timedelta(minutes=5), now=T0)

    (lock,) = status(engine, now=T0 + timedelta(minutes=1))["locks"]

    assert (lock["job"], lock["holder"], lock["expired"]) == ("cycle", "host:1:abc", False)


def test_the_status_serialises_to_json(engine):
    record_run(engine, "cycle:pull", T0, 1, streams=[("account", 10)], issues=1)
    add_outbox(engine, "cta", "pending", T0)

    decoded = json.loads(json.dumps(status(engine, now=NOW), default=str))

    assert decoded["jobs"][0]["runs"][0]["started_at"] == "2025-01-06 09:00:00+00:00"


def test_render_draws_runs_streams_errors_outbox_and_locks(engine):
    record_run(
        engine,
        "cycle",
        T0,
        2,
        "failed",
        error="REQUEST_LIMIT_EXCEEDED: TotalRequests",
        streams=[("account", 1234)],
        api_calls=7,
    )
    add_outbox(engine, "cta", "pending", T0)
    locks.acquire(engine, "cycle", "host:1:abc", timedelta(minutes=5), now=T0)
    out = io.StringIO()

    render(status(engine, now=NOW), Console(file=out, width=200, color_system=None))

    text = out.getvalue()
    for expected in (
        "Last runs per job",
        "cycle",
        "failed",
        "1,234",
        "2 min 00 s",
        "REQUEST_LIMIT_EXCEEDED: TotalRequests",
        "Outbox",
        "pending",
        "1 h 00 min ago",
        "host:1:abc",
    ):
        assert expected in text, expected


def test_render_says_when_nothing_ran(engine):
    out = io.StringIO()

    render(status(engine, now=NOW), Console(file=out, width=120, color_system=None))

    assert "No runs recorded yet." in out.getvalue()
    assert "Outbox: nothing waiting." in out.getvalue()
