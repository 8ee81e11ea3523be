"""timeline_hygiene (RULES.md, Lifecycle): a high-touch account quiet for more than 7 days."""

from __future__ import annotations

from datetime import timedelta

from conftest import NOW, OWNERS, days

from connector.rules.params import RuleParams, TimelineParams
from connector.rules.timeline import TimelineHygiene

RULE = TimelineHygiene()
TODAY = NOW.date()


def completed_task(world, what_id, on, **values):
    return world.add(
        "task",
        what_id=what_id,
        activity_date=on,
        is_closed=True,
        created_at=NOW - days(60),
        **values,
    )


def test_timeline_hygiene_fires_on_an_account_with_no_activity_at_all(world) -> None:
    acme = world.customer("Acme")
    assert world.keys(RULE) == {f"timeline_hygiene:{acme}"}


def test_timeline_hygiene_fires_on_a_last_activity_8_days_ago(world) -> None:
    acme = world.customer("Acme")
    completed_task(world, acme, TODAY - days(8))
    assert world.keys(RULE) == {f"timeline_hygiene:{acme}"}


def test_timeline_hygiene_stays_silent_on_an_activity_exactly_7_days_ago(world) -> None:
    acme = world.customer("Acme")
    completed_task(world, acme, TODAY - days(7))
    assert world.keys(RULE) == set()


def test_timeline_hygiene_counts_a_meeting_by_the_date_it_started(world) -> None:
    acme = world.customer("Acme")
    world.add("event", what_id=acme, start_at=NOW - timedelta(days=7, hours=14))
    assert world.keys(RULE) == set()


def test_timeline_hygiene_counts_a_timeline_entry_a_person_logged(world) -> None:
    acme = world.customer("Acme")
    world.add("cs_timeline_entry", account_id=acme, entry_date=TODAY - days(3), name="Call")
    assert world.keys(RULE) == set()


def test_timeline_hygiene_counts_activity_through_a_contact_or_an_opportunity(world) -> None:
    by_contact, by_opp = world.customer("ByContact"), world.customer("ByOpp")
    contact = world.add("contact", account_id=by_contact, name="Jo")
    world.add("task", who_id=contact, activity_date=TODAY - days(1), is_closed=True)
    opp = world.add("opportunity", account_id=by_opp, name="Deal")
    world.add("event", what_id=opp, start_at=NOW - days(2))
    assert world.keys(RULE) == set()


def test_timeline_hygiene_ignores_the_connectors_own_records(world) -> None:
    acme = world.customer("Acme")
    completed_task(world, acme, TODAY, sync_key="support_risk:x/stay-informed")
    world.add("cs_timeline_entry", account_id=acme, entry_date=TODAY, sync_key="risk_escalation:x")
    assert world.keys(RULE) == {f"timeline_hygiene:{acme}"}


def test_timeline_hygiene_ignores_open_tasks_and_meetings_not_yet_started(world) -> None:
    acme = world.customer("Acme")
    world.add("task", what_id=acme, activity_date=TODAY, is_closed=False)
    world.add("event", what_id=acme, start_at=NOW + timedelta(minutes=1))
    assert world.keys(RULE) == {f"timeline_hygiene:{acme}"}


def test_timeline_hygiene_stays_silent_on_accounts_that_are_not_high_touch(world) -> None:
    world.customer("Small", segment="SMB")
    assert world.keys(RULE) == set()


def test_timeline_hygiene_creates_a_medium_activity_cta_for_the_csm_that_auto_closes(world) -> None:
    csm = world.user()
    acme = world.customer("Acme", csm_id=csm)
    (cta,) = world.run(RULE)
    assert cta.object == "cta" and cta.owner_id == csm
    assert cta.fields["name"] == "No timeline update in 7 days"
    assert cta.fields["type"] == "Activity" and cta.fields["priority"] == "Medium"
    assert cta.fields["auto_close"] is True and cta.account_id == acme
    assert cta.due_date == TODAY + days(3)


def test_timeline_hygiene_goes_to_the_account_owner_when_the_csm_is_inactive(world) -> None:
    ae = world.user()
    world.customer("Acme", csm_id=world.user(active=False), owner_id=ae)
    (cta,) = world.run(RULE)
    assert cta.owner_id == ae


def test_timeline_hygiene_uses_the_configured_number_of_days(world) -> None:
    acme = world.customer("Acme")
    completed_task(world, acme, TODAY - days(8))
    ctx = world.ctx(params=RuleParams(timeline_hygiene=TimelineParams(days=10)))
    assert world.keys(RULE, ctx) == set()


def test_timeline_hygiene_evidence_cites_the_last_activity_date(world) -> None:
    acme = world.customer("Acme")
    completed_task(world, acme, TODAY - days(9))
    (cta,) = world.run(RULE)
    assert (TODAY - days(9)).isoformat() in cta.evidence and "7 days" in cta.evidence
    assert OWNERS["fallback"] != cta.owner_id


def test_explain_shows_a_quiet_free_accounts_last_activity(world) -> None:
    acme = world.customer("Acme")
    completed_task(world, acme, TODAY - days(2))
    (row,) = world.rows(RULE, account_id=acme)
    assert not row["fires"] and row["last_day"] == TODAY - days(2)
