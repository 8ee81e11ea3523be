"""Builders for desired outputs, so every family names the same fields the same way.

Field names are the store columns of the connector's own objects (``mappings/salesforce/cs_*``);
reconcile maps them to CRM fields through the output mappings. Status is not here: the connector
sets ``New`` on create and a person owns it after that.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from connector.rules.model import DesiredOutput


def when(moment: datetime) -> str:
    """A timestamp for evidence: ``2026-10-09 14:02Z`` (UTC, to the minute)."""
    from datetime import UTC

    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%MZ")


def tickets(ids: list[str]) -> str:
    """``#101, #102``."""
    return ", ".join(f"#{i}" for i in ids)


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
