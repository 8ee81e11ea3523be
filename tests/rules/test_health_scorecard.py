"""health_scorecard (RULES.md, Scorecards and health): six measures, the weighted overall."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from fractions import Fraction

import pytest
from conftest import NOW, days

from connector.rules.measures import colour_at_least, colour_of_ratio, engagement_colour
from connector.rules.params import RuleParams, ScorecardParams
from connector.rules.scorecard import HealthScorecard, overall, two_decimals

RULE = HealthScorecard()
TODAY = NOW.date()
LAST_WEEK = date(2026, 11, 9)  # Monday of the last complete ISO week before NOW (2026-W46)
FEATURES = (
    "feature_dashboards",
    "feature_reports",
    "feature_alerts",
    "feature_integrations",
    "feature_automations",
    "feature_mobile",
    "feature_api",
)


def snapshot(world, account, ctx=None) -> dict:
    (out,) = [
        o for o in world.run(RULE, ctx) if o.object == "health_snapshot" and o.account_id == account
    ]
    return dict(out.fields)


def usage(world, account, green: int, week_start: date = LAST_WEEK) -> None:
    metrics = {f: (10 if i < green else 9.99) for i, f in enumerate(FEATURES)}
    world.add("usage_week", account_id=account, week_start=week_start, active_users=50, **metrics)


def answer(world, account, score: int, answered: date = TODAY, contact=None) -> None:
    world.add(
        "survey_answer",
        account_id=account,
        contact_id=contact,
        kind="Relationship",
        score=score,
        answer_date=answered,
    )


def activity(world, account, day: date) -> None:
    world.add("task", what_id=account, is_closed=True, activity_date=day, subject="Call")


def open_tickets(world, account, n: int, **values) -> list[str]:
    return [world.ticket(account, created_at=NOW - timedelta(hours=30), **values) for _ in range(n)]


SC = ScorecardParams()
BANDS = SC.overall_bands


# -- pure bands and the weighted mean -----------------------------------------------------------
@pytest.mark.parametrize(
    ("ratio", "colour"),
    [
        (Fraction(0), "Green"),
        (Fraction(49, 100), "Green"),
        (Fraction(1, 2), "Yellow"),
        (Fraction(74, 100), "Yellow"),
        (Fraction(3, 4), "Orange"),
        (Fraction(3, 2), "Orange"),
    ],
)
def test_colour_of_ratio_bands_at_the_boundaries(ratio, colour) -> None:
    assert colour_of_ratio(ratio, SC.ratio_bands) == colour


@pytest.mark.parametrize(
    ("value", "colour"),
    [
        (100, "Green"),
        (30, "Green"),
        (29, "Yellow"),
        (0, "Yellow"),
        (-1, "Orange"),
        (-30, "Orange"),
        (-31, "Red"),
        (-100, "Red"),
    ],
)
def test_nps_colour_bands_at_the_boundaries(value, colour) -> None:
    assert colour_at_least(value, SC.nps_bands) == colour


@pytest.mark.parametrize(
    ("days_since", "colour"),
    [
        (0, "Green"),
        (7, "Green"),
        (8, "Yellow"),
        (14, "Yellow"),
        (15, "Orange"),
        (30, "Orange"),
        (31, "Red"),
        (None, "Red"),
    ],
)
def test_engagement_colour_bands_at_the_boundaries(days_since, colour) -> None:
    assert engagement_colour(days_since, SC.engagement_bands) == colour


@pytest.mark.parametrize(
    ("points", "weights", "expected"),
    [
        ({"support": 100, "bug": 100}, {"support": 1, "bug": 1}, (100, "Green")),
        ({"support": 100, "bug": 0}, {"support": 3, "bug": 1}, (75, "Green")),
        (
            {"support": 100, "bug": 66},
            {"support": 9, "bug": 25.01},
            (Fraction(255066, 3401), "Yellow"),
        ),
        ({"support": 100, "bug": 0}, {"support": 1, "bug": 1}, (50, "Yellow")),
        ({"support": 66, "bug": 33}, {"support": 1, "bug": 1}, (Fraction(99, 2), "Orange")),
        ({"support": 100, "bug": 0}, {"support": 1, "bug": 3}, (25, "Orange")),
        ({"support": 33, "bug": 0}, {"support": 3, "bug": 1}, (Fraction(99, 4), "Red")),
        ({"support": 0}, {"support": 1}, (0, "Red")),
    ],
)
def test_overall_is_the_exact_weighted_mean_banded_at_75_50_25(points, weights, expected) -> None:
    assert overall(points, weights, SC.overall_bands) == expected


def test_overall_is_not_rounded_before_comparing() -> None:
    score, colour = overall({"support": 100, "bug": 66}, {"support": 9, "bug": 25.01}, BANDS)
    assert colour == "Yellow" and score < 75 and two_decimals(score) == 75.0


def test_overall_leaves_out_measures_without_data_and_rescales() -> None:
    weights = SC.weights
    assert overall({"support": 100, "nps": None, "adoption": None}, weights, BANDS) == (
        100,
        "Green",
    )
    assert overall({"support": 100, "engagement": 0}, weights, BANDS) == (
        Fraction(200, 3),
        "Yellow",
    )


def test_overall_has_no_colour_without_any_measure() -> None:
    assert overall({}, {"support": 20}, BANDS) is None
    assert overall({"support": None}, {"support": 20}, BANDS) is None
    assert overall({"support": 100}, {"support": 0}, BANDS) is None


def test_overall_gives_a_measure_missing_from_the_weights_no_weight() -> None:
    assert overall({"support": 100, "bug": 0}, {"support": 1}, BANDS) == (100, "Green")


# -- the rule -----------------------------------------------------------------------------------
def test_health_scorecard_fires_on_every_customer_with_a_weekly_snapshot(world) -> None:
    acme = world.customer("Acme")
    world.customer("Prospect", type="Prospect")
    assert world.keys(RULE) == {f"health_scorecard:{acme}:2026-W47", f"health_scorecard:{acme}"}


def test_health_scorecard_snapshot_holds_week_colours_figures_and_overall(world) -> None:
    acme = world.customer("Acme", licenses_purchased=100, licenses_active=70)
    activity(world, acme, TODAY - timedelta(days=3))
    fields = snapshot(world, acme)
    assert fields["week"] == "2026-W47" and fields["week_start"] == date(2026, 11, 16)
    assert fields["deployment_color"] == "Yellow" and fields["deployment_figure"] == 0.7
    assert fields["engagement_color"] == "Green" and fields["engagement_figure"] == 3
    # (20 + 15 + 10) x 100 + 20 x 66 over 65
    assert fields["overall_color"] == "Green" and fields["overall_score"] == 89.54


def test_health_scorecard_sets_the_accounts_current_health(world) -> None:
    acme = world.customer("Acme", licenses_purchased=100, licenses_active=90)
    (health,) = [o for o in world.run(RULE) if o.object == "account_health"]
    assert health.key == f"health_scorecard:{acme}"
    # engagement Red (no activity): 90 x 100 / 65
    assert dict(health.fields) == {
        "health_score": 84.62,
        "health_color": "Green",
        "health_updated": TODAY,
    }


def test_health_scorecard_week_is_written_with_the_iso_year(world) -> None:
    acme = world.customer("Acme")
    ctx = world.ctx(now=datetime(2027, 1, 1, 9, 0, tzinfo=UTC))
    fields = snapshot(world, acme, ctx)
    assert fields["week"] == "2026-W53" and fields["week_start"] == date(2026, 12, 28)


def test_support_is_red_while_the_support_risk_condition_holds(world) -> None:
    acme = world.customer("Acme")
    world.ticket(acme, created_at=NOW - days(22), status="pending")
    fields = snapshot(world, acme)
    assert fields["support_color"] == "Red" and fields["support_figure"] == 0.05


@pytest.mark.parametrize(
    ("n_open", "colour"),
    [
        (0, "Green"),
        (9, "Green"),
        (10, "Yellow"),
        (14, "Yellow"),
        (15, "Orange"),
        (19, "Orange"),
    ],
)
def test_support_bands_open_support_tickets_over_the_threshold(world, n_open, colour) -> None:
    acme = world.customer("Acme")
    open_tickets(world, acme, n_open)
    world.ticket(acme, created_at=NOW - days(40), status="solved")
    open_tickets(world, acme, 3, tags=["bug"], priority="low")
    fields = snapshot(world, acme)
    assert fields["support_color"] == colour and fields["support_figure"] == n_open / 20


def test_support_uses_the_accounts_volume_override(world) -> None:
    acme = world.customer("Acme", support_volume_threshold=10)
    open_tickets(world, acme, 5)
    assert snapshot(world, acme)["support_color"] == "Yellow"


def test_support_counts_solved_tickets_only_towards_the_risk_volume(world) -> None:
    acme = world.customer("Acme")
    for _ in range(20):
        world.ticket(acme, created_at=NOW - days(29), status="solved")
    assert snapshot(world, acme)["support_color"] == "Red"


@pytest.mark.parametrize(
    ("n_open", "colour"),
    [
        (2, "Green"),
        (3, "Yellow"),
        (4, "Orange"),
        (5, "Red"),
    ],
)
def test_bug_bands_open_bug_tickets_over_the_bug_threshold(world, n_open, colour) -> None:
    acme = world.customer("Acme")
    open_tickets(world, acme, n_open, tags=["bug"])
    assert snapshot(world, acme)["bug_color"] == colour


def test_bug_threshold_scales_with_licenses_purchased(world) -> None:
    acme = world.customer("Acme", licenses_purchased=1000)
    open_tickets(world, acme, 5, tags=["bug"])
    fields = snapshot(world, acme)
    assert fields["bug_color"] == "Yellow" and fields["bug_figure"] == 0.5


def test_bug_is_red_on_an_open_urgent_bug_older_than_30_days(world) -> None:
    acme = world.customer("Acme")
    world.ticket(
        acme, created_at=NOW - days(30) - timedelta(seconds=1), tags=["bug"], priority="urgent"
    )
    assert snapshot(world, acme)["bug_color"] == "Red"


@pytest.mark.parametrize(
    ("active", "purchased", "colour"),
    [
        (80, 100, "Green"),
        (120, 100, "Green"),
        (79, 100, "Yellow"),
        (60, 100, "Yellow"),
        (59, 100, "Orange"),
        (40, 100, "Orange"),
        (39, 100, "Red"),
        (0, 100, "Red"),
    ],
)
def test_deployment_bands_active_over_purchased(world, active, purchased, colour) -> None:
    acme = world.customer("Acme", licenses_active=active, licenses_purchased=purchased)
    fields = snapshot(world, acme)
    assert fields["deployment_color"] == colour
    assert fields["deployment_figure"] == active / purchased


@pytest.mark.parametrize(("active", "purchased"), [(None, 100), (10, None), (10, 0)])
def test_deployment_has_no_data_when_blank_or_nothing_purchased(world, active, purchased) -> None:
    acme = world.customer("Acme", licenses_active=active, licenses_purchased=purchased)
    fields = snapshot(world, acme)
    assert fields["deployment_color"] is None and fields["deployment_figure"] is None


@pytest.mark.parametrize(
    ("green", "colour"),
    [
        (7, "Green"),
        (5, "Green"),
        (4, "Yellow"),
        (3, "Orange"),
        (2, "Orange"),
        (1, "Red"),
        (0, "Red"),
    ],
)
def test_adoption_bands_features_green_in_the_last_complete_week(world, green, colour) -> None:
    acme = world.customer("Acme")
    usage(world, acme, green)
    usage(world, acme, 7, week_start=LAST_WEEK - timedelta(days=7))
    fields = snapshot(world, acme)
    assert fields["adoption_color"] == colour and fields["adoption_figure"] == green


def test_adoption_scales_the_bands_to_the_tracked_features(world) -> None:
    acme = world.customer("Acme")
    usage(world, acme, 4)
    six = {f: 10 for f in FEATURES[:6]}
    ctx = world.ctx(params=RuleParams(features=six))
    assert snapshot(world, acme, ctx)["adoption_color"] == "Yellow"  # 4 x 7 < 5 x 6


def test_adoption_has_no_data_without_a_row_for_the_last_complete_week(world) -> None:
    acme = world.customer("Acme")
    usage(world, acme, 7, week_start=date(2026, 11, 16))
    usage(world, acme, 7, week_start=date(2026, 11, 2))
    fields = snapshot(world, acme)
    assert fields["adoption_color"] is None and fields["adoption_figure"] is None


def test_nps_counts_every_response_of_the_last_180_days_anonymous_included(world) -> None:
    acme = world.customer("Acme")
    contact = world.add("contact", account_id=acme, last_name="Doe")
    answer(world, acme, 10, contact=contact)
    answer(world, acme, 9, TODAY - timedelta(days=180))
    answer(world, acme, 8)
    answer(world, acme, 0, TODAY - timedelta(days=181))
    answer(world, acme, 0, TODAY + timedelta(days=1))
    fields = snapshot(world, acme)
    assert fields["nps_color"] == "Green" and fields["nps_figure"] == 67


@pytest.mark.parametrize(
    ("scores", "colour"),
    [
        ([10, 10, 8, 8, 8, 8, 6], "Yellow"),  # 14.3
        ([10, 6], "Yellow"),  # 0
        ([10, 8, 6, 6], "Orange"),  # -25
        ([10, 6, 6], "Red"),  # -33
    ],
)
def test_nps_bands_the_account_nps(world, scores, colour) -> None:
    acme = world.customer("Acme")
    for score in scores:
        answer(world, acme, score)
    assert snapshot(world, acme)["nps_color"] == colour


def test_nps_rounds_half_away_from_zero_before_banding(world) -> None:
    acme = world.customer("Acme")
    for score in [10] * 59 + [8] * 141:  # 29.5 % -> 30
        answer(world, acme, score)
    fields = snapshot(world, acme)
    assert fields["nps_color"] == "Green" and fields["nps_figure"] == 30


def test_nps_has_no_data_without_a_response_in_the_window(world) -> None:
    acme = world.customer("Acme")
    answer(world, acme, 10, TODAY - timedelta(days=181))
    world.add("survey_answer", account_id=acme, kind="Relationship", answer_date=TODAY)
    fields = snapshot(world, acme)
    assert fields["nps_color"] is None and fields["nps_figure"] is None


@pytest.mark.parametrize(
    ("age", "colour"),
    [
        (7, "Green"),
        (8, "Yellow"),
        (14, "Yellow"),
        (15, "Orange"),
        (30, "Orange"),
        (31, "Red"),
    ],
)
def test_engagement_bands_days_since_the_last_activity(world, age, colour) -> None:
    acme = world.customer("Acme")
    activity(world, acme, TODAY - timedelta(days=age))
    fields = snapshot(world, acme)
    assert fields["engagement_color"] == colour and fields["engagement_figure"] == age


def test_engagement_is_red_with_a_blank_figure_without_any_activity(world) -> None:
    acme = world.customer("Acme")
    fields = snapshot(world, acme)
    assert fields["engagement_color"] == "Red" and fields["engagement_figure"] is None


def test_overall_uses_the_configured_weights(world) -> None:
    acme = world.customer("Acme")  # support, bug Green; engagement Red; no other data
    weights = {"support": 1, "bug": 1, "deployment": 1, "adoption": 1, "nps": 1, "engagement": 2}
    ctx = world.ctx(params=RuleParams(scorecard=ScorecardParams(weights=weights)))
    fields = snapshot(world, acme, ctx)
    assert fields["overall_color"] == "Yellow" and fields["overall_score"] == 50


def test_health_scorecard_evidence_cites_each_figure_against_its_bands(world) -> None:
    acme = world.customer("Acme", licenses_purchased=100, licenses_active=45)
    open_tickets(world, acme, 1, priority="urgent")
    old = world.ticket(acme, created_at=NOW - days(23), status="open")
    usage(world, acme, 3)
    answer(world, acme, 3)
    activity(world, acme, date(2026, 11, 1))
    evidence = snapshot(world, acme)["evidence"]
    assert "support Red: 2 open support tickets / threshold 20 (default) = 0.1" in evidence
    assert f"open older than 21 days: #{old}" in evidence
    assert "deployment Orange: 45 active of 100 licenses purchased = 0.45" in evidence
    assert "adoption Orange: 3 of 7 tracked features green in the week of 2026-11-09" in evidence
    assert "nps Red: NPS -100 from 1 responses" in evidence
    assert "engagement Orange: last activity 2026-11-01" in evidence
    assert evidence.startswith("overall Orange: weighted mean 31.5 ")


def test_explain_shows_an_accounts_figures(world) -> None:
    acme = world.customer("Acme", licenses_purchased=100, licenses_active=70)
    open_tickets(world, acme, 3)
    (row,) = world.rows(RULE, account_id=acme)
    assert row["support_open"] == 3 and row["support_threshold"] == 20
    assert not row["support_condition"] and row["dep_colour"] == "Yellow"
    assert world.rows(RULE, account_id=world.customer("Prospect", type="Prospect")) == []


def test_unmapped_usage_and_survey_answers_leave_adoption_and_nps_without_data(world) -> None:
    from dataclasses import replace

    from connector.rules.model import Tables
    from connector.store import mirror

    acme = world.customer("Acme")
    usage(world, acme, 7)
    answer(world, acme, 10)
    kept = {
        n: mirror.table(s)
        for n, s in world.specs.items()
        if n not in ("usage_week", "survey_answer")
    }
    fields = snapshot(world, acme, replace(world.ctx(), tables=Tables(kept)))
    assert fields["adoption_color"] is None and fields["nps_color"] is None
    assert fields["support_color"] == "Green"


def test_support_and_bug_are_red_exactly_where_their_risk_rules_fire(world) -> None:
    from connector.rules.bug import BugRisk
    from connector.rules.support import SupportRisk

    calm = world.customer("Calm")
    open_tickets(world, calm, 4, tags=["bug"])
    open_tickets(world, calm, 19, status="solved")
    stormy = world.customer("Stormy", support_volume_threshold=5, bug_volume_threshold=2)
    open_tickets(world, stormy, 2, tags=["bug"])
    open_tickets(world, stormy, 5, status="solved")
    red = {
        (f["account_id"], m)
        for o in world.run(RULE)
        if o.object == "health_snapshot"
        for m in ("support", "bug")
        if (f := o.fields)[f"{m}_color"] == "Red"
    }
    fired = {
        (k.split(":")[1], k.split("_")[0])
        for k in world.keys(SupportRisk()) | world.keys(BugRisk())
    }
    assert red == fired == {(stormy, "support"), (stormy, "bug")}
