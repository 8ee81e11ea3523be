"""usage_drop (RULES.md, Risk): last complete week's active users <= 70 % of the mean of the
4 weeks before (over the rows present), that mean >= 5."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from conftest import NOW, OWNERS

from connector.rules.params import RuleParams, UsageParams
from connector.rules.usage import UsageDrop

RULE = UsageDrop()
LAST = date(2026, 11, 9)  # the Monday of the last complete week before NOW (Wed 2026-11-18)


def week(world, account: str, weeks_back: int, active: int | None, **values) -> str:
    """A usage row ``weeks_back`` weeks before the last complete week."""
    monday = LAST - timedelta(weeks=weeks_back)
    return world.add(
        "usage_week", account_id=account, week_start=monday, active_users=active, **values
    )


def usage(world, account: str, rows: dict[int, int | None]) -> None:
    for weeks_back, active in rows.items():
        week(world, account, weeks_back, active)


STEADY = {1: 100, 2: 100, 3: 100, 4: 100}


def test_usage_drop_fires_on_exactly_70_percent_of_the_mean(world) -> None:
    acme = world.customer("Acme")
    usage(world, acme, STEADY | {0: 70})
    assert world.keys(RULE) == {f"usage_drop:{acme}"}


def test_usage_drop_stays_silent_on_71_percent_of_the_mean(world) -> None:
    acme = world.customer("Acme")
    usage(world, acme, STEADY | {0: 71})
    assert world.keys(RULE) == set()


def test_usage_drop_compares_exactly_where_floats_would_miss_the_boundary(world) -> None:
    acme = world.customer("Acme")  # 0.7 x 90 is 62.99999999999999 in floating point
    usage(world, acme, {1: 90, 0: 63})
    assert world.keys(RULE) == {f"usage_drop:{acme}"}


def test_usage_drop_fires_on_a_mean_of_exactly_5(world) -> None:
    acme = world.customer("Acme")
    usage(world, acme, {1: 4, 2: 6, 3: 5, 4: 5, 0: 3})
    assert world.keys(RULE) == {f"usage_drop:{acme}"}


def test_usage_drop_stays_silent_on_a_mean_below_5(world) -> None:
    acme = world.customer("Acme")
    usage(world, acme, {1: 5, 2: 4, 3: 5, 4: 4, 0: 1})
    assert world.keys(RULE) == set()


def test_usage_drop_takes_the_mean_over_the_rows_present(world) -> None:
    acme = world.customer("Acme")
    usage(world, acme, {2: 50, 0: 30})  # weeks 1, 3 and 4 before have no row: not zeros
    (cta, _) = world.run(RULE)
    assert "Mean 50 over the 1 weeks with data (sum 50)" in cta.evidence
    assert "2026-10-19: no data" in cta.evidence


def test_usage_drop_stays_silent_without_a_row_for_the_last_complete_week(world) -> None:
    acme = world.customer("Acme")
    usage(world, acme, STEADY)
    assert world.keys(RULE) == set()


def test_usage_drop_stays_silent_without_a_row_among_the_4_weeks_before(world) -> None:
    acme = world.customer("Acme")
    usage(world, acme, {0: 1, 5: 100})  # the 5th week before is outside the window
    assert world.keys(RULE) == set()


def test_usage_drop_ignores_the_current_incomplete_week(world) -> None:
    acme = world.customer("Acme")
    usage(world, acme, STEADY | {0: 100, -1: 0})
    assert world.keys(RULE) == set()


def test_usage_drop_ignores_deleted_rows_and_blank_figures(world) -> None:
    acme = world.customer("Acme")
    usage(world, acme, {1: 10, 2: None})  # a blank figure is no data, not zero
    world.add("usage_week", account_id=acme, week_start=LAST, active_users=0, deleted=True)
    assert world.keys(RULE) == set()
    (row,) = world.rows(RULE, account_id=acme)
    assert row["n_last"] == 0 and row["n_before"] == 1


def test_usage_drop_ignores_accounts_outside_the_customer_filter(world) -> None:
    prospect = world.customer("Prospect", type="Prospect")
    usage(world, prospect, STEADY | {0: 10})
    assert world.keys(RULE) == set()


def test_usage_drop_reads_the_last_complete_week_whatever_the_weekday(world) -> None:
    acme = world.customer("Acme")
    usage(world, acme, STEADY | {0: 10})
    monday = world.ctx(now=datetime(2026, 11, 16, 0, 0, tzinfo=UTC))
    sunday = world.ctx(now=datetime(2026, 11, 15, 23, 59, tzinfo=UTC))
    assert world.keys(RULE, monday) == {f"usage_drop:{acme}"}
    assert world.keys(RULE, sunday) == set()  # its last complete week is 2026-11-02: 100


def test_usage_drop_follows_the_configured_ratio_mean_and_window(world) -> None:
    acme = world.customer("Acme")
    usage(world, acme, {1: 10, 2: 10, 3: 1000, 0: 5})
    params = RuleParams(usage=UsageParams(drop_ratio=0.5, min_mean=10, weeks_before=2))
    assert world.keys(RULE, world.ctx(params=params)) == {f"usage_drop:{acme}"}
    params = RuleParams(usage=UsageParams(drop_ratio=0.5, min_mean=11, weeks_before=2))
    assert world.keys(RULE, world.ctx(params=params)) == set()


def test_usage_drop_creates_a_high_risk_cta_and_an_email_task_for_the_csm(world) -> None:
    csm = world.user(name="Casey Smith")
    acme = world.customer("Acme", csm_id=csm)
    usage(world, acme, {1: 12, 2: 12, 3: 11, 0: 4})
    (cta, task) = world.run(RULE)
    assert (cta.key, cta.object, cta.owner_id) == (f"usage_drop:{acme}", "cta", csm)
    assert (cta.fields["type"], cta.fields["reason"], cta.fields["priority"]) == (
        "Risk",
        "Usage",
        "High",
    )
    assert cta.due_date == NOW.date() + timedelta(days=5)
    assert task.key == f"usage_drop:{acme}/email" and task.parent_key == cta.key
    assert task.owner_id == csm and task.due_date == cta.due_date
    email = task.fields["description"]
    assert "Acme" in email and "Casey Smith" in email
    assert "4 active users" in email and "the week of 2026-11-09" in email
    assert "average of 11.67" in email


def test_usage_drop_goes_to_the_account_owner_when_the_csm_is_inactive(world) -> None:
    ae = world.user(name="Alex Exec")
    acme = world.customer("Acme", csm_id=world.user(active=False), owner_id=ae)
    usage(world, acme, STEADY | {0: 10})
    (cta, task) = world.run(RULE)
    assert cta.owner_id == ae and task.owner_id == ae
    assert "Alex Exec" in task.fields["description"]


def test_usage_drop_goes_to_the_fallback_when_csm_and_owner_are_inactive(world) -> None:
    acme = world.customer(
        "Acme", csm_id=world.user(active=False), owner_id=world.user(active=False)
    )
    usage(world, acme, STEADY | {0: 10})
    (cta, _) = world.run(RULE)
    assert cta.owner_id == OWNERS["fallback"]


def test_usage_drop_evidence_carries_the_weeks_figures_and_thresholds(world) -> None:
    acme = world.customer("Acme")
    usage(world, acme, {1: 100, 2: 90, 4: 80, 0: 60})
    (cta, _) = world.run(RULE)
    assert "week of 2026-11-09 (2026-W46): 60" in cta.evidence
    assert "2026-10-12: 80; 2026-10-19: no data; 2026-10-26: 90; 2026-11-02: 100" in cta.evidence
    assert "Mean 90 over the 3 weeks with data (sum 270)" in cta.evidence
    assert "minimum mean 5" in cta.evidence and "70 % of the mean = 63" in cta.evidence


def test_usage_drop_explains_a_silent_accounts_figures(world) -> None:
    acme = world.customer("Acme")
    usage(world, acme, STEADY | {0: 71})
    (row,) = world.rows(RULE, account_id=acme)
    assert not row["fires"]
    assert (row["last_active"], row["n_before"], row["total_before"]) == (71, 4, 400)
    assert "Mean 100 over the 4 weeks" in RULE.evidence(row, world.ctx())


def test_usage_drop_explains_an_account_without_usage(world) -> None:
    acme = world.customer("Acme")
    (row,) = world.rows(RULE, account_id=acme)
    assert not row["fires"] and row["last_active"] is None and row["n_before"] == 0
    assert "no data" in RULE.evidence(row, world.ctx())
