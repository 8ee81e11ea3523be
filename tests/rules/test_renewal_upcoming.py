"""renewal_upcoming (RULES.md, Lifecycle): the renewal date is within 120 days."""

from __future__ import annotations

from conftest import NOW, days

from connector.rules.renewal import RenewalUpcoming

RULE = RenewalUpcoming()
TODAY = NOW.date()


def renewal_opp(world, account_id, closes, *, type="Renewal", closed=False, **values):  # noqa: A002
    return world.add(
        "opportunity",
        account_id=account_id,
        name="Renewal 2027",
        type=type,
        is_closed=closed,
        is_won=False,
        close_date=closes,
        **values,
    )


def test_renewal_upcoming_fires_on_a_renewal_date_exactly_120_days_ahead(world) -> None:
    renewal = TODAY + days(120)
    acme = world.customer("Acme", segment="SMB", renewal_date=renewal)
    assert world.keys(RULE) == {f"renewal_upcoming:{acme}:{renewal.isoformat()}"}


def test_renewal_upcoming_stays_silent_on_a_renewal_date_121_days_ahead(world) -> None:
    world.customer("Acme", renewal_date=TODAY + days(121))
    assert world.keys(RULE) == set()


def test_renewal_upcoming_fires_on_a_renewal_date_of_today(world) -> None:
    acme = world.customer("Acme", renewal_date=TODAY)
    assert world.keys(RULE) == {f"renewal_upcoming:{acme}:{TODAY.isoformat()}"}


def test_renewal_upcoming_stays_silent_on_a_past_renewal_date_without_a_renewal_deal(world):
    acme = world.customer("Acme", renewal_date=TODAY - days(1))
    renewal_opp(world, acme, TODAY - days(1))
    assert world.keys(RULE) == set()


def test_renewal_upcoming_falls_back_to_the_earliest_open_renewal_opportunity(world) -> None:
    acme = world.customer("Acme", renewal_date=TODAY - days(10))
    renewal_opp(world, acme, TODAY + days(90))
    early = renewal_opp(world, acme, TODAY + days(60))
    renewal_opp(world, acme, TODAY + days(5), closed=True)
    renewal_opp(world, acme, TODAY + days(6), type="Upsell")
    renewal_opp(world, acme, TODAY + days(7), deleted=True)
    renewal = (TODAY + days(60)).isoformat()
    assert world.keys(RULE) == {f"renewal_upcoming:{acme}:{renewal}"}
    cta = world.run(RULE)[0]
    assert cta.fields["opportunity_id"] == early and early in cta.evidence


def test_renewal_upcoming_uses_the_account_date_over_an_earlier_opportunity(world) -> None:
    renewal = TODAY + days(100)
    acme = world.customer("Acme", renewal_date=renewal)
    renewal_opp(world, acme, TODAY + days(30))
    assert world.keys(RULE) == {f"renewal_upcoming:{acme}:{renewal.isoformat()}"}


def test_renewal_upcoming_stays_silent_on_an_opportunity_closing_121_days_ahead(world) -> None:
    acme = world.customer("Acme")
    renewal_opp(world, acme, TODAY + days(121))
    assert world.keys(RULE) == set()


def test_renewal_upcoming_creates_a_renewal_cta_with_a_review_and_an_email(world) -> None:
    csm = world.user(name="Casey Smith")
    renewal = TODAY + days(110)
    acme = world.customer("Acme", csm_id=csm, renewal_date=renewal)
    cta, review, email = world.run(RULE)
    assert cta.fields["name"] == "Renewal in 120 days" and cta.fields["type"] == "Renewal"
    assert cta.owner_id == review.owner_id == email.owner_id == csm
    assert cta.due_date == TODAY + days(14) and review.due_date == TODAY + days(7)
    assert review.fields["subject"] == "Review health before renewal"
    assert email.fields["subject"] == "Send renewal email"
    assert email.due_date == renewal - days(90)
    assert renewal.isoformat() in email.fields["description"]
    assert "Acme" in email.fields["description"] and "Casey Smith" in email.fields["description"]
    assert email.key == f"renewal_upcoming:{acme}:{renewal.isoformat()}/renewal-email"


def test_renewal_upcoming_email_is_due_today_when_renewal_minus_90_days_has_passed(world):
    world.customer("Acme", renewal_date=TODAY + days(30))
    _, _, email = world.run(RULE)
    assert email.due_date == TODAY


def test_renewal_upcoming_evidence_cites_the_renewal_date_and_its_source(world) -> None:
    renewal = TODAY + days(45)
    world.customer("Acme", renewal_date=renewal)
    cta, _, _ = world.run(RULE)
    assert renewal.isoformat() in cta.evidence and "renewal date field" in cta.evidence
    assert "120 days" in cta.evidence


def test_explain_shows_a_silent_accounts_renewal_date(world) -> None:
    acme = world.customer("Acme", renewal_date=TODAY + days(200))
    (row,) = world.rows(RULE, account_id=acme)
    assert not row["fires"] and row["renewal_date"] == TODAY + days(200)
    assert row["source"] == "account"
