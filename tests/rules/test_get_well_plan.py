"""get_well_plan (RULES.md, Scorecards and health): a Get Well plan while overall is Red."""

from __future__ import annotations

from datetime import date, timedelta

from conftest import NOW, OWNERS, days

from connector.rules.get_well import GetWellPlan
from connector.rules.params import RuleParams, ScorecardParams

RULE = GetWellPlan()
TODAY = NOW.date()
LAST_WEEK = date(2026, 11, 9)
FEATURES = (
    "feature_dashboards",
    "feature_reports",
    "feature_alerts",
    "feature_integrations",
    "feature_automations",
    "feature_mobile",
    "feature_api",
)


def red_account(world, **values) -> str:
    """support Red (a 22-day-old open ticket), deployment Red, engagement Red; bug Green:
    15 x 100 / 65 = 23.1, Red."""
    acme = world.customer("Acme", licenses_purchased=100, licenses_active=10, **values)
    world.ticket(acme, created_at=NOW - days(22), status="open")
    return acme


def orange_account(world) -> str:
    """support Red, deployment Yellow, engagement Red; bug Green: 2820 / 65 = 43.4, Orange."""
    acme = world.customer("Acme", licenses_purchased=100, licenses_active=70)
    world.ticket(acme, created_at=NOW - days(22), status="open")
    return acme


def healthy_account(world) -> str:
    """Everything Green but engagement (Red): 5500 / 65 = 84.6, Green."""
    return world.customer("Acme", licenses_purchased=100, licenses_active=90)


def crm_plan(world, account, suffix: str = "", **values) -> str:
    return world.add(
        "cs_success_plan",
        sync_key=f"get_well_plan:{account}{suffix}",
        account_id=account,
        name="Get Well plan",
        plan_type="Get Well",
        status="In Progress",
        created_at=NOW - days(30),
        **values,
    )


def usage(world, account, green: int) -> None:
    metrics = {f: (10 if i < green else 0) for i, f in enumerate(FEATURES)}
    world.add("usage_week", account_id=account, week_start=LAST_WEEK, active_users=5, **metrics)


def test_get_well_plan_fires_on_a_red_overall(world) -> None:
    acme = red_account(world)
    plan, *objectives = world.run(RULE)
    assert plan.key == f"get_well_plan:{acme}" and plan.object == "success_plan"
    assert plan.fields["plan_type"] == "Get Well" and plan.fields["name"] == "Get Well plan"
    assert plan.owner_id == world.rows(RULE, account_id=acme)[0]["csm_owner"]
    assert plan.fields["health_recovered"] is False
    assert [o.key for o in objectives] == [
        f"get_well_plan:{acme}/support",
        f"get_well_plan:{acme}/deployment",
        f"get_well_plan:{acme}/engagement",
    ]
    assert all(o.object == "objective" and o.parent_key == plan.key for o in objectives)


def test_get_well_plan_stays_silent_on_an_orange_overall(world) -> None:
    orange_account(world)
    assert world.run(RULE) == []


def test_get_well_plan_goes_to_the_account_owner_without_an_active_csm(world) -> None:
    csm = world.user(active=False)
    ae = world.user()
    red_account(world, csm_id=csm, owner_id=ae)
    assert world.run(RULE)[0].owner_id == ae


def test_get_well_plan_goes_to_the_fallback_without_active_csm_or_owner(world) -> None:
    red_account(world, csm_id=world.user(active=False), owner_id=world.user(active=False))
    assert world.run(RULE)[0].owner_id == OWNERS["fallback"]


def test_get_well_objectives_take_red_then_orange_by_weight_ties_in_table_order(world) -> None:
    acme = world.customer("Acme", licenses_purchased=100, licenses_active=50)  # Orange
    world.ticket(acme, created_at=NOW - days(22), status="open")  # support Red
    for _ in range(4):  # 4 of 5 open bugs: Orange
        world.ticket(acme, created_at=NOW - days(1), tags=["bug"])
    for score in (10, 6, 6, 8):  # NPS -25: Orange
        world.add(
            "survey_answer", account_id=acme, kind="Relationship", score=score, answer_date=TODAY
        )
    # support 0, bug 495, deployment 660, nps 495, engagement 0 over 80: 20.6, Red
    keys = [o.key.split("/")[1] for o in world.run(RULE)[1:]]
    assert keys == ["support", "engagement", "deployment", "bug"]


def test_get_well_objectives_are_at_most_four_by_the_configured_weights(world) -> None:
    acme = red_account(world)
    usage(world, acme, 0)  # adoption Red
    weights = {
        "support": 20,
        "bug": 15,
        "deployment": 20,
        "adoption": 20,
        "nps": 15,
        "engagement": 30,
    }
    ctx = world.ctx(params=RuleParams(scorecard=ScorecardParams(weights=weights)))
    keys = [o.key.split("/")[1] for o in world.run(RULE, ctx)[1:]]
    assert keys == ["engagement", "support", "deployment", "adoption"]


def test_get_well_objective_says_what_to_bring_back_and_the_current_figure(world) -> None:
    red_account(world)
    deployment = next(o for o in world.run(RULE) if o.key.endswith("/deployment"))
    assert deployment.fields["measure"] == "deployment"
    assert deployment.fields["target"] == (
        "Bring active licenses to at least 80 % of licenses purchased"
    )
    assert deployment.fields["current_figure"] == "10 active of 100 licenses purchased = 0.1"


def test_get_well_plan_evidence_carries_the_overall_and_the_figures(world) -> None:
    red_account(world)
    evidence = world.run(RULE)[0].evidence
    assert "overall Red: weighted mean 23.0769" in evidence
    assert "support Red: 1 open support tickets / threshold 20" in evidence


def test_get_well_plan_marks_health_recovered_on_a_yellow_or_better_overall(world) -> None:
    acme = healthy_account(world)
    crm_plan(world, acme)
    (plan,) = world.run(RULE)
    assert plan.key == f"get_well_plan:{acme}"
    assert plan.fields["health_recovered"] is True
    assert plan.fields["health_recovered_date"] == TODAY
    assert "status" not in plan.fields


def test_get_well_plan_keeps_the_date_health_was_first_seen_recovered(world) -> None:
    acme = healthy_account(world)
    crm_plan(world, acme, health_recovered=True, health_recovered_date=date(2026, 11, 2))
    (plan,) = world.run(RULE)
    assert plan.fields["health_recovered_date"] == date(2026, 11, 2)


def test_get_well_plan_reads_the_latest_occurrence_of_the_plan(world) -> None:
    acme = healthy_account(world)
    crm_plan(world, acme, health_recovered=True, health_recovered_date=date(2026, 3, 2))
    world.add(
        "cs_success_plan",
        sync_key=f"get_well_plan:{acme}#2",
        account_id=acme,
        created_at=NOW - days(3),
    )
    (plan,) = world.run(RULE)
    assert plan.fields["health_recovered_date"] == TODAY


def test_get_well_plan_stays_silent_when_healthy_without_a_plan_in_the_crm(world) -> None:
    acme = healthy_account(world)
    crm_plan(world, acme, deleted=True)
    world.add("cs_success_plan", sync_key=f"get_well_plan:{acme}x", account_id=acme)
    assert world.run(RULE) == []


def test_get_well_plan_leaves_a_plan_alone_while_overall_is_orange(world) -> None:
    acme = orange_account(world)
    crm_plan(world, acme)
    assert world.run(RULE) == []


def test_get_well_plan_clears_health_recovered_when_red_again(world) -> None:
    acme = red_account(world)
    crm_plan(world, acme, health_recovered=True, health_recovered_date=date(2026, 11, 2))
    plan = world.run(RULE)[0]
    assert plan.fields["health_recovered"] is False
    assert plan.fields["health_recovered_date"] is None


def test_explain_shows_a_healthy_accounts_figures_and_its_plan(world) -> None:
    acme = healthy_account(world)
    plan_id = crm_plan(world, acme, health_recovered=True, health_recovered_date=TODAY)
    (row,) = world.rows(RULE, account_id=acme)
    assert row["plan_id"] == plan_id and row["plan_recovered"]
    assert row["dep_colour"] == "Green" and row["support_open"] == 0
    assert (
        world.run(RULE, world.ctx(now=NOW + timedelta(days=1)))[0].fields["health_recovered_date"]
        == TODAY
    )
