"""support_risk (RULES.md, Risk): volume, old open tickets, old open urgent tickets."""

from __future__ import annotations

from datetime import timedelta

from conftest import NOW, OWNERS

from connector.rules.support import SupportRisk

RULE = SupportRisk()


def test_support_risk_fires_on_20_tickets_in_30_days(world) -> None:
    acme = world.customer("Acme")
    for i in range(20):
        world.ticket(acme, created_at=NOW - timedelta(days=29, hours=i % 5), status="solved")
    assert world.keys(RULE) == {f"support_risk:{acme}"}


def test_support_risk_stays_silent_on_19_tickets_in_30_days(world) -> None:
    acme = world.customer("Acme")
    for _ in range(19):
        world.ticket(acme, created_at=NOW - timedelta(days=10), status="solved")
    world.ticket(acme, created_at=NOW - timedelta(days=30, seconds=1), status="solved")
    world.ticket(acme, created_at=NOW - timedelta(days=3), tags=["bug"], status="solved")
    world.ticket(acme, created_at=NOW - timedelta(days=3), type="task", status="solved")
    assert world.keys(RULE) == set()


def test_support_risk_volume_uses_the_account_override(world) -> None:
    low = world.customer("Low", support_volume_threshold=10)
    high = world.customer("High", support_volume_threshold=30)
    for acct, n in ((low, 10), (high, 25)):
        for _ in range(n):
            world.ticket(acct, created_at=NOW - timedelta(days=2), status="solved")
    assert world.keys(RULE) == {f"support_risk:{low}"}


def test_support_risk_fires_on_a_22_day_old_open_ticket(world) -> None:
    acme = world.customer("Acme")
    number = world.ticket(acme, created_at=NOW - timedelta(days=22), status="pending")
    (cta, task, zd) = world.run(RULE)
    assert cta.object == "cta" and cta.owner_id == OWNERS["support_manager"]
    assert f"#{number}" in cta.evidence
    assert task.key == f"support_risk:{acme}/stay-informed" and zd.object == "zendesk_task"


def test_support_risk_stays_silent_on_a_ticket_exactly_21_days_old(world) -> None:
    acme = world.customer("Acme")
    world.ticket(acme, created_at=NOW - timedelta(days=21), status="open")
    assert world.keys(RULE) == set()


def test_support_risk_fires_on_an_open_urgent_ticket_older_than_48_hours(world) -> None:
    acme = world.customer("Acme")
    world.ticket(acme, created_at=NOW - timedelta(hours=48, seconds=1), priority="urgent")
    assert world.keys(RULE) == {f"support_risk:{acme}"}


def test_support_risk_stays_silent_on_an_open_high_ticket_of_47_hours(world) -> None:
    acme = world.customer("Acme")
    world.ticket(acme, created_at=NOW - timedelta(hours=47), priority="high")
    world.ticket(acme, created_at=NOW - timedelta(hours=60), priority="low")
    assert world.keys(RULE) == set()


def test_support_risk_ignores_accounts_outside_the_customer_filter(world) -> None:
    prospect = world.customer("Prospect", type="Prospect")
    world.ticket(prospect, created_at=NOW - timedelta(days=40), status="open")
    assert world.keys(RULE) == set()


def test_support_risk_ignores_tickets_of_organizations_without_an_account(world) -> None:
    world.customer("Acme")
    world.ticket(None, created_at=NOW - timedelta(days=40), status="open")
    assert world.keys(RULE) == set()


def test_explain_shows_a_silent_accounts_figures(world) -> None:
    acme = world.customer("Acme")
    world.ticket(acme, created_at=NOW - timedelta(days=2), status="solved")
    (row,) = world.rows(RULE, account_id=acme)
    assert not row["fires"] and row["volume"] == 1 and row["threshold"] == 20
    assert "1 support tickets" in RULE.evidence(row, world.ctx())
