"""Run history records each run's outcome, its streams' counts and the records it skipped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from connector.model import RecordIssue
from connector.store import runs
from connector.store.runs import RunStream
from connector.store.schema import record_errors

START = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
END = START + timedelta(minutes=3)


def test_run_history_records_counts(store):
    with store.begin() as conn:
        run_id = runs.start(conn, "cycle", started_at=START)
        runs.add_stream(conn, run_id, "account", records=120, api_calls=2, seconds=1.5)
        runs.add_stream(
            conn, run_id, "contact", records=7, deleted=2, issues=1, status="stopped", note="quota"
        )
        runs.finish(
            conn,
            run_id,
            "completed",
            summary={"pulled": 127},
            api_calls=3,
            api_usage="1203/15000",
            ended_at=END,
        )

    with store.connect() as conn:
        (run,) = runs.last(conn)

    assert (run.id, run.job, run.status, run.started_at, run.ended_at) == (
        run_id,
        "cycle",
        "completed",
        START,
        END,
    )
    assert (run.summary, run.api_calls, run.api_usage, run.error) == (
        {"pulled": 127},
        3,
        "1203/15000",
        None,
    )
    assert run.streams == (
        RunStream("account", records=120, api_calls=2, seconds=1.5),
        RunStream("contact", records=7, deleted=2, issues=1, status="stopped", note="quota"),
    )


def test_a_started_run_is_running_until_finished(store):
    with store.begin() as conn:
        runs.start(conn, "cycle", started_at=START)

    with store.connect() as conn:
        (run,) = runs.last(conn)

    assert (run.status, run.ended_at, run.streams) == ("running", None, ())


def test_last_lists_the_newest_runs_of_a_job_first(store):
    with store.begin() as conn:
        ids = [
            runs.start(conn, job, started_at=START)
            for job in ("cycle", "nightly", "cycle", "cycle")
        ]
        runs.finish(conn, ids[1], "failed", error="FatalApiError: INVALID_SESSION_ID")

    with store.connect() as conn:
        cycles = [r.id for r in runs.last(conn, job="cycle", n=2)]
        everything = [(r.job, r.status, r.error) for r in runs.last(conn)]

    assert cycles == [ids[3], ids[2]]
    assert everything[2] == ("nightly", "failed", "FatalApiError: INVALID_SESSION_ID")


def test_skipped_records_are_stored_with_their_run(store):
    issues = [
        RecordIssue("003A", "bad email", code="INVALID_EMAIL_ADDRESS"),
        RecordIssue("003a", "no account"),
    ]
    with store.begin() as conn:
        run_id = runs.start(conn, "cycle", started_at=START)
        stored = runs.add_record_errors(conn, run_id, "contact", issues, at=END)

    with store.connect() as conn:
        query = select(record_errors).order_by(record_errors.c.id)
        found = [
            (r.run_id, r.stream, r.record_id, r.code, r.message, r.at) for r in conn.execute(query)
        ]

    assert stored == 2
    assert found == [
        (run_id, "contact", "003A", "INVALID_EMAIL_ADDRESS", "bad email", END),
        (run_id, "contact", "003a", None, "no account", END),
    ]
