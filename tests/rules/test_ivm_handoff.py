"""ivm_handoff (RULES.md, Lifecycle): an onboarding customer without an "IVM Reached" milestone
whose pilot (ceil(10 % x licenses purchased)) reached 80 % active users and >= 5 green features
in each of the last 2 complete weeks, with every IVM checkbox true."""

from __future__ import annotations

from datetime import date, timedelta

from conftest import NOW, OWNERS

from connector.rules.ivm import IvmHandoff
from connector.rules.params import IvmParams, RuleParams

RULE = IvmHandoff()
LAST = date(2026, 11, 9)  # the Monday of the last complete week before NOW (Wed 2026-11-18)
FEATURES = list(RuleParams().features)
BOXES = {"ivm_kickoff_done": True, "ivm_integration_live": True, "ivm_training_done": True}


def onboarding(
    world, name: str = "Acme", *, licenses: int | None = 200, stage: str = "Deploy", **values
) -> str:
    """A customer in onboarding with every IVM checkbox ticked (override per test)."""
    return world.customer(
        name, lifecycle_stage=stage, licenses_purchased=licenses, **(BOXES | values)
    )


def week(world, account: str, weeks_back: int, active: int | None, green: int = 5) -> str:
    metrics = {col: 10.0 if i < green else 0.0 for i, col in enumerate(FEATURES)}
    return world.add(
        "usage_week",
        account_id=account,
        active_users=active,
        week_start=LAST - timedelta(weeks=weeks_back),
        **metrics,
    )


def reached(
    world,
    account: str,
    last: tuple[int | None, int] = (17, 5),
    prev: tuple[int | None, int] = (16, 5),
) -> None:
    """Usage for the last complete week and the week before: (active users, green features)."""
    week(world, account, 0, *last)
    week(world, account, 1, *prev)


def test_ivm_handoff_fires_on_exactly_80_percent_of_the_pilot(world) -> None:
    acme = onboarding(world)  # pilot = ceil(10 % x 200) = 20; 80 % x 20 = 16
    reached(world, acme, last=(16, 5), prev=(16, 5))
    assert world.keys(RULE) == {f"ivm_handoff:{acme}"}


def test_ivm_handoff_stays_silent_on_15_active_users_last_week(world) -> None:
    acme = onboarding(world)
    reached(world, acme, last=(15, 5))
    assert world.keys(RULE) == set()


def test_ivm_handoff_stays_silent_on_15_active_users_the_week_before(world) -> None:
    acme = onboarding(world)
    reached(world, acme, prev=(15, 7))
    assert world.keys(RULE) == set()


def test_ivm_handoff_rounds_the_pilot_up_exactly(world) -> None:
    acme = onboarding(world, licenses=160)  # pilot 16 (not 17): need 12.8, so 13 users
    beta = onboarding(world, "Beta", licenses=161)  # pilot 17: need 13.6, so 14 users
    reached(world, acme, last=(13, 5), prev=(13, 5))
    reached(world, beta, last=(13, 5), prev=(14, 5))
    assert world.keys(RULE) == {f"ivm_handoff:{acme}"}


def test_ivm_handoff_takes_the_pilot_ceiling_exactly_where_floats_would_not(world) -> None:
    acme = onboarding(world, licenses=100)  # float: ceil(0.07 x 100) = 8; exact: 7
    reached(world, acme, last=(7, 5), prev=(7, 5))
    params = RuleParams(ivm=IvmParams(pilot_share=0.07, users_share=1.0))
    assert world.keys(RULE, world.ctx(params=params)) == {f"ivm_handoff:{acme}"}


def test_ivm_handoff_compares_the_users_share_exactly_where_floats_would_not(world) -> None:
    acme = onboarding(world, licenses=1000)  # pilot 100; float: 0.55 x 100 > 55
    reached(world, acme, last=(55, 5), prev=(55, 5))
    params = RuleParams(ivm=IvmParams(users_share=0.55))
    assert world.keys(RULE, world.ctx(params=params)) == {f"ivm_handoff:{acme}"}


def test_ivm_handoff_stays_silent_on_4_green_features_last_week(world) -> None:
    acme = onboarding(world)
    reached(world, acme, last=(17, 4))
    assert world.keys(RULE) == set()


def test_ivm_handoff_stays_silent_on_4_green_features_the_week_before(world) -> None:
    acme = onboarding(world)
    reached(world, acme, prev=(30, 4))
    assert world.keys(RULE) == set()


def test_ivm_handoff_counts_green_features_absolutely_not_scaled(world) -> None:
    acme = onboarding(world)  # 5 of 10 tracked is below "5 of 7" scaled, but 5 is enough here
    reached(world, acme)
    ten = {col: 10 for col in FEATURES} | {f"feature_x{i}": 10 for i in range(3)}
    params = RuleParams(features=ten)  # three extra columns the mapping lacks: never green
    assert world.keys(RULE, world.ctx(params=params)) == {f"ivm_handoff:{acme}"}


def test_ivm_handoff_stays_silent_on_a_blank_checkbox(world) -> None:
    acme = onboarding(world, ivm_training_done=None)
    beta = onboarding(world, "Beta", ivm_kickoff_done=False)
    reached(world, acme)
    reached(world, beta)
    assert world.keys(RULE) == set()


def test_ivm_handoff_needs_a_row_for_each_of_the_last_2_complete_weeks(world) -> None:
    acme = onboarding(world)
    week(world, acme, 0, 30, 7)
    week(world, acme, 2, 30, 7)
    beta = onboarding(world, "Beta")
    reached(world, beta, last=(None, 7))  # a blank active-user figure is no data
    assert world.keys(RULE) == set()


def test_ivm_handoff_stays_silent_without_licenses_purchased(world) -> None:
    acme = onboarding(world, licenses=None)
    reached(world, acme)
    assert world.keys(RULE) == set()


def test_ivm_handoff_with_0_licences_has_a_pilot_of_0_that_any_active_figure_meets(world) -> None:
    acme = onboarding(world, licenses=0)  # pilot = ceil(10 % x 0) = 0; 80 % x 0 = 0
    reached(world, acme, last=(0, 5), prev=(0, 5))
    assert world.keys(RULE) == {f"ivm_handoff:{acme}"}


def test_ivm_handoff_treats_blank_active_users_as_no_data(world) -> None:
    acme = onboarding(world, licenses=0)
    reached(world, acme, last=(None, 5), prev=(0, 5))
    assert world.keys(RULE) == set()


def test_ivm_handoff_stays_silent_outside_the_onboarding_stages(world) -> None:
    acme = onboarding(world, stage="Adopt")
    welcome = onboarding(world, "Welcome Co", stage="Welcome")
    reached(world, acme)
    reached(world, welcome)
    assert world.keys(RULE) == {f"ivm_handoff:{welcome}"}


def test_ivm_handoff_stays_silent_once_an_ivm_reached_milestone_exists(world) -> None:
    acme = onboarding(world)
    beta = onboarding(world, "Beta")
    for account in (acme, beta):
        reached(world, account)
    world.add(
        "cs_milestone",
        account_id=acme,
        milestone_type="IVM Reached",
        milestone_date=date(2024, 1, 5),
    )
    world.add(
        "cs_milestone",
        account_id=beta,
        milestone_type="IVM Reached",
        milestone_date=date(2026, 11, 1),
        deleted=True,
    )
    world.add(
        "cs_milestone", account_id=beta, milestone_type="EBR", milestone_date=date(2026, 11, 1)
    )
    assert world.keys(RULE) == {f"ivm_handoff:{beta}"}
    (row,) = world.rows(RULE, account_id=acme)
    assert not row["fires"] and not row["no_milestone"] and row["users_ok"]
    assert "an IVM Reached milestone exists" in RULE.evidence(row, world.ctx())


def test_ivm_handoff_creates_the_milestone_the_cta_and_its_checklist(world) -> None:
    csm = world.user()
    acme = onboarding(world, csm_id=csm)
    reached(world, acme)
    (cta, milestone, *tasks) = world.run(RULE)
    key = f"ivm_handoff:{acme}"
    assert (cta.key, cta.object, cta.owner_id) == (key, "cta", csm)
    assert cta.fields["type"] == "Lifecycle" and cta.fields["name"] == "Onboarding → CS handoff"
    assert cta.due_date == NOW.date() + timedelta(days=7)
    assert (milestone.key, milestone.object, milestone.parent_key) == (
        f"{key}/milestone",
        "milestone",
        key,
    )
    assert milestone.fields["milestone_type"] == "IVM Reached"
    assert milestone.fields["milestone_date"] == NOW.date()
    assert [t.key for t in tasks] == [
        f"{key}/implementation-status",
        f"{key}/adoption-readiness",
        f"{key}/next-steps",
    ]
    assert all(
        t.owner_id == csm and t.parent_key == key and t.due_date == cta.due_date for t in tasks
    )


def test_ivm_handoff_goes_to_the_account_owner_when_the_csm_is_inactive(world) -> None:
    ae = world.user()
    acme = onboarding(world, csm_id=world.user(active=False), owner_id=ae)
    reached(world, acme)
    (cta, _, *tasks) = world.run(RULE)
    assert cta.owner_id == ae and {t.owner_id for t in tasks} == {ae}


def test_ivm_handoff_goes_to_the_fallback_when_csm_and_owner_are_inactive(world) -> None:
    acme = onboarding(world, csm_id=world.user(active=False), owner_id=world.user(active=False))
    reached(world, acme)
    (cta, *_) = world.run(RULE)
    assert cta.owner_id == OWNERS["fallback"]


def test_ivm_handoff_evidence_carries_every_condition_with_its_figures(world) -> None:
    acme = onboarding(world)
    reached(world, acme, last=(17, 6), prev=(16, 5))
    (cta, *_) = world.run(RULE)
    assert "Lifecycle stage Deploy" in cta.evidence
    assert "Pilot = ceil(10 % × 200 licenses purchased) = 20" in cta.evidence
    assert (
        "week of 2026-11-09 (2026-W46): 17 active users (need ≥ 80 % × 20 = 16); "
        "6 of 7 features green (need ≥ 5)"
    ) in cta.evidence
    assert "week of 2026-11-02 (2026-W45): 16 active users" in cta.evidence
    assert "ivm_training_done = true" in cta.evidence


def test_ivm_handoff_explains_a_silent_accounts_figures(world) -> None:
    acme = onboarding(world, ivm_integration_live=None)
    reached(world, acme, last=(15, 5))
    (row,) = world.rows(RULE, account_id=acme)
    assert not row["fires"] and row["pilot"] == 20
    assert not row["users_ok"] and row["features_ok"] and not row["boxes_ok"]
    assert row["in_onboarding"] and row["no_milestone"]
    evidence = RULE.evidence(row, world.ctx())
    assert "15 active users" in evidence and "ivm_integration_live = blank" in evidence
