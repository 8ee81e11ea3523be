"""risk_weekly_update (RULES.md, Risk process): an open Risk CTA with no update in 7 days."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import NOW, OWNERS, days

from connector.rules.risk_process import RiskWeeklyUpdate

RULE = RiskWeeklyUpdate()
TODAY = NOW.date()
WEEK = "2026-W47"


def risk_cta(world, account_id, *, status="New", type="Risk", owner_id=None, **values):  # noqa: A002
    return world.add(
        "cs_cta",
        account_id=account_id,
        name=values.pop("name", "Support risk"),
        type=type,
        status=status,
        owner_id=owner_id or world.user(),
        **values,
    )


def update(world, account_id, cta, on, **values):
    return world.add(
        "cs_timeline_entry",
        account_id=account_id,
        cta_id=cta,
        entry_date=on,
        name="Update",
        **values,
    )


def test_risk_weekly_update_fires_on_an_open_risk_cta_without_any_update(world) -> None:
    acme = world.customer("Acme", segment="SMB")
    cta = risk_cta(world, acme)
    assert world.keys(RULE) == {f"risk_weekly_update:{cta}:{WEEK}"}


def test_risk_weekly_update_fires_on_a_last_update_8_days_ago(world) -> None:
    acme = world.customer("Acme")
    cta = risk_cta(world, acme, status="In Progress")
    update(world, acme, cta, TODAY - days(8))
    assert world.keys(RULE) == {f"risk_weekly_update:{cta}:{WEEK}"}


def test_risk_weekly_update_stays_silent_on_an_update_exactly_7_days_ago(world) -> None:
    acme = world.customer("Acme")
    cta = risk_cta(world, acme)
    update(world, acme, cta, TODAY - days(7))
    assert world.keys(RULE) == set()


def test_risk_weekly_update_counts_a_completed_task_or_a_meeting_on_the_cta(world) -> None:
    acme = world.customer("Acme")
    by_task, by_event = risk_cta(world, acme), risk_cta(world, acme)
    world.add("task", what_id=by_task, activity_date=TODAY - days(7), is_closed=True)
    world.add("event", what_id=by_event, start_at=NOW - timedelta(days=7, hours=14))
    assert world.keys(RULE) == set()


def test_risk_weekly_update_ignores_open_tasks_and_the_connectors_own_records(world) -> None:
    acme = world.customer("Acme")
    cta = risk_cta(world, acme)
    world.add("task", what_id=cta, activity_date=TODAY, is_closed=False)
    world.add(
        "task",
        what_id=cta,
        activity_date=TODAY,
        is_closed=True,
        sync_key=f"risk_weekly_update:{cta}:2026-W46",
    )
    update(world, acme, cta, TODAY, sync_key=f"risk_escalation:{cta}")
    update(world, acme, risk_cta(world, acme), TODAY)  # another CTA's update
    assert f"risk_weekly_update:{cta}:{WEEK}" in world.keys(RULE)


def test_risk_weekly_update_skips_a_snoozed_cta(world) -> None:
    acme = world.customer("Acme")
    risk_cta(world, acme, snooze_until=TODAY + days(1))
    assert world.keys(RULE) == set()


def test_risk_weekly_update_fires_on_a_snooze_that_ends_today(world) -> None:
    acme = world.customer("Acme")
    cta = risk_cta(world, acme, snooze_until=TODAY)
    assert world.keys(RULE) == {f"risk_weekly_update:{cta}:{WEEK}"}


@pytest.mark.parametrize(
    ("status", "type_"),
    [
        ("Closed - Success", "Risk"),
        ("Closed - No Action", "Risk"),
        ("New", "Lifecycle"),
    ],
)
def test_risk_weekly_update_stays_silent_on_closed_or_non_risk_ctas(world, status, type_):
    acme = world.customer("Acme")
    risk_cta(world, acme, status=status, type=type_)
    assert world.keys(RULE) == set()


def test_risk_weekly_update_covers_ctas_people_created(world) -> None:
    acme = world.customer("Acme")
    cta = risk_cta(world, acme, sync_key=None, rule_id=None)
    assert world.keys(RULE) == {f"risk_weekly_update:{cta}:{WEEK}"}


def test_risk_weekly_update_asks_the_cta_owner_on_the_cta_due_wednesday(world) -> None:
    owner = world.user()
    acme = world.customer("Acme")
    cta = risk_cta(world, acme, owner_id=owner, name="Usage drop")
    (task,) = world.run(RULE)
    assert task.owner_id == owner and task.fields["what_id"] == cta
    assert task.fields["subject"] == "Log weekly update: Usage drop"
    assert task.due_date == TODAY  # NOW is a Wednesday
    assert "temperature, what is being done, help needed" in task.fields["description"]


def test_risk_weekly_update_is_due_the_next_wednesday_on_other_days(world) -> None:
    acme = world.customer("Acme")
    cta = risk_cta(world, acme)
    thursday = NOW + days(1)
    (task,) = world.run(RULE, world.ctx(now=thursday))
    assert task.due_date == TODAY + days(7) and task.key.endswith(f"{cta}:{WEEK}")


def test_risk_weekly_update_goes_to_the_fallback_when_the_cta_owner_is_inactive(world) -> None:
    acme = world.customer("Acme")
    risk_cta(world, acme, owner_id=world.user(active=False))
    (task,) = world.run(RULE)
    assert task.owner_id == OWNERS["fallback"]


def test_risk_weekly_update_evidence_cites_the_latest_update(world) -> None:
    acme = world.customer("Acme")
    cta = risk_cta(world, acme)
    update(world, acme, cta, TODAY - days(12))
    (task,) = world.run(RULE)
    assert (TODAY - days(12)).isoformat() in task.fields["description"] and cta in task.key


def test_explain_shows_a_silent_ctas_latest_update(world) -> None:
    acme = world.customer("Acme")
    cta = risk_cta(world, acme)
    update(world, acme, cta, TODAY - days(1))
    (row,) = world.rows(RULE, account_id=acme)
    assert not row["fires"] and row["last_day"] == TODAY - days(1)
