"""Builders for desired outputs, so every family names the same fields the same way.

Field names are the store columns of the connector's own objects (``mappings/salesforce/cs_*``);
reconcile maps them to CRM fields through the output mappings. Status is not here: the connector
sets ``New`` on create and a person owns it after that.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from fractions import Fraction
from functools import lru_cache
from typing import Any

from sqlalchemy.engine import RowMapping

from connector.rules.bands import Bands
from connector.rules.model import DesiredOutput


def when(moment: datetime) -> str:
    """A timestamp for evidence: ``2026-10-09 14:02Z`` (UTC, to the minute)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%MZ")


def iso(day: date | None) -> str:
    """A date for evidence and templates: ``2026-10-09``; blank for none."""
    return day.isoformat() if day is not None else ""


def number(value: Fraction | int | float) -> str:
    """A figure for evidence: ``10``, ``10.5``, ``10.33`` (at most two decimals)."""
    value = Fraction(str(value)) if isinstance(value, float) else Fraction(value)
    if value.denominator == 1:
        return str(value.numerator)
    return f"{float(value):.2f}".rstrip("0").rstrip(".")


def tickets(ids: list[str]) -> str:
    """``#101, #102``."""
    return ", ".join(f"#{i}" for i in ids)


@lru_cache(maxsize=64)
def bands_text(bands: Bands, figure: Callable[[float], str] = number) -> str:
    """Lower bounds for evidence: ``Green >= 30, Yellow >= 0, Orange >= -30, else Red``.

    Cached: the same few bands (frozen config) are written into every scorecard's evidence.
    """
    return ", ".join(f"{c} >= {figure(b)}" for b, c in bands.bounds()) + ", else Red"


def cta(
    rule: str,
    key: str,
    account_id: str,
    *,
    name: str,
    type: str,
    reason: str,  # noqa: A002
    priority: str,
    owner_id: str,
    due_date: date,
    evidence: str,
    contact_id: str | None = None,
    opportunity_id: str | None = None,
) -> DesiredOutput:
    """A call to action (``CS_CTA__c``)."""
    fields: dict[str, Any] = {
        "name": name,
        "type": type,
        "reason": reason,
        "priority": priority,
        "rule_id": rule,
        "evidence": evidence,
        "rule_state": "Active",
        "contact_id": contact_id,
        "opportunity_id": opportunity_id,
        "account_id": account_id,
    }
    return DesiredOutput(key, rule, "cta", account_id, owner_id, due_date, fields, None, evidence)


def task(
    rule: str,
    parent_key: str,
    step: str,
    account_id: str | None,
    *,
    subject: str,
    owner_id: str,
    due_date: date,
    who_id: str | None = None,
    description: str | None = None,
    what_key: str | None = None,
) -> DesiredOutput:
    """A standard Task under a CTA (WhatId = the parent), keyed ``<parent>/<step>``."""
    fields = {
        "subject": subject,
        "who_id": who_id,
        "description": description,
        "what_key": what_key or parent_key,
    }
    return DesiredOutput(
        f"{parent_key}/{step}", rule, "task", account_id, owner_id, due_date, fields, parent_key
    )


def standalone_task(
    rule: str,
    key: str,
    account_id: str | None,
    *,
    subject: str,
    owner_id: str,
    due_date: date,
    who_id: str | None = None,
    description: str | None = None,
    what_id: str | None = None,
) -> DesiredOutput:
    """A Task with its own key, on a record the connector did not create (a person's CTA)."""
    fields = {
        "subject": subject,
        "who_id": who_id,
        "description": description,
        "what_id": what_id or account_id,
    }
    return DesiredOutput(key, rule, "task", account_id, owner_id, due_date, fields)


def ticket_risk(
    rule: str,
    row: RowMapping,
    *,
    name: str,
    reason: str,
    priority: str,
    owner_id: str,
    due_date: date,
    evidence: str,
    watch: str,
    watch_description: str | None,
    zendesk_type: str | None = None,
) -> list[DesiredOutput]:
    """The ticket risks' outputs: a Risk CTA keyed ``rule:<account>``, a "Stay informed" Task
    under it for the CSM and, with ``zendesk_type``, a Zendesk task for the support managers.

    ``row`` carries ``account_id``, ``account_name`` and ``csm_owner``.
    """
    key, account = f"{rule}:{row['account_id']}", row["account_id"]
    outputs = [
        cta(
            rule,
            key,
            account,
            name=name,
            type="Risk",
            reason=reason,
            priority=priority,
            owner_id=owner_id,
            due_date=due_date,
            evidence=evidence,
        ),
        task(
            rule,
            key,
            "stay-informed",
            account,
            subject=f"Stay informed: {watch} at {row['account_name']}",
            owner_id=row["csm_owner"],
            due_date=due_date,
            description=watch_description,
        ),
    ]
    if zendesk_type is not None:
        subject = f"{name}: {row['account_name']}"
        outputs.append(
            zendesk_task(
                rule, key, account, subject=subject, description=evidence, risk_type=zendesk_type
            )
        )
    return outputs


def zendesk_task(
    rule: str, key: str, account_id: str, *, subject: str, description: str, risk_type: str
) -> DesiredOutput:
    """A Zendesk ticket of type task for the support managers' group (same key as the CTA)."""
    fields = {
        "subject": subject,
        "description": description,
        "risk_type": risk_type,
        "cta_key": key,
    }
    return DesiredOutput(
        key, rule, "zendesk_task", account_id, None, None, fields, key, description
    )


def timeline_note(
    rule: str,
    key: str,
    account_id: str,
    *,
    name: str,
    body: str,
    entry_date: date,
    entry_type: str = "Note",
    cta_id: str | None = None,
) -> DesiredOutput:
    """A timeline entry (``CS_Timeline_Entry__c``)."""
    fields = {
        "name": name,
        "body": body,
        "entry_date": entry_date,
        "entry_type": entry_type,
        "cta_id": cta_id,
        "account_id": account_id,
    }
    return DesiredOutput(key, rule, "timeline_entry", account_id, None, None, fields, None, body)


def milestone(
    rule: str,
    key: str,
    account_id: str,
    *,
    milestone_type: str,
    milestone_date: date,
    opportunity_id: str | None = None,
    cta_id: str | None = None,
    notes: str = "",
) -> DesiredOutput:
    """A milestone (``CS_Milestone__c``)."""
    fields = {
        "name": milestone_type,
        "milestone_type": milestone_type,
        "milestone_date": milestone_date,
        "opportunity_id": opportunity_id,
        "cta_id": cta_id,
        "notes": notes,
        "account_id": account_id,
    }
    return DesiredOutput(key, rule, "milestone", account_id, None, None, fields, None, notes)
