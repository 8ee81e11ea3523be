"""How ``evaluate`` stores what it decided, on SQLite and PostgreSQL.

Outputs are staged in a temporary table as the rules decide them, then ``desired_outputs`` is
changed only where it differs: an unchanged output is not written again (it keeps the
``evaluated_at`` of the evaluation that produced it), a changed one is updated, one no longer
produced is deleted; outputs of rules that did not run stay.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from conftest import NOW, World
from sqlalchemy import event, select, update

from connector.evaluate import evaluate
from connector.rules.model import DesiredOutput, RuleContext
from connector.rules.support import SupportRisk
from connector.store import make_engine, mirror, upgrade
from connector.store.schema import desired_outputs

LATER = NOW + timedelta(hours=1)  # the same day: due dates do not move


@pytest.fixture
def db_world(store_url, specs) -> Iterator[World]:
    engine = make_engine(store_url)
    upgrade(engine)
    mirror.ensure_tables(engine, specs)
    yield World(engine, specs)
    engine.dispose()


def _stored(world: World) -> dict[str, dict[str, Any]]:
    with world.engine.connect() as conn:
        return {r["key"]: dict(r) for r in conn.execute(select(desired_outputs)).mappings()}


class _Writes:
    """Rows the statements sent to ``desired_outputs`` changed, by statement kind."""

    def __init__(self, world: World) -> None:
        self.counts: dict[str, int] = {}

        def after(_conn: Any, cursor: Any, statement: str, *_: Any) -> None:
            words = statement.split(None, 3)
            kind = words[0].upper() if words else ""
            if kind in ("INSERT", "UPDATE", "DELETE") and "desired_outputs" in statement.split(
                "SELECT"
            )[0].replace('"', ""):
                self.counts[kind] = self.counts.get(kind, 0) + max(cursor.rowcount, 0)

        event.listen(world.engine, "after_cursor_execute", after)


def test_a_second_evaluation_of_unchanged_data_writes_no_output(db_world) -> None:
    acme = db_world.customer("Acme")
    db_world.ticket(acme, created_at=NOW - timedelta(days=25), status="open")
    report, _ = evaluate(db_world.engine, db_world.ctx(), [SupportRisk()])
    assert report.outputs == {"support_risk": 3}
    first = _stored(db_world)
    writes = _Writes(db_world)
    report, outputs = evaluate(db_world.engine, db_world.ctx(LATER), [SupportRisk()])
    assert report.outputs == {"support_risk": 3}
    assert writes.counts == {"DELETE": 0, "UPDATE": 0, "INSERT": 0}
    assert _stored(db_world) == first  # evaluated_at included: the rows were not rewritten
    assert sorted((o.key, o.object) for o in outputs) == [
        (f"support_risk:{acme}", "cta"),
        (f"support_risk:{acme}", "zendesk_task"),  # read back with its CTA's key
        (f"support_risk:{acme}/stay-informed", "task"),
    ]


def test_a_changed_output_is_updated_and_the_unchanged_ones_kept(db_world) -> None:
    acme = db_world.customer("Acme")
    db_world.ticket(acme, created_at=NOW - timedelta(days=25), status="open")
    evaluate(db_world.engine, db_world.ctx(), [SupportRisk()])
    before = _stored(db_world)
    db_world.ticket(acme, created_at=NOW - timedelta(days=22), status="open")  # evidence moves
    evaluate(db_world.engine, db_world.ctx(LATER), [SupportRisk()])
    after = _stored(db_world)
    assert set(after) == set(before)
    changed = {k for k in after if after[k] != before[k]}
    assert changed  # the CTA (and its Zendesk task) cite two old tickets now
    for key in changed:
        assert after[key]["evidence"] != before[key]["evidence"]
        assert after[key]["evaluated_at"] == LATER
    for key in set(after) - changed:
        assert after[key]["evaluated_at"] == NOW


def test_an_output_no_longer_produced_is_deleted_and_other_rules_outputs_stay(db_world) -> None:
    acme = db_world.customer("Acme")
    ticket = db_world.ticket(acme, created_at=NOW - timedelta(days=25), status="open")
    other = {
        "key": "someone_else:1",
        "rule": "someone_else",
        "object": "cta",
        "fields": {"a": 1},
        "evidence": "",
        "evaluated_at": NOW,
    }
    with db_world.engine.begin() as conn:
        conn.execute(desired_outputs.insert().values(**other))
    evaluate(db_world.engine, db_world.ctx(), [SupportRisk()])
    assert len(_stored(db_world)) == 4
    tickets = db_world.tables.zendesk_ticket
    with db_world.engine.begin() as conn:
        conn.execute(update(tickets).where(tickets.c.id == ticket).values(status="solved"))
    report, outputs = evaluate(db_world.engine, db_world.ctx(LATER), [SupportRisk()])
    assert report.outputs == {"support_risk": 0} and list(outputs) == []
    assert set(_stored(db_world)) == {"someone_else:1"}


class _Twice:
    """A rule whose two outputs share a key."""

    id, family = "twice", "test"
    requires: dict[str, tuple[str, ...]] = {}

    def select(self, ctx: RuleContext, account_id: str | None = None) -> Any:
        return SupportRisk().select(ctx, account_id)

    def decide(self, row: Any, ctx: RuleContext) -> list[DesiredOutput]:
        return [DesiredOutput("twice:1", self.id, "cta", row["account_id"])] * 2


def test_two_outputs_with_one_key_stop_the_run_and_store_nothing(db_world) -> None:
    acme = db_world.customer("Acme")
    db_world.ticket(acme, created_at=NOW - timedelta(days=25), status="open")
    with pytest.raises(RuntimeError, match="share a key"):
        evaluate(db_world.engine, db_world.ctx(), [SupportRisk(), _Twice()])
    assert _stored(db_world) == {}
    # The failed run left no temporary table behind on a pooled connection.
    report, _ = evaluate(db_world.engine, db_world.ctx(), [SupportRisk()])
    assert report.outputs == {"support_risk": 3} and len(_stored(db_world)) == 3


def test_without_write_the_outputs_come_back_and_nothing_is_stored(db_world) -> None:
    acme = db_world.customer("Acme")
    db_world.ticket(acme, created_at=NOW - timedelta(days=25), status="open")
    _, outputs = evaluate(db_world.engine, db_world.ctx(), [SupportRisk()], write=False)
    assert len(outputs) == 3 and _stored(db_world) == {}
    with pytest.raises(RuntimeError, match="share the key"):
        evaluate(db_world.engine, db_world.ctx(), [_Twice()], write=False)


def test_persona_state_keeps_last_cycle_and_the_contacts_gone(db_world) -> None:
    from connector.rules.persona import PersonaAssignment
    from connector.store.schema import persona_state

    acme = db_world.customer("Acme")
    kim = db_world.add("contact", account_id=acme, name="Kim", title="Director of Finance")
    ola = db_world.add("contact", account_id=acme, name="Ola", title="Support Analyst")
    pat = db_world.add("contact", account_id=acme, name="Pat", title="CEO", persona="Admin")
    db_world.add("account_contact_role", account_id=acme, contact_id=kim, role="Economic Buyer")

    def state() -> dict[str, tuple[Any, ...]]:
        with db_world.engine.connect() as conn:
            rows = conn.execute(select(persona_state)).mappings()
            return {
                r["contact_id"]: (
                    r["computed"],
                    r["effective"],
                    r["active"],
                    r["previous_effective"],
                    r["previous_active"],
                    r["evaluated_at"],
                )
                for r in rows
            }

    report, _ = evaluate(db_world.engine, db_world.ctx(), [PersonaAssignment()])
    assert report.outputs == {"persona_assignment": 3}
    assert state() == {
        kim: ("Executive Sponsor", "Executive Sponsor", True, None, None, NOW),
        ola: ("End User", "End User", True, None, None, NOW),
        pat: ("Big Boss", "Admin", True, None, None, NOW),  # a person's CRM value wins
    }
    stored = _stored(db_world)
    contact = db_world.tables.contact
    with db_world.engine.begin() as conn:
        conn.execute(update(contact).where(contact.c.id == ola).values(deleted=True))
    report, _ = evaluate(db_world.engine, db_world.ctx(LATER), [PersonaAssignment()])
    assert report.outputs == {"persona_assignment": 2}
    assert state() == {
        kim: ("Executive Sponsor", "Executive Sponsor", True, "Executive Sponsor", True, LATER),
        ola: ("End User", "End User", False, "End User", True, LATER),
        pat: ("Big Boss", "Admin", True, "Admin", True, LATER),
    }
    after = _stored(db_world)
    assert set(after) == set(stored) - {f"persona_assignment:{ola}"}
    assert all(after[k] == stored[k] for k in after)  # unchanged: not rewritten
