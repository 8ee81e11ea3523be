"""Reconcile's inputs as read from the store: the same values, short texts held once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from connector.reconcile.state import load_desired, load_ledger
from connector.store import make_engine, upgrade
from connector.store.schema import desired_outputs, ledger

NOW = datetime(2026, 10, 9, 14, 0, tzinfo=UTC)
LONG = "3 tickets open: " + "#101, " * 20


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Engine]:
    made = make_engine(f"sqlite:///{tmp_path / 'cs.db'}")
    upgrade(made)
    yield made
    made.dispose()


def test_outputs_and_ledger_rows_read_back_equal_with_names_and_short_texts_shared(
    store: Engine,
) -> None:
    fields = {"priority": "High", "evidence": LONG, "n": 3, "tags": ["a"], "who_id": None}
    with store.begin() as conn:
        conn.execute(
            desired_outputs.insert(),
            [
                {
                    "key": f"support_risk:00{i}",
                    "rule": "support_risk",
                    "object": "cta",
                    "account_id": "001000000000001AAA",
                    "owner_id": "005000000000001AAA",
                    "due_date": date(2026, 10, 16),
                    "fields": fields,
                    "evidence": LONG,
                    "evaluated_at": NOW,
                }
                for i in range(2)
            ],
        )
        conn.execute(
            ledger.insert(),
            [
                {
                    "target": "cta",
                    "external_id": f"support_risk:00{i}",
                    "key": f"support_risk:00{i}",
                    "identity": f"support_risk:00{i}",
                    "rule": "support_risk",
                    "written": fields,
                    "status_set": "New",
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for i in range(2)
            ],
        )
    with store.connect() as conn:
        a, b = load_desired(conn)
        x, y = load_ledger(conn)

    assert a.fields == b.fields == x.written == y.written == fields
    assert (a.rule, a.object, a.owner_id, a.due_date, a.evidence) == (
        "support_risk", "cta", "005000000000001AAA", date(2026, 10, 16), LONG,
    )  # fmt: skip
    assert (x.target, x.rule, x.status_set) == ("cta", "support_risk", "New")
    assert a.fields["priority"] is b.fields["priority"] is x.written["priority"]  # type: ignore[index]
    assert a.owner_id is b.owner_id and x.rule is y.rule and a.rule is x.rule
    names = [next(iter(m)) for m in (a.fields, b.fields, x.written, y.written) if m]
    assert all(n is names[0] for n in names)
    assert a.fields["evidence"] is not b.fields["evidence"]  # long text: not worth a lookup
