"""healthy_usage_expansion (RULES.md, Expansion): >= 5 of 7 tracked features green in the last
complete week and fewer the week before (both weeks need a row); and the shared adoption
builders (features green per account per week, the adoption colour)."""

from __future__ import annotations

from datetime import date, timedelta

from conftest import NOW, OWNERS

from connector.rules.params import RuleParams
from connector.rules.usage import HealthyUsageExpansion
from connector.rules.usage_weeks import adoption_colour, features_green

RULE = HealthyUsageExpansion()
LAST = date(2026, 11, 9)  # the Monday of the last complete week before NOW (Wed 2026-11-18)
FEATURES = list(RuleParams().features)  # 7 tracked features, threshold 10 each
ADOPTION = RuleParams().scorecard.adoption_bands  # 5 / 4 / 2 of 7


def week(world, account: str, weeks_back: int, green: int, blank: int = 0, **values) -> str:
    """A usage row whose first ``green`` features sit exactly at their threshold, the next
    ``blank`` are blank and the rest just below it."""
    metrics = {
        col: 10.0 if i < green else (None if i < green + blank else 9.99)
        for i, col in enumerate(FEATURES)
    }
    return world.add(
        "usage_week",
        account_id=account,
        week_start=LAST - timedelta(weeks=weeks_back),
        **({"active_users": 50} | metrics | values),
    )


def test_healthy_usage_expansion_fires_on_moving_from_4_to_5_green_features(world) -> None:
    acme = world.customer("Acme")
    week(world, acme, 1, 4)
    week(world, acme, 0, 5)
    assert world.keys(RULE) == {f"healthy_usage_expansion:{acme}"}


def test_healthy_usage_expansion_stays_silent_on_4_green_features(world) -> None:
    acme = world.customer("Acme")
    week(world, acme, 1, 3)
    week(world, acme, 0, 4)
    assert world.keys(RULE) == set()


def test_healthy_usage_expansion_stays_silent_when_already_healthy_the_week_before(world) -> None:
    acme = world.customer("Acme")
    week(world, acme, 1, 5)
    week(world, acme, 0, 7)
    assert world.keys(RULE) == set()


def test_healthy_usage_expansion_needs_a_row_for_the_week_before(world) -> None:
    acme = world.customer("Acme")
    week(world, acme, 2, 0)
    week(world, acme, 0, 5)
    assert world.keys(RULE) == set()


def test_healthy_usage_expansion_needs_a_row_for_the_last_complete_week(world) -> None:
    acme = world.customer("Acme")
    week(world, acme, 1, 2)
    week(world, acme, -1, 7)  # the current week is not complete
    assert world.keys(RULE) == set()


def test_healthy_usage_expansion_counts_a_blank_metric_among_the_tracked_features(world) -> None:
    five = {col: 10 for col in FEATURES[:5]}  # 5 tracked: 4 green of 5 is 28 >= 25, healthy
    params = RuleParams(features=five)
    acme, beta = world.customer("Acme"), world.customer("Beta")
    week(world, acme, 1, 3, blank=2)
    week(world, acme, 0, 4, blank=1)
    week(world, beta, 1, 2, blank=3)
    week(world, beta, 0, 3, blank=2)  # 3 of 5 is 21 < 25
    assert world.keys(RULE, world.ctx(params=params)) == {f"healthy_usage_expansion:{acme}"}


def test_healthy_usage_expansion_creates_an_expansion_cta_for_the_csm(world) -> None:
    csm = world.user()
    acme = world.customer("Acme", csm_id=csm)
    week(world, acme, 1, 4)
    week(world, acme, 0, 6)
    (cta,) = world.run(RULE)
    assert cta.fields["name"] == "Healthy usage: discuss expansion"
    assert cta.fields["type"] == "Expansion" and cta.owner_id == csm
    assert cta.due_date == NOW.date() + timedelta(days=14)


def test_healthy_usage_expansion_goes_to_the_fallback_without_active_owners(world) -> None:
    acme = world.customer(
        "Acme", csm_id=world.user(active=False), owner_id=world.user(active=False)
    )
    week(world, acme, 1, 4)
    week(world, acme, 0, 5)
    (cta,) = world.run(RULE)
    assert cta.owner_id == OWNERS["fallback"]


def test_healthy_usage_expansion_evidence_names_the_green_features_of_both_weeks(world) -> None:
    acme = world.customer("Acme")
    week(world, acme, 1, 4)
    week(world, acme, 0, 5)
    (cta,) = world.run(RULE)
    assert (
        "week of 2026-11-09 (2026-W46): 5 of 7 tracked features green (feature_dashboards, "
        "feature_reports, feature_alerts, feature_integrations, feature_automations)"
        in cta.evidence
    )
    assert "week of 2026-11-02 (2026-W45): 4 of 7" in cta.evidence
    assert "at least 5 of 7 green" in cta.evidence


def test_healthy_usage_expansion_explains_a_silent_accounts_figures(world) -> None:
    acme = world.customer("Acme")
    week(world, acme, 0, 5)
    (row,) = world.rows(RULE, account_id=acme)
    assert not row["fires"] and row["usage_last_green"] == 5 and not row["usage_prev_has_row"]
    assert "week of 2026-11-02 (2026-W45): no usage row" in RULE.evidence(row, world.ctx())


# -- the adoption builders the scorecard shares ----------------------------------------------
def green_rows(world, monday: date = LAST) -> dict[str, dict]:
    ctx = world.ctx()
    fg = features_green(ctx, monday)
    from sqlalchemy import select

    with world.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(select(fg)).mappings()]
    return {
        r["account_id"]: r
        | {"colour": adoption_colour(r["green"], r["tracked"], ADOPTION, bool(r["has_row"]))}
        for r in rows
    }


def test_features_green_counts_per_customer_and_marks_weeks_without_a_row(world) -> None:
    acme, beta = world.customer("Acme"), world.customer("Beta")
    prospect = world.customer("Prospect", type="Prospect")
    week(world, acme, 0, 4, blank=2)
    week(world, beta, 1, 7)
    week(world, prospect, 0, 7)
    rows = green_rows(world)
    assert set(rows) == {acme, beta}
    assert (rows[acme]["green"], rows[acme]["tracked"], bool(rows[acme]["has_row"])) == (4, 7, True)
    assert (rows[beta]["green"], bool(rows[beta]["has_row"]), rows[beta]["colour"]) == (
        0,
        False,
        None,
    )
    assert rows[acme]["colour"] == "Yellow"


def test_features_green_merges_two_rows_of_one_week_feature_by_feature(world) -> None:
    acme = world.customer("Acme")
    week(world, acme, 0, 3, active_users=40)
    world.add(
        "usage_week",
        account_id=acme,
        week_start=LAST + timedelta(days=2),
        active_users=45,
        feature_api=12.5,
    )  # a second row dated inside the same ISO week
    row = green_rows(world)[acme]
    assert (row["green"], row["active_users"], row["feature_api"]) == (4, 45, 12.5)


def test_adoption_colour_bands_scale_from_7_to_the_tracked_features() -> None:
    assert [adoption_colour(g, 7, ADOPTION) for g in (7, 5, 4, 3, 2, 1, 0)] == [
        "Green",
        "Green",
        "Yellow",
        "Orange",
        "Orange",
        "Red",
        "Red",
    ]
    # 10 tracked: Green needs 70/7 = 8 (green x 7 >= 50), Yellow 6, Orange 3
    assert [adoption_colour(g, 10, ADOPTION) for g in (8, 7, 6, 5, 3, 2)] == [
        "Green",
        "Yellow",
        "Yellow",
        "Orange",
        "Orange",
        "Red",
    ]
    assert adoption_colour(7, 7, ADOPTION, has_row=False) is None
