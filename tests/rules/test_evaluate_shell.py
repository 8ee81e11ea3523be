"""The evaluate shell: owners by email, disabled rules, --as-of, the desired-output table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from conftest import NOW, OWNERS
from sqlalchemy import select

from connector.errors import ConfigError, ConfigErrors
from connector.evaluate import enabled_rules, evaluate, parse_as_of, resolve_owners
from connector.rules.model import Tables
from connector.rules.support import SupportRisk
from connector.store.schema import desired_outputs

EMAILS = {role: f"{uid}@example.com".lower() for role, uid in OWNERS.items()}


def test_owners_resolve_from_emails_to_active_user_ids(world) -> None:
    with world.engine.connect() as conn:
        owners = resolve_owners(conn, world.tables, EMAILS)
    assert owners["cco"] == OWNERS["cco"]


def test_an_unresolvable_owner_stops_the_run_naming_its_config_key(world) -> None:
    with world.engine.connect() as conn, pytest.raises(ConfigErrors) as caught:
        resolve_owners(conn, world.tables, {**EMAILS, "cco": "nobody@example.com"})
    assert [e.line() for e in caught.value.errors] == [
        "config.toml:owners.cco: no Salesforce user with email nobody@example.com"
    ]


def test_an_inactive_owner_is_refused(world) -> None:
    world.user("005INACTIVE0000001", active=False, email="gone@example.com")
    with world.engine.connect() as conn, pytest.raises(ConfigErrors) as caught:
        resolve_owners(conn, world.tables, {**EMAILS, "vp_cs": "gone@example.com"})
    assert "owners.vp_cs" in str(caught.value) and "inactive" in str(caught.value)


def test_a_rule_whose_inputs_are_unmapped_is_disabled_and_named(world) -> None:
    ctx = world.ctx()
    without_tickets = Tables(
        {n: t for n, t in world.tables._by_stream.items() if n != "zendesk_ticket"}
    )
    ctx = type(ctx)(**{**ctx.__dict__, "tables": without_tickets})
    enabled, disabled = enabled_rules([SupportRisk()], ctx)
    assert enabled == [] and disabled == {"support_risk": ["zendesk_ticket"]}


def test_evaluate_replaces_the_desired_outputs_of_the_rules_it_ran(world) -> None:
    acme = world.customer("Acme")
    world.ticket(acme, created_at=NOW - timedelta(days=30), status="open")
    report, _ = evaluate(world.engine, world.ctx(), [SupportRisk()], write=True)
    assert report.outputs == {"support_risk": 3}
    with world.engine.connect() as conn:
        keys = set(conn.execute(select(desired_outputs.c.key)).scalars())
    assert keys == {
        f"support_risk:{acme}",
        f"support_risk:{acme}/stay-informed",
        f"support_risk:{acme}#zendesk",
    }


def test_as_of_a_bare_date_is_midnight_in_the_rules_timezone() -> None:
    moment = parse_as_of("2026-11-18", "Europe/Paris")
    assert moment.astimezone(UTC) == datetime(2026, 11, 17, 23, 0, tzinfo=UTC)


def test_as_of_rejects_what_is_not_iso_8601() -> None:
    with pytest.raises(ConfigError, match="--as-of"):
        parse_as_of("next tuesday", "UTC")
