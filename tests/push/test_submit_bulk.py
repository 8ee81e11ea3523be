"""Which writes go as Bulk ingest jobs, which wait for a parent in a job, which stay for
Collections, on a migrated store with a fake writer (the real one: test_bulk_writer.py)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from connector.push import ledger as book
from connector.push import runner
from connector.push.bulk import BulkJob
from connector.reconcile.model import Plan, Write
from connector.reconcile.plan import ZENDESK
from connector.store import make_engine, upgrade
from connector.store.schema import outbox
from connector.store.uow import UnitOfWork
from connector.targets import Target, load_targets

TARGETS = load_targets(Path(__file__).resolve().parents[2] / "mappings")
NOW = datetime(2026, 10, 9, 14, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Engine]:
    made = make_engine(f"sqlite:///{tmp_path / 'cs.db'}")
    upgrade(made)
    yield made
    made.dispose()


class FakeBulk:
    """Takes every job; remembers what it was given."""

    def __init__(self) -> None:
        self.jobs: list[BulkJob] = []

    def submit(self, target: Target, writes: Sequence[Write], now: datetime) -> list[BulkJob]:
        job = BulkJob(f"750{len(self.jobs)}", target.output, tuple(w.external_id for w in writes))
        self.jobs.append(job)
        return [job]


def _write(target: str, ext: str, parent: str | None = None) -> Write:
    values = {"subject": ext, "priority": "High"}
    return Write(
        "create", target, ext, ext, ext, "support_risk", None, values, values, "h", (), None, parent
    )


def test_children_of_records_in_a_job_wait_and_the_rest_go_their_way_without_comparing_writes(
    store: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 2,000 tasks: comparing Writes by value to split them (``w not in ready``) took minutes
    # at scale M (16,000 tasks); the split is by identity now.
    ctas = [_write("cta", f"support_risk:{i}") for i in range(150)]
    tasks = [_write("task", f"support_risk:{i}/t", f"support_risk:{i % 150}") for i in range(2_000)]
    free = [_write("task", f"usage_drop:{i}/t", f"usage_drop:{i}") for i in range(50)]
    writes = [*ctas, *tasks, *free]  # the usage_drop CTAs are not in this plan
    with UnitOfWork(store) as uow:
        ids = book.write_outbox(uow.conn, None, writes, NOW)
        uow.commit()
    outbox_id = {id(w): i for w, i in zip(writes, ids, strict=True)}

    def no_value_compare(self: Write, other: object) -> bool:
        raise AssertionError("writes compared by value")

    monkeypatch.setattr(Write, "__eq__", no_value_compare)
    bulk, report, sent = FakeBulk(), runner.PushReport(), set()
    rest = runner._submit_bulk(
        store, bulk, writes, TARGETS, 100, outbox_id, report, NOW, runner._Failed(), sent
    )
    monkeypatch.undo()

    assert [(j.target, len(j.external_ids)) for j in bulk.jobs] == [("cta", 150)]
    assert sent == {("cta", w.external_id) for w in ctas}
    assert rest == free  # 50 tasks: Collections, in plan order
    with store.connect() as conn:
        status = {r.id: (r.status, r.code) for r in conn.execute(select(outbox))}
    assert {status[outbox_id[id(w)]] for w in tasks} == {("superseded", "PARENT_IN_BULK_JOB")}
    assert {status[outbox_id[id(w)]] for w in free} == {("pending", None)}
    assert report.count("task").pending == len(tasks)


class FakeZendesk:
    """Counts lookups and submissions; nothing should reach it here."""

    def __init__(self) -> None:
        self.lookups: list[str] = []
        self.submitted: list[Any] = []

    def find_by_external_id(self, external_id: str) -> list[dict[str, Any]]:
        self.lookups.append(external_id)
        return []

    def submit(self, tickets: Sequence[Any]) -> list[Any]:
        self.submitted.extend(tickets)
        return []

    def poll(self, jobs: Sequence[Any]) -> dict[str, Any]:
        return {}


def test_a_ticket_whose_cta_went_in_a_bulk_job_waits_marked_not_looked_up_next_cycle(
    store: Engine,
) -> None:
    # At scale M the 4,068 tickets of the CTAs' Bulk job stayed "pending" in the outbox: the
    # next cycle took each for a create of unknown outcome and looked it up (4,068 calls).
    ext = "support_risk:001000000000001AAA"
    values = {"subject": "Risk", "description": "d", "risk_type": "support", "account_id": None}
    plan = Plan(
        writes=[
            _write("cta", ext),
            Write("create", ZENDESK, ext, ext, ext, "support_risk", None, values, values, "h"),
        ]
    )
    zendesk, bulk = FakeZendesk(), FakeBulk()
    report = runner.push(
        store, plan, salesforce=None, targets=TARGETS, now=NOW,  # type: ignore[arg-type]
        zendesk=zendesk, bulk=bulk, bulk_threshold=0,
    )  # fmt: skip

    assert report.status == "completed" and report.bulk_jobs == 1
    assert zendesk.submitted == [] and report.count(ZENDESK).pending == 1
    with store.connect() as conn:
        rows = {r.target: (r.status, r.code) for r in conn.execute(select(outbox))}
    assert rows == {"cta": ("sent", None), ZENDESK: ("superseded", "PARENT_IN_BULK_JOB")}
    with UnitOfWork(store) as uow:
        assert runner._unknown_creates(uow.conn, NOW) == set()  # nothing to look up


def test_a_push_fed_one_object_at_a_time_holds_children_of_a_job_sent_in_an_earlier_part(
    store: Engine,
) -> None:
    # A cycle plans and pushes one object at a time: the CTAs' job is sent with the CTAs'
    # part, and their tasks and tickets, in later parts, still wait for it.
    ext = "support_risk:001000000000001AAA"
    values = {"subject": "Risk", "description": "d", "risk_type": "support", "account_id": None}
    ticket = Write("create", ZENDESK, ext, ext, ext, "support_risk", None, values, values, "h")
    zendesk, bulk = FakeZendesk(), FakeBulk()
    session = runner.PushSession(
        store, salesforce=None, targets=TARGETS, now=NOW,  # type: ignore[arg-type]
        zendesk=zendesk, bulk=bulk, bulk_threshold=0,
    )  # fmt: skip
    session.begin()
    session.send([_write("cta", ext)])
    session.send([_write("task", f"{ext}/t", ext)])
    session.send([ticket])

    assert session.going and [j.target for j in bulk.jobs] == ["cta"]
    assert zendesk.submitted == []
    with store.connect() as conn:
        rows = {r.target: (r.status, r.code) for r in conn.execute(select(outbox))}
    held = ("superseded", "PARENT_IN_BULK_JOB")
    assert rows == {"cta": ("sent", None), "task": held, ZENDESK: held}
