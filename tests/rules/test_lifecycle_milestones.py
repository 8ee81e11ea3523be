"""lifecycle_milestones (RULES.md, Lifecycle): a connector Lifecycle CTA closed as successful."""

from __future__ import annotations

import pytest
from conftest import NOW, days

from connector.rules.milestones import LifecycleMilestones

RULE = LifecycleMilestones()
TODAY = NOW.date()


def lifecycle_cta(
    world,
    account_id,
    rule_id="exec_checkin",
    *,
    status="Closed - Success",
    sync_key="exec_checkin:x",
    type="Lifecycle",
    **values,
):  # noqa: A002
    values.setdefault("closed_date", TODAY - days(2))
    return world.add(
        "cs_cta",
        account_id=account_id,
        name="Exec Check-in",
        rule_id=rule_id,
        status=status,
        sync_key=sync_key,
        type=type,
        **values,
    )


@pytest.mark.parametrize(
    ("rule_id", "milestone"),
    [
        ("exec_checkin", "Exec Check-in"),
        ("ebr_due", "EBR"),
        ("sales_handoff", "Sales Handoff"),
        ("ivm_handoff", "CS Handoff"),
    ],
)
def test_lifecycle_milestones_fires_on_a_successful_close_with_the_matching_milestone(
    world, rule_id, milestone
) -> None:
    acme = world.customer("Acme", segment="SMB")
    cta = lifecycle_cta(world, acme, rule_id, sync_key=f"{rule_id}:{acme}")
    ms, note = world.run(RULE)
    assert ms.key == f"lifecycle_milestones:{cta}" and ms.object == "milestone"
    assert ms.fields["milestone_type"] == milestone and ms.fields["cta_id"] == cta
    assert note.key == f"lifecycle_milestones:{cta}/note" and note.object == "timeline_entry"


def test_lifecycle_milestones_dates_the_milestone_and_note_at_the_close(world) -> None:
    acme = world.customer("Acme")
    lifecycle_cta(world, acme, closed_date=TODAY - days(3))
    ms, note = world.run(RULE)
    assert ms.fields["milestone_date"] == note.fields["entry_date"] == TODAY - days(3)
    assert (TODAY - days(3)).isoformat() in ms.evidence


def test_lifecycle_milestones_dates_a_close_without_a_closed_date_today(world) -> None:
    acme = world.customer("Acme")
    lifecycle_cta(world, acme, closed_date=None)
    ms, _ = world.run(RULE)
    assert ms.fields["milestone_date"] == TODAY


def test_lifecycle_milestones_carries_the_opportunity_of_a_sales_handoff(world) -> None:
    acme = world.customer("Acme")
    opp = world.add("opportunity", account_id=acme, name="Deal")
    lifecycle_cta(world, acme, "sales_handoff", opportunity_id=opp)
    ms, _ = world.run(RULE)
    assert ms.fields["opportunity_id"] == opp


@pytest.mark.parametrize("status", ["New", "In Progress", "Closed - No Action", "Closed - Lost"])
def test_lifecycle_milestones_stays_silent_on_any_other_status(world, status) -> None:
    acme = world.customer("Acme")
    lifecycle_cta(world, acme, status=status)
    assert world.keys(RULE) == set()


def test_lifecycle_milestones_stays_silent_on_a_cta_a_person_created(world) -> None:
    acme = world.customer("Acme")
    lifecycle_cta(world, acme, sync_key=None)
    assert world.keys(RULE) == set()


def test_lifecycle_milestones_stays_silent_on_other_rules_and_types(world) -> None:
    acme = world.customer("Acme")
    lifecycle_cta(world, acme, "renewal_upcoming", type="Renewal")
    lifecycle_cta(world, acme, "support_risk", type="Risk")
    lifecycle_cta(world, acme, "exec_checkin", type="Risk")
    lifecycle_cta(world, acme, deleted=True)
    assert world.keys(RULE) == set()


def test_explain_shows_a_silent_accounts_lifecycle_ctas(world) -> None:
    acme = world.customer("Acme")
    cta = lifecycle_cta(world, acme, status="In Progress", closed_date=None)
    (row,) = world.rows(RULE, account_id=acme)
    assert not row["fires"] and row["cta_id"] == cta and row["status"] == "In Progress"
