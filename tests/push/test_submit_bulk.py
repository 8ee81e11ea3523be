"""Which writes go as Bulk ingest jobs, which wait for a parent in a job, which stay for
Collections, on a migrated store with a fake writer (the real one: test_bulk_writer.py)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select

from connector.push import runner
from connector.push.bulk import BulkJob, Spool, SpooledJob
from connector.reconcile.model import Plan, Write
from connector.reconcile.plan import ZENDESK
from connector.store import make_engine, upgrade
from connector.store.schema import desired_outputs, outbox
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
    """Takes every job from its spool (the real one); remembers what it was given."""

    def __init__(self) -> None:
        self.jobs: list[BulkJob] = []

    def spool(self, target: Target, now: datetime) -> Spool:
        return Spool(target, TARGETS, now)

    def submit_spool(self, spool: Spool) -> list[SpooledJob]:
        out = []
        for how in spool.headers:
            rows = list(spool.rows(how))
            job_id = f"750{len(self.jobs)}"
            self.jobs.append(BulkJob(job_id, spool.target.output, tuple(r[1] for r in rows), how))
            out.append(SpooledJob(job_id, how, [r[0] for r in rows]))
        return out


class FakeCollections:
    """Takes every Collections call; remembers each call's External Ids (or Ids)."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def collections_upsert(
        self, sobject: str, external_id_field: str, records: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        self.calls.append([r[external_id_field] for r in records])
        return [{"success": True, "id": f"a0X{i}"} for i in range(len(records))]

    def collections_update(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        self.calls.append([r["Id"] for r in records])
        return [{"success": True, "id": r["Id"]} for r in records]


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

    def no_value_compare(self: Write, other: object) -> bool:
        raise AssertionError("writes compared by value")

    monkeypatch.setattr(Write, "__eq__", no_value_compare)
    bulk, api = FakeBulk(), FakeCollections()
    session = runner.PushSession(
        store, salesforce=api, targets=TARGETS, now=NOW, bulk=bulk, bulk_threshold=100
    )
    session.send(writes)
    monkeypatch.undo()

    assert [(j.target, len(j.external_ids)) for j in bulk.jobs] == [("cta", 150)]
    assert session.in_bulk == {("cta", w.external_id) for w in ctas}
    assert api.calls == [[w.external_id for w in free]]  # 50 tasks: Collections, in plan order
    with store.connect() as conn:
        status = {r.id: (r.status, r.code) for r in conn.execute(select(outbox))}
    ids = {w.external_id: i for w, i in zip(writes, range(1, len(writes) + 1), strict=True)}
    assert {status[ids[w.external_id]] for w in tasks} == {("superseded", "PARENT_IN_BULK_JOB")}
    assert {status[ids[w.external_id]] for w in free} == {("done", None)}
    assert {status[ids[w.external_id]] for w in ctas} == {("sent", None)}
    assert session.report.count("task").pending == len(tasks)


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


# -- an object fed in parts (planned in key ranges) ----------------------------------------------
def _persona(i: int) -> Write:
    ext = f"persona:003{i:015d}"
    values = {"persona": "Champion"}
    return Write(
        "update", "persona", ext, ext, ext, "persona", None, values, values, "h", (), f"003{i:015d}"
    )


def _parts(writes: list[Write], *sizes: int) -> list[list[Write]]:
    out, start = [], 0
    for n in sizes:
        out.append(writes[start : start + n])
        start += n
    return out


def _outputs(store: Engine, writes: Sequence[Write]) -> None:
    """Desired outputs behind ``writes``: what the push counts to know an object's most writes."""
    rows = [
        {"key": w.key, "rule": w.rule, "object": w.target, "fields": {}, "evidence": "",
         "evaluated_at": NOW}
        for w in writes
    ]  # fmt: skip
    with UnitOfWork(store) as uow:
        uow.conn.execute(insert(desired_outputs), rows)
        uow.commit()


def _feed(session: runner.PushSession, parts: list[list[Write]]) -> None:
    for n, part in enumerate(parts):
        session.send(part, more=n < len(parts) - 1)


def test_collections_batches_carry_across_parts_so_an_object_takes_ceil_n_over_200_calls(
    store: Engine,
) -> None:
    personas = [_persona(i) for i in range(1_000)]
    ctas = [_write("cta", f"support_risk:{i}") for i in range(250)]
    api = FakeCollections()
    session = runner.PushSession(store, salesforce=api, targets=TARGETS, now=NOW)
    session.send(ctas)
    _feed(session, _parts(personas, 333, 0, 333, 334))  # a part may plan no write at all

    assert [len(c) for c in api.calls] == [200, 50, 200, 200, 200, 200, 200]
    assert [e for c in api.calls[2:] for e in c] == [w.crm_id for w in personas]  # in order
    assert session.report.count("persona").updated == 1_000
    with store.connect() as conn:
        assert {r.status for r in conn.execute(select(outbox))} == {"done"}


def test_the_short_batch_of_an_object_goes_out_when_the_next_object_comes(store: Engine) -> None:
    api = FakeCollections()
    session = runner.PushSession(store, salesforce=api, targets=TARGETS, now=NOW)
    session.send([_persona(i) for i in range(250)], more=True)
    assert [len(c) for c in api.calls] == [200]
    session.send([_write("cta", "support_risk:1")])  # its caller ended the object: sent now
    assert [len(c) for c in api.calls] == [200, 50, 1]


def _bulk_session(
    store: Engine, n: int, *, threshold: int
) -> tuple[list[Write], runner.PushSession, FakeBulk, FakeCollections]:
    """``n`` persona outputs in the store, and a Bulk-path session over fakes."""
    personas = [_persona(i) for i in range(n)]
    _outputs(store, personas)
    bulk, api = FakeBulk(), FakeCollections()
    session = runner.PushSession(
        store, salesforce=api, targets=TARGETS, now=NOW, bulk=bulk, bulk_threshold=threshold
    )
    return personas, session, bulk, api


def test_on_the_bulk_path_an_object_over_the_threshold_in_parts_goes_as_one_job(
    store: Engine,
) -> None:
    personas, session, bulk, api = _bulk_session(store, 600, threshold=500)
    _feed(session, _parts(personas, 300, 0, 300))

    assert api.calls == []
    assert [(j.target, j.external_ids) for j in bulk.jobs] == [
        ("persona", tuple(w.external_id for w in personas))
    ]
    assert session.report.bulk_jobs == 1 and session.report.count("persona").pending == 600
    with store.connect() as conn:
        rows = conn.execute(select(outbox.c.status, outbox.c.job_id)).all()
    assert {tuple(r) for r in rows} == {("sent", "bulk:7500")}
    assert session.in_bulk == set()  # personas are nobody's parent: not kept


def test_on_the_bulk_path_an_object_under_the_threshold_in_parts_goes_by_collections(
    store: Engine,
) -> None:
    # 600 outputs could pass the threshold, so the writes wait for the object's end; 450 did.
    personas, session, bulk, api = _bulk_session(store, 600, threshold=500)
    session.send(personas[:150], more=True)
    session.send(personas[150:300], more=True)
    assert api.calls == []  # held in memory: at most the threshold's worth
    session.send(personas[300:450])

    assert bulk.jobs == []
    assert [len(c) for c in api.calls] == [200, 200, 50]
    assert [e for c in api.calls for e in c] == [w.crm_id for w in personas[:450]]


def test_on_the_bulk_path_an_object_that_cannot_pass_the_threshold_is_sent_as_it_comes(
    store: Engine,
) -> None:
    # 300 outputs and no ledger rows: at most 300 writes, under the threshold of 500, so
    # nothing is held back (with Collections only, the threshold is above any object).
    personas = [_persona(i) for i in range(300)]
    _outputs(store, personas)
    api = FakeCollections()
    session = runner.PushSession(
        store, salesforce=api, targets=TARGETS, now=NOW, bulk=FakeBulk(), bulk_threshold=500
    )
    session.send(personas[:250], more=True)
    assert [len(c) for c in api.calls] == [200]  # the first full batch, at once
    session.send(personas[250:])
    assert [len(c) for c in api.calls] == [200, 100]
