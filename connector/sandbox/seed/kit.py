"""Shared tools of the story modules: output keys, owners, tickets and the story register."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from connector.sandbox.demo_data import Story
from connector.sandbox.seed.accounts import Acct, survey
from connector.sandbox.seed.core import Org, Record, half_year, iso_week
from connector.sandbox.seed.zendesk import ticket

TAGS = {"support": ("how_to",), "bug": ("bug",), "product": ("feature_request",)}
_SUBJECTS = {
    "support": (
        "Cannot export report to CSV",
        "Password reset email not arriving",
        "Dashboard loads slowly",
        "How do I add a user?",
        "Billing address change",
        "SSO login fails for contractors",
        "Alert emails go to spam",
    ),
    "bug": (
        "Chart legend overlaps values",
        "Sync job fails with error 500",
        "Mobile app crashes on login",
        "Wrong totals in monthly report",
        "API returns duplicate rows",
        "Timezone shift in scheduled alerts",
    ),
    "product": (
        "Request: dark mode",
        "Request: Slack integration",
        "Request: custom fiscal year",
        "Request: bulk user import",
    ),
}


def key(rule: str, subject: str, period: str | None = None) -> str:
    """An output key ``rule:subject[:period]``."""
    return f"{rule}:{subject}" if period is None else f"{rule}:{subject}:{period}"


def week(org: Org) -> str:
    """The ISO week containing today (health snapshots, weekly tasks)."""
    return iso_week(org.today)


def half(org: Org) -> str:
    """The calendar half-year containing today (NPS survey tasks)."""
    return half_year(org.today)


def csm_owner(a: Acct) -> str:
    """Who owns a CSM-owned output: the active CSM, else the AE, else the fallback owner."""
    if a.csm and a.csm != "csm_inactive":
        return a.csm
    return "fallback" if a.owner == "inactive" else a.owner


def story(
    org: Org,
    a: Acct,
    rule: str,
    fires: bool,
    why: str,
    outputs: Iterable[str] = (),
    *,
    case: str = "",
    owner: str = "",
    act: int = 0,
) -> None:
    """Register one row of the story table (silent rows have no outputs and no owner)."""
    outs = tuple(outputs) if fires else ()
    org.stories.append(
        Story(
            account_name=a.name,
            account_id=a.id,
            rule=rule,
            fires=fires,
            why=why,
            outputs=outs,
            case=case,
            owner=owner if fires else "",
            act=act,
        )
    )


def tickets(
    org: Org,
    a: Acct,
    ages_days: Iterable[float],
    *,
    kind: str = "support",
    status: str = "solved",
    priority: str | None = "normal",
    ttype: str | None = None,
) -> list[Record]:
    """Tickets created ``age`` days before the anchor, one per age; bug/product tags by kind."""
    out = []
    subjects = _SUBJECTS[kind]
    for i, age in enumerate(ages_days):
        created = org.anchor - timedelta(days=age)
        settled = status in ("solved", "closed")
        # The last change lands 5 minutes before the anchor: Zendesk's exports hold back the
        # most recent minute, and a first pull right after start must see every story ticket.
        latest = org.anchor - timedelta(minutes=5)
        updated = max(created, min(created + timedelta(hours=26 if settled else 3), latest))
        out.append(
            ticket(
                org,
                organization_id=a.zd_org,
                requester_id=a.requesters[i % len(a.requesters)],
                subject=subjects[i % len(subjects)],
                created=created,
                updated=updated,
                status=status,
                priority=priority,
                ttype=ttype or ("incident" if kind == "bug" else "question"),
                tags=TAGS[kind],
                assignee_id=org.zd_ref[f"agent{1 + i % 4}"] if status != "new" else None,
                product_area="analytics" if kind != "support" else None,
            )
        )
    return out


def answer_all(
    org: Org, a: Acct, contacts: Iterable[Record], score: int | None = 9, days_ago: int = 40
) -> None:
    """A relationship-survey answer from each contact, so nps_survey_due stays quiet."""
    for i, c in enumerate(contacts):
        survey(org, a, c, score if score is None else min(10, score + i % 2), days_ago + i)


def cta(  # noqa: PLR0913 - a CTA row has this many person- and connector-owned facets
    org: Org,
    a: Acct,
    name: str,
    *,
    type_: str = "Risk",
    reason: str = "Other",
    status: str = "In Progress",
    sync_key: str | None = None,
    priority: str = "High",
    owner: str | None = None,
    created_days: int = 20,
    escalation: str = "Not Escalated",
    snooze_days_ahead: int | None = None,
    closed_days: int | None = None,
) -> Record:
    """A CS_CTA__c row: a person's (no ``sync_key``) or the connector's from an earlier run."""
    person = org.users[owner or csm_owner(a)]
    rule = sync_key.split(":", 1)[0] if sync_key else None
    created = org.at_day(created_days, hour=9)
    touched = org.at_day(closed_days if closed_days is not None else 3, hour=14)
    rec = org.add(
        "CS_CTA__c",
        {
            "Name": name[:80],
            "Account__c": a.id,
            "Contact__c": None,
            "Opportunity__c": None,
            "Type__c": type_,
            "Reason__c": reason,
            "Status__c": status,
            "Closed_Date__c": None if closed_days is None else org.day(closed_days).isoformat(),
            "Priority__c": priority,
            "Due_Date__c": org.day(created_days - 7).isoformat(),
            "Snooze_Until__c": None
            if snooze_days_ahead is None
            else org.day(-snooze_days_ahead).isoformat(),
            "Escalation__c": escalation,
            "Comments__c": None,
            "Rule_Id__c": rule,
            "Evidence__c": f"Earlier run: {name}." if rule else None,
            "Rule_State__c": "Active" if rule else None,
            "Sync_Key__c": sync_key,
            "Sync_Hash__c": None,
            "Zendesk_Ticket_Id__c": None,
            "Last_Evaluated__c": None,
            "OwnerId": person,
        },
        created,
        touched,
        by=org.integration_id if rule else person,
    )
    rec["LastModifiedById"] = person  # the last change (status, snooze...) was a person's
    return rec
