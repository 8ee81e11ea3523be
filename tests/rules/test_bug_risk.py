"""bug_risk (RULES.md, Risk): open bug volume against the bug threshold, old urgent bugs."""

from __future__ import annotations

from datetime import timedelta

from conftest import NOW, OWNERS, days

from connector.rules.bug import BugRisk
from connector.rules.params import BugParams, RuleParams

RULE = BugRisk()


def open_bugs(world, account: str, n: int, **values) -> list[str]:
    return [
        world.ticket(account, created_at=NOW - days(3 + i % 5), tags=["bug"], **values)
        for i in range(n)
    ]


def test_bug_risk_fires_on_5_open_bugs_at_the_minimum_volume(world) -> None:
    acme = world.customer("Acme", licenses_purchased=300)
    open_bugs(world, acme, 5, status="pending")
    assert world.keys(RULE) == {f"bug_risk:{acme}"}


def test_bug_risk_stays_silent_on_4_open_bugs(world) -> None:
    acme = world.customer("Acme", licenses_purchased=300)
    open_bugs(world, acme, 4, status="open")
    open_bugs(world, acme, 3, status="solved")
    world.ticket(acme, created_at=NOW - days(2), tags=["feature_request"])
    world.ticket(acme, created_at=NOW - days(2), tags=["bug"], status="deleted")
    assert world.keys(RULE) == set()


def test_bug_risk_counts_every_open_status(world) -> None:
    acme = world.customer("Acme")
    for status in ("new", "open", "pending", "hold", "hold"):
        world.ticket(acme, created_at=NOW - days(1), tags=["bug"], status=status)
    assert world.keys(RULE) == {f"bug_risk:{acme}"}


def test_bug_risk_scales_the_threshold_up_with_licences(world) -> None:
    silent = world.customer("Silent", licenses_purchased=1150)  # ceil(11.5) = 12
    loud = world.customer("Loud", licenses_purchased=1150)
    open_bugs(world, silent, 11)
    open_bugs(world, loud, 12)
    assert world.keys(RULE) == {f"bug_risk:{loud}"}


def test_bug_risk_threshold_is_exact_on_a_whole_product(world) -> None:
    exact = world.customer("Exact", licenses_purchased=1100)  # 11, not 12 from float error
    open_bugs(world, exact, 11)
    (row,) = world.rows(RULE, account_id=exact)
    assert row["threshold"] == 11 and row["fires"]


def test_bug_risk_threshold_never_falls_below_the_minimum_volume(world) -> None:
    small = world.customer("Small", licenses_purchased=500)  # ceil(5) = 5
    tiny = world.customer("Tiny", licenses_purchased=10)
    assert [world.rows(RULE, account_id=a)[0]["threshold"] for a in (small, tiny)] == [5, 5]


def test_bug_risk_blank_licences_use_the_minimum_volume(world) -> None:
    acme = world.customer("Acme", licenses_purchased=None)
    open_bugs(world, acme, 5)
    (row,) = world.rows(RULE, account_id=acme)
    assert row["threshold"] == 5 and row["fires"]
    assert "licences purchased blank" in RULE.evidence(row, world.ctx())


def test_bug_risk_threshold_follows_the_params(world) -> None:
    acme = world.customer("Acme", licenses_purchased=700)
    open_bugs(world, acme, 3)
    params = RuleParams(bug=BugParams(min_volume=2, per_license=0.005))  # ceil(3.5) = 4
    ctx = world.ctx(params=params)
    assert world.keys(RULE, ctx) == set()
    open_bugs(world, acme, 1)
    assert world.keys(RULE, ctx) == {f"bug_risk:{acme}"}


def test_bug_risk_account_override_replaces_the_computed_threshold(world) -> None:
    low = world.customer("Low", licenses_purchased=300, bug_volume_threshold=3)
    high = world.customer("High", licenses_purchased=300, bug_volume_threshold=8)
    open_bugs(world, low, 3)
    open_bugs(world, high, 7)
    assert world.keys(RULE) == {f"bug_risk:{low}"}


def test_bug_risk_override_below_the_minimum_volume_still_applies(world) -> None:
    acme = world.customer("Acme", licenses_purchased=None, bug_volume_threshold=2)
    open_bugs(world, acme, 2)
    (row,) = world.rows(RULE, account_id=acme)
    assert row["threshold"] == 2 and row["fires"]
    assert "account override" in RULE.evidence(row, world.ctx())


def test_bug_risk_fires_on_an_open_high_bug_older_than_30_days(world) -> None:
    acme = world.customer("Acme")
    number = world.ticket(
        acme, created_at=NOW - timedelta(days=30, seconds=1), tags=["bug"], priority="high"
    )
    (cta, task, zd) = world.run(RULE)
    assert cta.key == f"bug_risk:{acme}" and f"#{number}" in cta.evidence
    assert "2026-10-19 14:59Z" in cta.evidence


def test_bug_risk_fires_on_an_open_urgent_bug_older_than_30_days(world) -> None:
    acme = world.customer("Acme")
    world.ticket(acme, created_at=NOW - days(32), tags=["bug"], priority="urgent", status="hold")
    assert world.keys(RULE) == {f"bug_risk:{acme}"}


def test_bug_risk_stays_silent_on_a_high_bug_exactly_30_days_old(world) -> None:
    acme = world.customer("Acme")
    world.ticket(acme, created_at=NOW - days(30), tags=["bug"], priority="high")
    world.ticket(acme, created_at=NOW - days(29), tags=["bug"], priority="urgent")
    assert world.keys(RULE) == set()


def test_bug_risk_stays_silent_on_old_bugs_that_are_low_or_solved(world) -> None:
    acme = world.customer("Acme")
    world.ticket(acme, created_at=NOW - days(40), tags=["bug"], priority="normal")
    world.ticket(acme, created_at=NOW - days(40), tags=["bug"], priority="urgent", status="solved")
    world.ticket(acme, created_at=NOW - days(40), priority="urgent")  # a support ticket
    assert world.keys(RULE) == set()


def test_bug_risk_creates_a_cta_a_csm_task_and_a_zendesk_task(world) -> None:
    csm = world.user()
    acme = world.customer("Acme", csm_id=csm)
    open_bugs(world, acme, 5)
    (cta, task, zd) = world.run(RULE)
    assert cta.object == "cta" and cta.owner_id == OWNERS["support_manager"]
    assert cta.fields["reason"] == "Bug" and cta.fields["priority"] == "High"
    assert cta.fields["type"] == "Risk" and cta.due_date == NOW.date() + days(2)
    assert task.key == f"bug_risk:{acme}/stay-informed" and task.owner_id == csm
    assert zd.object == "zendesk_task" and zd.key == cta.key


def test_bug_risk_task_goes_to_the_account_owner_without_an_active_csm(world) -> None:
    gone, ae = world.user(active=False), world.user()
    acme = world.customer("Acme", csm_id=gone, owner_id=ae)
    open_bugs(world, acme, 5)
    (_, task, _) = world.run(RULE)
    assert task.owner_id == ae


def test_bug_risk_evidence_carries_the_count_threshold_and_ticket_numbers(world) -> None:
    acme = world.customer("Acme", licenses_purchased=1150)
    numbers = open_bugs(world, acme, 12)
    (cta, _, _) = world.run(RULE)
    assert "12 open bug tickets" in cta.evidence and "threshold 12" in cta.evidence
    assert "ceil(1150 licences x 0.01)" in cta.evidence
    assert all(f"#{n}" in cta.evidence for n in numbers)


def test_bug_risk_ignores_accounts_outside_the_customer_filter(world) -> None:
    prospect = world.customer("Prospect", type="Prospect")
    open_bugs(world, prospect, 6)
    assert world.keys(RULE) == set()


def test_explain_shows_a_silent_accounts_bug_figures(world) -> None:
    acme = world.customer("Acme", licenses_purchased=300)
    open_bugs(world, acme, 2)
    (row,) = world.rows(RULE, account_id=acme)
    assert not row["fires"] and row["open_bugs"] == 2 and row["threshold"] == 5
    assert row["old_high"] == 0
    assert "2 open bug tickets" in RULE.evidence(row, world.ctx())
