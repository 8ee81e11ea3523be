"""ebr_due (RULES.md, Lifecycle): no EBR milestone dated in the last 180 days (HT)."""

from __future__ import annotations

from conftest import NOW, days

from connector.rules.cadence import EbrDue
from connector.rules.params import CadenceParams, RuleParams

RULE = EbrDue()
TODAY = NOW.date()


def ebr(world, account_id, on, **values):
    return world.add(
        "cs_milestone",
        account_id=account_id,
        milestone_type="EBR",
        milestone_date=on,
        name="EBR",
        **values,
    )


def test_ebr_due_fires_on_a_high_touch_customer_without_any_ebr(world) -> None:
    acme = world.customer("Acme")
    assert world.keys(RULE) == {f"ebr_due:{acme}"}


def test_ebr_due_fires_on_a_last_ebr_181_days_ago(world) -> None:
    acme = world.customer("Acme")
    ebr(world, acme, TODAY - days(181))
    assert world.keys(RULE) == {f"ebr_due:{acme}"}


def test_ebr_due_stays_silent_on_an_ebr_exactly_180_days_ago(world) -> None:
    acme = world.customer("Acme")
    ebr(world, acme, TODAY - days(180))
    assert world.keys(RULE) == set()


def test_ebr_due_ignores_an_ebr_of_another_account(world) -> None:
    acme, globex = world.customer("Acme"), world.customer("Globex")
    ebr(world, globex, TODAY - days(5))
    assert world.keys(RULE) == {f"ebr_due:{acme}"}


def test_ebr_due_stays_silent_on_customers_that_are_not_high_touch(world) -> None:
    world.customer("Small", segment="SMB")
    assert world.keys(RULE) == set()


def test_ebr_due_uses_the_configured_cadence(world) -> None:
    acme = world.customer("Acme")
    ebr(world, acme, TODAY - days(100))
    ctx = world.ctx(params=RuleParams(ebr=CadenceParams(every_days=90, due_days=30)))
    assert world.keys(RULE, ctx) == {f"ebr_due:{acme}"}


def test_ebr_due_gives_the_csm_a_cta_and_a_drafted_email_due_in_30_days(world) -> None:
    csm = world.user(name="Casey Smith")
    acme = world.customer("Acme", csm_id=csm)
    cta, task = world.run(RULE)
    assert cta.fields["name"] == "Schedule EBR" and cta.fields["type"] == "Lifecycle"
    assert cta.owner_id == task.owner_id == csm
    assert cta.due_date == task.due_date == TODAY + days(30)
    assert task.key == f"ebr_due:{acme}/email"
    assert "Acme" in task.fields["description"] and "Casey Smith" in task.fields["description"]


def test_ebr_due_goes_to_the_account_owner_when_the_csm_is_inactive(world) -> None:
    ae = world.user()
    world.customer("Acme", csm_id=world.user(active=False), owner_id=ae)
    cta, _ = world.run(RULE)
    assert cta.owner_id == ae


def test_ebr_due_evidence_cites_the_latest_ebr(world) -> None:
    acme = world.customer("Acme")
    ebr(world, acme, TODAY - days(200))
    cta, _ = world.run(RULE)
    assert (TODAY - days(200)).isoformat() in cta.evidence and "180 days" in cta.evidence


def test_explain_shows_a_silent_accounts_latest_ebr(world) -> None:
    acme = world.customer("Acme")
    ebr(world, acme, TODAY - days(30))
    (row,) = world.rows(RULE, account_id=acme)
    assert not row["fires"] and row["last_date"] == TODAY - days(30)
