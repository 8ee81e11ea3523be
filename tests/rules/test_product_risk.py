"""product_risk (RULES.md, Risk): product tickets created in the last 90 days >= 3."""

from __future__ import annotations

from datetime import timedelta

from conftest import NOW, OWNERS, days

from connector.rules.params import ProductParams, RuleParams
from connector.rules.product import ProductRisk

RULE = ProductRisk()


def request(world, account: str, age: timedelta, **values) -> str:
    values.setdefault("tags", ["feature_request"])
    return world.ticket(account, created_at=NOW - age, **values)


def test_product_risk_fires_on_3_product_tickets_in_90_days(world) -> None:
    acme = world.customer("Acme")
    for age in (10, 40, 80):
        request(world, acme, days(age))
    assert world.keys(RULE) == {f"product_risk:{acme}"}


def test_product_risk_stays_silent_on_2_product_tickets_in_90_days(world) -> None:
    acme = world.customer("Acme")
    request(world, acme, days(10))
    request(world, acme, days(20))
    request(world, acme, timedelta(days=90, seconds=1))
    world.ticket(acme, created_at=NOW - days(5), tags=["bug"])
    world.ticket(acme, created_at=NOW - days(5))
    assert world.keys(RULE) == set()


def test_product_risk_counts_a_ticket_created_exactly_90_days_ago(world) -> None:
    acme = world.customer("Acme")
    request(world, acme, days(90))
    request(world, acme, days(1))
    request(world, acme, days(2))
    assert world.keys(RULE) == {f"product_risk:{acme}"}


def test_product_risk_counts_any_status_and_type(world) -> None:
    acme = world.customer("Acme")
    request(world, acme, days(3), status="solved")
    request(world, acme, days(4), status="closed", type="task")
    request(world, acme, days(5), status="pending", tags=["feature_request", "bug"])
    assert world.keys(RULE) == {f"product_risk:{acme}"}


def test_product_risk_ignores_deleted_tickets(world) -> None:
    acme = world.customer("Acme")
    request(world, acme, days(3))
    request(world, acme, days(4))
    request(world, acme, days(5), status="deleted")
    request(world, acme, days(6), deleted=True)
    assert world.keys(RULE) == set()


def test_product_risk_follows_the_params(world) -> None:
    acme = world.customer("Acme")
    request(world, acme, days(3))
    request(world, acme, days(25))
    params = RuleParams(product=ProductParams(days=30, min_count=2, tags=("idea",)))
    assert world.keys(RULE, world.ctx(params=params)) == set()
    world.ticket(acme, created_at=NOW - days(2), tags=["idea"])
    world.ticket(acme, created_at=NOW - days(29), tags=["idea"])
    assert world.keys(RULE, world.ctx(params=params)) == {f"product_risk:{acme}"}


def test_product_risk_creates_a_cta_for_the_product_manager_and_a_csm_task(world) -> None:
    csm = world.user()
    acme = world.customer("Acme", csm_id=csm)
    for age in (1, 2, 3):
        request(world, acme, days(age))
    (cta, task) = world.run(RULE)
    assert cta.owner_id == OWNERS["product_manager"] and cta.due_date == NOW.date() + days(7)
    assert cta.fields["type"] == "Risk" and cta.fields["reason"] == "Product"
    assert cta.fields["priority"] == "Medium"
    assert task.key == f"product_risk:{acme}/stay-informed" and task.owner_id == csm


def test_product_risk_task_goes_to_the_account_owner_without_an_active_csm(world) -> None:
    ae = world.user()
    acme = world.customer("Acme", csm_id=world.user(active=False), owner_id=ae)
    for age in (1, 2, 3):
        request(world, acme, days(age))
    (_, task) = world.run(RULE)
    assert task.owner_id == ae


def test_product_risk_evidence_carries_the_count_minimum_tickets_and_dates(world) -> None:
    acme = world.customer("Acme")
    numbers = [request(world, acme, days(age)) for age in (89, 30, 1)]
    (cta, _) = world.run(RULE)
    assert "3 product tickets" in cta.evidence and "minimum 3" in cta.evidence
    assert all(f"#{n}" in cta.evidence for n in numbers)
    assert "2026-08-21 15:00Z to 2026-11-17 15:00Z" in cta.evidence


def test_product_risk_ignores_accounts_outside_the_customer_filter(world) -> None:
    prospect = world.customer("Prospect", type="Prospect")
    for age in (1, 2, 3):
        request(world, prospect, days(age))
    assert world.keys(RULE) == set()


def test_explain_shows_a_silent_accounts_product_figures(world) -> None:
    acme = world.customer("Acme")
    request(world, acme, days(5))
    (row,) = world.rows(RULE, account_id=acme)
    assert not row["fires"] and row["product_tickets"] == 1
    assert "1 product tickets" in RULE.evidence(row, world.ctx())


def test_explain_shows_an_account_without_tickets(world) -> None:
    acme = world.customer("Acme")
    (row,) = world.rows(RULE, account_id=acme)
    assert not row["fires"] and row["product_tickets"] == 0
