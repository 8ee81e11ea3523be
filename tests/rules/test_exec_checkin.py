"""exec_checkin (RULES.md, Lifecycle): no Exec Check-in milestone in the last 90 days (HT)."""

from __future__ import annotations

from conftest import NOW, OWNERS, days
from sqlalchemy import insert

from connector.rules.cadence import ExecCheckin
from connector.store.schema import persona_state

RULE = ExecCheckin()
TODAY = NOW.date()


def checkin(world, account_id, on, **values):
    return world.add(
        "cs_milestone",
        account_id=account_id,
        milestone_type="Exec Check-in",
        milestone_date=on,
        name="Exec Check-in",
        **values,
    )


def persona(world, account_id, persona, *, contact_id=None, active=True, first_name="Pat"):
    contact_id = world.add(
        "contact",
        contact_id,
        account_id=account_id,
        first_name=first_name,
        name=f"{first_name} Doe",
    )
    with world.engine.begin() as conn:
        conn.execute(
            insert(persona_state).values(
                contact_id=contact_id,
                account_id=account_id,
                computed=persona,
                effective=persona,
                active=active,
                evaluated_at=NOW,
            )
        )
    return contact_id


def test_exec_checkin_fires_on_every_high_touch_customer_on_a_first_run(world) -> None:
    acme, globex = world.customer("Acme"), world.customer("Globex", segment="Strategic")
    assert world.keys(RULE) == {f"exec_checkin:{acme}", f"exec_checkin:{globex}"}


def test_exec_checkin_fires_on_a_last_checkin_91_days_ago(world) -> None:
    acme = world.customer("Acme")
    checkin(world, acme, TODAY - days(91))
    assert world.keys(RULE) == {f"exec_checkin:{acme}"}


def test_exec_checkin_stays_silent_on_a_checkin_exactly_90_days_ago(world) -> None:
    acme = world.customer("Acme")
    checkin(world, acme, TODAY - days(90))
    assert world.keys(RULE) == set()


def test_exec_checkin_ignores_future_deleted_and_other_milestones(world) -> None:
    acme = world.customer("Acme")
    checkin(world, acme, TODAY + days(1))
    checkin(world, acme, TODAY - days(1), deleted=True)
    world.add("cs_milestone", account_id=acme, milestone_type="EBR", milestone_date=TODAY)
    assert world.keys(RULE) == {f"exec_checkin:{acme}"}


def test_exec_checkin_stays_silent_on_customers_that_are_not_high_touch(world) -> None:
    world.customer("Mid", segment="Mid-Market")
    world.customer("Blank", segment=None)
    assert world.keys(RULE) == set()


def test_exec_checkin_gives_the_cta_and_task_to_the_vp_cs_due_in_14_days(world) -> None:
    acme = world.customer("Acme")
    cta, task = world.run(RULE)
    assert cta.fields["name"] == "Exec Check-in" and cta.fields["type"] == "Lifecycle"
    assert cta.owner_id == task.owner_id == OWNERS["vp_cs"]
    assert cta.due_date == TODAY + days(14)
    assert task.key == f"exec_checkin:{acme}/email" and task.parent_key == cta.key


def test_exec_checkin_addresses_the_executive_sponsor_with_the_lowest_id_in_byte_order(world):
    acme = world.customer("Acme")
    persona(world, acme, "Executive Sponsor", contact_id="003a00000000001AAA", first_name="Low")
    upper = persona(
        world, acme, "Executive Sponsor", contact_id="003B00000000001AAA", first_name="Upper"
    )
    persona(world, acme, "Big Boss", contact_id="0030000000000001AA", first_name="Boss")
    cta, task = world.run(RULE)
    assert cta.fields["contact_id"] == task.fields["who_id"] == upper
    assert "Hi Upper," in task.fields["description"] and "Acme" in task.fields["description"]


def test_exec_checkin_falls_back_to_the_big_boss_when_no_sponsor_is_active(world) -> None:
    acme = world.customer("Acme")
    persona(world, acme, "Executive Sponsor", active=False, first_name="Gone")
    boss = persona(world, acme, "Big Boss", first_name="Boss")
    cta, _ = world.run(RULE)
    assert cta.fields["contact_id"] == boss
    assert "Big Boss" in cta.evidence and boss in cta.evidence


def test_exec_checkin_has_no_addressee_without_an_active_sponsor_or_big_boss(world) -> None:
    acme = world.customer("Acme")
    persona(world, acme, "Admin")
    other = world.customer("Other")
    persona(world, other, "Executive Sponsor")
    cta, task = [o for o in world.run(RULE) if o.account_id == acme]
    assert cta.fields["contact_id"] is None and task.fields["who_id"] is None
    assert "choose the addressee" in task.fields["description"]
    assert "Addressee: none" in cta.evidence


def test_exec_checkin_evidence_cites_the_latest_checkin_and_the_cadence(world) -> None:
    acme = world.customer("Acme")
    checkin(world, acme, TODAY - days(120))
    cta, _ = world.run(RULE)
    assert (TODAY - days(120)).isoformat() in cta.evidence and "90 days" in cta.evidence


def test_explain_shows_a_silent_accounts_latest_checkin(world) -> None:
    acme = world.customer("Acme")
    checkin(world, acme, TODAY - days(10))
    (row,) = world.rows(RULE, account_id=acme)
    assert not row["fires"] and row["last_date"] == TODAY - days(10)
