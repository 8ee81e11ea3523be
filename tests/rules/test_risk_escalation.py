"""risk_escalation (RULES.md, Risk process): a CTA escalated to the CCO."""

from __future__ import annotations

from conftest import NOW, OWNERS, days

from connector.rules.risk_process import RiskEscalation

RULE = RiskEscalation()
TODAY = NOW.date()


def cta(world, account_id, escalation="Escalated to CCO", **values):
    return world.add(
        "cs_cta",
        account_id=account_id,
        name=values.pop("name", "Bug risk"),
        type="Risk",
        status="In Progress",
        escalation=escalation,
        owner_id=world.user(),
        **values,
    )


def test_risk_escalation_fires_on_a_cta_escalated_to_the_cco(world) -> None:
    acme = world.customer("Acme", segment="SMB")
    escalated = cta(world, acme)
    assert world.keys(RULE) == {
        f"risk_escalation:{escalated}",
        f"risk_escalation_review:{escalated}:2026-W47",
    }


def test_risk_escalation_stays_silent_on_a_cta_not_escalated(world) -> None:
    acme = world.customer("Acme")
    cta(world, acme, escalation="Not Escalated")
    cta(world, acme, escalation=None)
    cta(world, acme, deleted=True)
    assert world.keys(RULE) == set()


def test_risk_escalation_notes_the_escalation_on_the_accounts_timeline(world) -> None:
    acme = world.customer("Acme")
    escalated = cta(world, acme)
    note, _ = world.run(RULE)
    assert note.object == "timeline_entry" and note.account_id == acme
    assert note.fields["name"] == "Escalated to CCO" and note.fields["cta_id"] == escalated
    assert note.fields["entry_type"] == "Escalation"


def test_risk_escalation_asks_the_cco_to_review_by_friday(world) -> None:
    acme = world.customer("Acme")
    escalated = cta(world, acme, name="Support risk")
    _, review = world.run(RULE)
    assert review.owner_id == OWNERS["cco"] and review.fields["what_id"] == escalated
    assert review.fields["subject"] == "Review escalated risk: Support risk"
    assert review.due_date == TODAY + days(2)  # Wednesday -> Friday


def test_risk_escalation_review_is_due_today_on_a_friday_and_keyed_by_week(world) -> None:
    acme = world.customer("Acme")
    escalated = cta(world, acme)
    _, review = world.run(RULE, world.ctx(now=NOW + days(2)))
    assert review.due_date == TODAY + days(2)
    _, next_week = world.run(RULE, world.ctx(now=NOW + days(5)))
    assert next_week.key == f"risk_escalation_review:{escalated}:2026-W48"


def test_risk_escalation_evidence_names_the_cta_and_its_escalation(world) -> None:
    acme = world.customer("Acme")
    escalated = cta(world, acme)
    note, review = world.run(RULE)
    assert escalated in note.evidence and "Escalated to CCO" in review.fields["description"]


def test_explain_shows_a_silent_ctas_escalation_field(world) -> None:
    acme = world.customer("Acme")
    cta(world, acme, escalation="Not Escalated")
    (row,) = world.rows(RULE, account_id=acme)
    assert not row["fires"] and row["escalation"] == "Not Escalated"
