"""sponsor_turnover (RULES.md, Risk): an executive at the previous cycle is now inactive or
deleted."""

from __future__ import annotations

from datetime import timedelta

from conftest import NOW, OWNERS, World
from sqlalchemy import insert

from connector.rules.relationship import SponsorTurnover
from connector.store.schema import persona_state

RULE = SponsorTurnover()
TODAY = NOW.date()


def person(
    world: World,
    account: str,
    *,
    was: str | None,
    was_active: bool | None = True,
    active: bool = True,
    persona: str = "End User",
    record: bool = True,
    **values,
) -> str:
    """A contact (``record``: its mirror row exists) and its persona state, now and before."""
    contact = (
        world.add("contact", account_id=account, name="Kim Yoshida", title="CFO", **values)
        if record
        else "003MISSING00000001"
    )
    with world.engine.begin() as conn:
        conn.execute(
            insert(persona_state).values(
                contact_id=contact,
                account_id=account,
                computed=persona,
                effective=persona,
                active=active,
                previous_effective=was,
                previous_active=was_active,
                evaluated_at=NOW,
            )
        )
    return contact


def test_sponsor_turnover_fires_when_an_executive_sponsor_leaves_the_company(world) -> None:
    csm = world.user()
    acme = world.customer("Acme", csm_id=csm)
    kim = person(world, acme, was="Executive Sponsor", active=False, inactive=True)
    (cta,) = world.run(RULE)
    assert cta.key == f"sponsor_turnover:{kim}"
    assert (cta.fields["type"], cta.fields["reason"], cta.fields["priority"]) == (
        "Risk",
        "Relationship",
        "High",
    )
    assert cta.owner_id == csm and cta.due_date == TODAY + timedelta(days=7)
    assert cta.fields["contact_id"] == kim
    assert "Kim Yoshida" in cta.evidence and "Executive Sponsor" in cta.evidence
    assert "no longer active" in cta.evidence


def test_sponsor_turnover_fires_when_a_big_boss_is_deleted(world) -> None:
    acme = world.customer("Acme")
    lars = person(world, acme, was="Big Boss", active=False, deleted=True)
    (cta,) = world.run(RULE)
    assert cta.key == f"sponsor_turnover:{lars}" and "was deleted" in cta.evidence
    assert cta.fields["contact_id"] is None


def test_sponsor_turnover_fires_when_the_contact_row_is_gone(world) -> None:
    acme = world.customer("Acme")
    gone = person(world, acme, was="Big Boss", record=False)
    assert world.keys(RULE) == {f"sponsor_turnover:{gone}"}


def test_sponsor_turnover_fires_once_per_contact(world) -> None:
    acme = world.customer("Acme")
    kim = person(world, acme, was="Executive Sponsor", active=False)
    lars = person(world, acme, was="Big Boss", active=False, deleted=True)
    person(world, acme, was="Big Boss")
    assert world.keys(RULE) == {f"sponsor_turnover:{kim}", f"sponsor_turnover:{lars}"}


def test_sponsor_turnover_stays_silent_while_the_executive_stays_active(world) -> None:
    acme = world.customer("Acme")
    person(world, acme, was="Big Boss", persona="Big Boss")
    person(world, acme, was="Executive Sponsor", persona="End User")  # re-classified, still here
    assert world.keys(RULE) == set()


def test_sponsor_turnover_stays_silent_when_an_end_user_or_admin_leaves(world) -> None:
    acme = world.customer("Acme")
    person(world, acme, was="End User", active=False, inactive=True)
    person(world, acme, was="Admin", active=False, deleted=True)
    assert world.keys(RULE) == set()


def test_sponsor_turnover_stays_silent_on_the_first_cycle(world) -> None:
    acme = world.customer("Acme")
    person(world, acme, was=None, was_active=None, active=False, inactive=True)
    assert world.keys(RULE) == set()


def test_sponsor_turnover_stays_silent_on_an_executive_already_gone_last_cycle(world) -> None:
    acme = world.customer("Acme")
    person(world, acme, was="Big Boss", was_active=False, active=False, inactive=True)
    assert world.keys(RULE) == set()


def test_sponsor_turnover_ignores_accounts_outside_the_customer_filter(world) -> None:
    prospect = world.customer("Prospect", type="Prospect")
    person(world, prospect, was="Big Boss", active=False)
    assert world.keys(RULE) == set()


def test_sponsor_turnover_goes_to_the_account_owner_when_the_csm_is_inactive(world) -> None:
    ae = world.user()
    acme = world.customer("Acme", csm_id=world.user(active=False), owner_id=ae)
    person(world, acme, was="Big Boss", active=False)
    assert [o.owner_id for o in world.run(RULE)] == [ae]


def test_sponsor_turnover_goes_to_the_fallback_when_csm_and_ae_are_inactive(world) -> None:
    acme = world.customer(
        "Acme", csm_id=world.user(active=False), owner_id=world.user(active=False)
    )
    person(world, acme, was="Big Boss", active=False)
    assert [o.owner_id for o in world.run(RULE)] == [OWNERS["fallback"]]


def test_explain_shows_a_silent_accounts_contacts(world) -> None:
    acme = world.customer("Acme")
    kim = person(world, acme, was="Big Boss", persona="Big Boss")
    (row,) = world.rows(RULE, account_id=acme)
    assert not row["fires"] and row["contact_id"] == kim and row["previous_effective"] == "Big Boss"


def test_sponsor_turnover_fires_once_when_sponsors_leave_between_two_evaluations(world) -> None:
    from sqlalchemy import update

    from connector.evaluate import evaluate

    acme = world.customer("Acme")
    kim = world.add("contact", account_id=acme, name="Kim Yoshida", title="Director of Finance")
    paula = world.add(
        "contact", account_id=acme, name="Paula Reyes", title="Analyst", persona="Executive Sponsor"
    )
    ola = world.add("contact", account_id=acme, name="Ola Nord", title="Support Analyst")
    world.add("account_contact_role", account_id=acme, contact_id=kim, role="Executive Sponsor")

    def cycle() -> set[str]:
        _, outputs = evaluate(world.engine, world.ctx(), [RULE], write=True)
        return {o.key for o in outputs}

    assert cycle() == set()
    contact = world.tables.contact
    with world.engine.begin() as conn:
        conn.execute(
            update(contact).where(contact.c.id.in_([kim, paula, ola])).values(inactive=True)
        )
    assert cycle() == {f"sponsor_turnover:{kim}", f"sponsor_turnover:{paula}"}
    assert cycle() == set()
