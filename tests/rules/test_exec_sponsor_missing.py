"""exec_sponsor_missing (RULES.md, Risk, HT): no active Executive Sponsor or Big Boss."""

from __future__ import annotations

from datetime import timedelta

from conftest import NOW, OWNERS, World
from sqlalchemy import insert

from connector.rules.relationship import ExecSponsorMissing
from connector.store.schema import persona_state

RULE = ExecSponsorMissing()
TODAY = NOW.date()


def person(
    world: World,
    account: str,
    persona: str,
    *,
    deleted: bool = False,
    computed: str | None = None,
    **values,
) -> str:
    """A contact and its persona state as the evaluate shell writes it."""
    contact = world.add(
        "contact", account_id=account, name=f"{persona} person", deleted=deleted, **values
    )
    active = not deleted and not values.get("inactive")
    with world.engine.begin() as conn:
        conn.execute(
            insert(persona_state).values(
                contact_id=contact,
                account_id=account,
                computed=computed or persona,
                effective=persona,
                active=active,
                evaluated_at=NOW,
            )
        )
    return contact


def test_exec_sponsor_missing_fires_on_a_high_touch_customer_without_executives(world) -> None:
    csm = world.user()
    acme = world.customer("Acme", segment="Enterprise", csm_id=csm)
    person(world, acme, "End User")
    person(world, acme, "Admin")
    (cta,) = world.run(RULE)
    assert cta.key == f"exec_sponsor_missing:{acme}"
    assert (cta.fields["type"], cta.fields["reason"]) == ("Risk", "Relationship")
    assert cta.owner_id == csm and cta.due_date == TODAY + timedelta(days=14)


def test_exec_sponsor_missing_fires_when_the_only_executives_left_or_were_deleted(world) -> None:
    acme = world.customer("Acme", segment="Strategic")
    left = person(world, acme, "Big Boss", inactive=True)
    gone = person(world, acme, "Executive Sponsor", deleted=True)
    person(world, acme, "End User")
    (cta,) = world.run(RULE)
    assert "0 active contacts" in cta.evidence and "among 1 active contacts" in cta.evidence
    assert ", ".join(sorted([left, gone])) in cta.evidence


def test_exec_sponsor_missing_fires_on_a_customer_without_contacts(world) -> None:
    acme = world.customer("Acme", segment="Enterprise")
    assert world.keys(RULE) == {f"exec_sponsor_missing:{acme}"}


def test_exec_sponsor_missing_stays_silent_with_an_active_executive_sponsor(world) -> None:
    acme = world.customer("Acme", segment="Enterprise")
    person(world, acme, "Executive Sponsor")
    assert world.keys(RULE) == set()


def test_exec_sponsor_missing_stays_silent_with_an_active_big_boss(world) -> None:
    acme = world.customer("Acme", segment="Enterprise")
    person(world, acme, "Big Boss")
    assert world.keys(RULE) == set()


def test_exec_sponsor_missing_reads_the_effective_persona(world) -> None:
    acme = world.customer("Acme", segment="Enterprise")
    set_by_a_person = world.customer("Beta", segment="Enterprise")
    person(world, acme, "End User", computed="Big Boss")
    person(world, set_by_a_person, "Executive Sponsor", computed="End User")
    assert world.keys(RULE) == {f"exec_sponsor_missing:{acme}"}


def test_exec_sponsor_missing_stays_silent_on_a_customer_that_is_not_high_touch(world) -> None:
    acme = world.customer("Acme", segment="SMB")
    blank = world.customer("Blank", segment=None)
    person(world, acme, "End User")
    assert world.keys(RULE) == set()
    (row,) = world.rows(RULE, account_id=blank)
    assert not row["fires"] and "not high-touch" in RULE.evidence(row, world.ctx())


def test_exec_sponsor_missing_ignores_accounts_outside_the_customer_filter(world) -> None:
    world.customer("Prospect", segment="Enterprise", type="Prospect")
    assert world.keys(RULE) == set()


def test_exec_sponsor_missing_goes_to_the_account_owner_when_the_csm_is_inactive(world) -> None:
    ae = world.user()
    world.customer("Acme", csm_id=world.user(active=False), owner_id=ae)
    assert [o.owner_id for o in world.run(RULE)] == [ae]


def test_exec_sponsor_missing_goes_to_the_fallback_when_csm_and_ae_are_inactive(world) -> None:
    world.customer("Acme", csm_id=world.user(active=False), owner_id=world.user(active=False))
    assert [o.owner_id for o in world.run(RULE)] == [OWNERS["fallback"]]


def test_explain_shows_a_silent_accounts_figures(world) -> None:
    acme = world.customer("Acme", segment="Enterprise")
    person(world, acme, "Big Boss")
    person(world, acme, "End User")
    (row,) = world.rows(RULE, account_id=acme)
    assert not row["fires"] and (row["active"], row["executives"]) == (2, 1)
    assert "1 active contacts whose effective persona is" in RULE.evidence(row, world.ctx())
