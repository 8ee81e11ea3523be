"""sales_handoff (RULES.md, Lifecycle): a New Business deal won recently, not handed off yet."""

from __future__ import annotations

from conftest import NOW, OWNERS, days

from connector.rules.params import RuleParams, SalesHandoffParams
from connector.rules.sales import SalesHandoff

RULE = SalesHandoff()
TODAY = NOW.date()


def deal(world, account_id, closed, *, type="New Business", won=True, **values):  # noqa: A002
    return world.add(
        "opportunity",
        account_id=account_id,
        name=values.pop("name", "Big deal"),
        type=type,
        is_won=won,
        is_closed=True,
        close_date=closed,
        **values,
    )


def handoff(world, account_id, on):
    return world.add(
        "cs_milestone",
        account_id=account_id,
        milestone_type="Sales Handoff",
        milestone_date=on,
        name="Sales Handoff",
    )


def test_sales_handoff_fires_on_a_new_business_deal_won_exactly_30_days_ago(world) -> None:
    acme = world.customer("Acme", segment="SMB")
    opp = deal(world, acme, TODAY - days(30))
    assert world.keys(RULE) == {f"sales_handoff:{opp}"}


def test_sales_handoff_stays_silent_on_a_deal_won_31_days_ago(world) -> None:
    acme = world.customer("Acme")
    deal(world, acme, TODAY - days(31))
    assert world.keys(RULE) == set()


def test_sales_handoff_stays_silent_on_a_close_date_in_the_future(world) -> None:
    acme = world.customer("Acme")
    deal(world, acme, TODAY + days(1))
    assert world.keys(RULE) == set()


def test_sales_handoff_stays_silent_on_lost_deals_and_other_types(world) -> None:
    acme = world.customer("Acme")
    deal(world, acme, TODAY - days(3), won=False)
    deal(world, acme, TODAY - days(3), type="Renewal")
    deal(world, acme, TODAY - days(3), type=None)
    deal(world, acme, TODAY - days(3), deleted=True)
    assert world.keys(RULE) == set()


def test_sales_handoff_stays_silent_on_a_handoff_milestone_dated_on_the_close_date(world) -> None:
    acme = world.customer("Acme")
    deal(world, acme, TODAY - days(10))
    handoff(world, acme, TODAY - days(10))
    assert world.keys(RULE) == set()


def test_sales_handoff_fires_on_a_handoff_milestone_dated_before_the_close_date(world) -> None:
    acme = world.customer("Acme")
    opp = deal(world, acme, TODAY - days(10))
    handoff(world, acme, TODAY - days(11))
    assert world.keys(RULE) == {f"sales_handoff:{opp}"}


def test_sales_handoff_gives_one_cta_per_opportunity(world) -> None:
    acme = world.customer("Acme")
    first, second = deal(world, acme, TODAY - days(20)), deal(world, acme, TODAY)
    handoff(world, acme, TODAY - days(15))
    assert world.keys(RULE) == {f"sales_handoff:{second}"}
    assert first not in {o.fields.get("opportunity_id") for o in world.run(RULE)}


def test_sales_handoff_uses_the_configured_new_business_types(world) -> None:
    acme = world.customer("Acme")
    opp = deal(world, acme, TODAY - days(2), type="New Customer")
    params = RuleParams(sales_handoff=SalesHandoffParams(new_business_types=("New Customer",)))
    assert world.keys(RULE, world.ctx(params=params)) == {f"sales_handoff:{opp}"}


def test_sales_handoff_gives_the_kickoff_to_the_csm_and_the_notes_to_the_ae(world) -> None:
    csm, ae = world.user(), world.user()
    acme = world.customer("Acme", csm_id=csm, owner_id=ae)
    opp = deal(world, acme, TODAY - days(2), owner_id=world.user())
    cta, kickoff, notes = world.run(RULE)
    assert cta.fields["name"] == "Sales handoff" and cta.fields["type"] == "Lifecycle"
    assert cta.fields["opportunity_id"] == opp and cta.owner_id == csm
    assert cta.due_date == kickoff.due_date == notes.due_date == TODAY + days(7)
    assert kickoff.key == f"sales_handoff:{opp}/kickoff" and kickoff.owner_id == csm
    assert notes.key == f"sales_handoff:{opp}/handoff-notes" and notes.owner_id == ae


def test_sales_handoff_gives_the_notes_to_the_fallback_when_the_account_owner_is_inactive(world):
    ae = world.user(active=False)
    acme = world.customer("Acme", owner_id=ae)
    deal(world, acme, TODAY - days(2))
    _, _, notes = world.run(RULE)
    assert notes.owner_id == OWNERS["fallback"]


def test_sales_handoff_evidence_cites_the_deal_and_its_close_date(world) -> None:
    acme = world.customer("Acme")
    opp = deal(world, acme, TODAY - days(4), name="Acme platform")
    handoff(world, acme, TODAY - days(40))
    cta, _, _ = world.run(RULE)
    for figure in (
        opp,
        "Acme platform",
        (TODAY - days(4)).isoformat(),
        (TODAY - days(40)).isoformat(),
        "30 days",
    ):
        assert figure in cta.evidence


def test_sales_handoff_ignores_accounts_outside_the_customer_filter(world) -> None:
    prospect = world.customer("Prospect", type="Prospect")
    deal(world, prospect, TODAY - days(1))
    assert world.keys(RULE) == set()


def test_explain_shows_a_silent_accounts_deals(world) -> None:
    acme = world.customer("Acme")
    deal(world, acme, TODAY - days(31))
    (row,) = world.rows(RULE, account_id=acme)
    assert not row["fires"] and row["close_date"] == TODAY - days(31)
