"""The outbox as push writes it: the plan's writes, many rows a statement, ids in plan order."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select

from connector.push import ledger as book
from connector.reconcile.model import Write
from connector.store import make_engine, upgrade
from connector.store.schema import ledger, outbox

NOW = datetime(2026, 10, 9, 14, 0, tzinfo=UTC)


@pytest.fixture
def store(store_url: str) -> Iterator[Engine]:
    made = make_engine(store_url)
    upgrade(made)
    yield made
    made.dispose()


def write(i: int) -> Write:
    values = {"subject": f"Risk {i}", "priority": "High", "tags": ["a", "b"], "n": i}
    return Write(
        op="create" if i % 2 else "update",
        target="cta" if i % 3 else "task",
        external_id=f"support_risk:001{i:015d}",
        key=f"support_risk:001{i:015d}",
        identity=f"support_risk:001{i:015d}",
        rule="support_risk",
        account_id=None if i % 4 else f"001{i:015d}",
        values=values,
        hashed={k: v for k, v in values.items() if k != "n"},
        hash=f"{i:032x}",
        changed=("subject", "priority"),
        crm_id=None if i % 2 else f"a0{i:016d}",
        parent_external_id=None,
        status_set="New",
        reason="",
        wait_hash="w",
    )


def test_the_outbox_gets_every_write_in_plan_order_across_statements(
    store: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(book, "OUTBOX_CHUNK", 3)  # 10 writes: four multi-row statements
    writes = [write(i) for i in range(10)]
    with store.begin() as conn:
        ids = book.write_outbox(conn, None, writes, NOW)
    with store.connect() as conn:
        rows = {r.id: r for r in conn.execute(select(outbox))}
    assert len(ids) == len(set(ids)) == 10
    assert [rows[i].external_id for i in ids] == [w.external_id for w in writes]
    assert [(rows[i].target, rows[i].op, rows[i].status) for i in ids] == [
        (w.target, w.op, "pending") for w in writes
    ]
    assert [book.write_from_json(rows[i].write) for i in ids] == writes


def test_the_stored_write_is_what_asdict_made_of_it() -> None:
    w = write(7)
    assert book._jsonable(w) == dataclasses.asdict(w) | {"changed": list(w.changed)}


def test_records_a_polled_job_landed_reach_the_ledger_and_their_rows_are_done_across_statements(
    store: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(book, "LANDED_CHUNK", 4)  # 10 records: three statements of each kind
    writes = [write(i) for i in range(10)]
    with store.begin() as conn:
        ids = book.write_outbox(conn, None, writes, NOW)
        book.mark(conn, ids, "sent", NOW, job_id="bulk:750000000000001")
    landed = [(w, f"a1{i:016d}", row_id) for i, (w, row_id) in enumerate(zip(writes, ids))]
    with store.begin() as conn:
        book.landed(conn, landed[:7], NOW)  # three records the job did not write stay sent
    with store.connect() as conn:
        status = {r.id: r.status for r in conn.execute(select(outbox))}
        crm_ids = {r.external_id: r.crm_id for r in conn.execute(select(ledger))}
    assert [status[i] for i in ids] == ["done"] * 7 + ["sent"] * 3
    assert crm_ids == {w.external_id: crm_id for w, crm_id, _ in landed[:7]}
