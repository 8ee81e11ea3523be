"""The answer key of the demo org: a deliberately plain reading of RULES.md over the records.

It is independent of ``connector.rules`` (a second implementation, as RULES.md asks for), runs
on the S org only, and fills ``Story.account_outputs``; the tests also check every hand-written
story against it. Defaults are those listed in ``docs/demo-org.md``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from connector.sandbox.demo_data import DemoData
from connector.sandbox.ids import to18

Rec = dict[str, Any]
CUSTOMER_TYPES = ("Customer - Direct", "Customer - Channel")
HIGH_TOUCH = ("Enterprise", "Strategic")
EXEC = ("Executive Sponsor", "Big Boss")
OPEN = ("new", "open", "pending", "hold")
FEATURES = (
    "Feature_Dashboards__c",
    "Feature_Reports__c",
    "Feature_Alerts__c",
    "Feature_Integrations__c",
    "Feature_Automations__c",
    "Feature_Mobile__c",
    "Feature_API__c",
)
BIG_BOSS = re.compile(
    r"\b(ceo|cto|cfo|coo|cio|cmo|cro|cpo|cdo|cco|ciso|chief\b.*\bofficer)\b"
    r"|(?<!vice )\bpresident\b|\b(co-?)?founder\b",
    re.IGNORECASE,
)
ADMIN = re.compile(r"\badmin(istrator)?\b", re.IGNORECASE)
SPONSOR_ROLES = ("executive sponsor", "economic buyer", "decision maker")


def sf_time(value: str) -> datetime:
    """Parse a Salesforce wire datetime."""
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")


def zd_time(value: str) -> datetime:
    """Parse a Zendesk wire time."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def persona(title: str | None, roles: set[str]) -> str:
    """The default persona rules, first match wins."""
    if roles & set(SPONSOR_ROLES):
        return "Executive Sponsor"
    if title and BIG_BOSS.search(title):
        return "Big Boss"
    if title and ADMIN.search(title):
        return "Admin"
    return "Adoption Champion" if "champion" in roles else "End User"


@dataclass
class Ctx:
    """Indexes of one org state, everything the rules read."""

    now: datetime
    accounts: dict[str, Rec]
    contacts: dict[str, list[Rec]] = field(default_factory=lambda: defaultdict(list))
    effective: dict[str, str] = field(default_factory=dict)  # contact id -> persona
    tickets: dict[str, list[Rec]] = field(default_factory=lambda: defaultdict(list))
    answers: dict[str, list[Rec]] = field(default_factory=lambda: defaultdict(list))
    last_relationship: dict[str, date] = field(default_factory=dict)  # contact -> date
    usage: dict[str, dict[date, Rec]] = field(default_factory=lambda: defaultdict(dict))
    activity: dict[str, date] = field(default_factory=dict)  # account -> latest
    linked: dict[str, date] = field(default_factory=dict)  # CTA -> latest linked update
    milestones: dict[str, list[Rec]] = field(default_factory=lambda: defaultdict(list))
    opps: dict[str, list[Rec]] = field(default_factory=lambda: defaultdict(list))
    ctas: list[Rec] = field(default_factory=list)

    @property
    def today(self) -> date:
        return self.now.date()

    def days_since(self, d: date) -> int:
        return (self.today - d).days

    def within(self, value: str | None, days: int) -> bool:
        """A date field dated in the last ``days`` days (and not after today)."""
        return bool(value) and 0 <= self.days_since(date.fromisoformat(str(value))) <= days


def build(demo: DemoData, now: datetime) -> Ctx:
    """Index ``demo`` as the rules see it at ``now``: customers and what belongs to them."""
    sf = {k: [r for r in v if not r.get("IsDeleted")] for k, v in demo.salesforce.items()}
    ctx = Ctx(now, {a["Id"]: a for a in sf["Account"] if a["Type"] in CUSTOMER_TYPES})
    roles: dict[str, set[str]] = defaultdict(set)
    for r in sf["OpportunityContactRole"] + sf["AccountContactRole"]:
        roles[r["ContactId"]].add(str(r["Role"]).strip().lower())
    for c in sf["Contact"]:
        if c["AccountId"] in ctx.accounts:
            ctx.contacts[c["AccountId"]].append(c)
        ctx.effective[c["Id"]] = c.get("CS_Persona__c") or persona(c["Title"], roles[c["Id"]])
    for o in sf["Opportunity"]:
        ctx.opps[o["AccountId"]].append(o)
    _index_tickets(ctx, demo)
    for s in sf["Survey_Answer__c"]:
        ctx.answers[s["Account__c"]].append(s)
        if (
            s["Kind__c"] == "Relationship"
            and s["Contact__c"]
            and ctx.within(s["Answer_Date__c"], 10**6)
        ):
            d = date.fromisoformat(s["Answer_Date__c"])
            ctx.last_relationship[s["Contact__c"]] = max(
                d, ctx.last_relationship.get(s["Contact__c"], d)
            )
    for u in sf["Usage_Week__c"]:
        ctx.usage[u["Account__c"]][date.fromisoformat(u["Week_Start__c"])] = u
    for m in sf["CS_Milestone__c"]:
        ctx.milestones[m["Account__c"]].append(m)
    ctx.ctas = [c for c in sf["CS_CTA__c"] if c["Account__c"] in ctx.accounts]
    _index_activity(ctx, sf)
    return ctx


def _index_tickets(ctx: Ctx, demo: DemoData) -> None:
    owner: dict[int, str] = {}
    for o in demo.zendesk["organizations"]:
        ext = o.get("external_id")
        if ext and len(ext) in (15, 18) and to18(ext) in ctx.accounts:
            owner[o["id"]] = to18(ext)
    for t in demo.zendesk["tickets"]:
        account = owner.get(t["organization_id"])
        if account and t["status"] != "deleted":
            ctx.tickets[account].append(t)


def _index_activity(ctx: Ctx, sf: dict[str, list[Rec]]) -> None:
    """Latest human activity per account (direct, via opportunity, via contact) and per CTA."""
    via: dict[str, str] = {a: a for a in ctx.accounts}
    for account, opps in ctx.opps.items():
        via.update({o["Id"]: account for o in opps})
    for account, people in ctx.contacts.items():
        via.update({c["Id"]: account for c in people})
    dated: list[tuple[Rec, date]] = []
    for t in sf["Task"]:
        if t["Status"] == "Completed" and not t.get("CS_Sync_Key__c"):
            d = date.fromisoformat(t["ActivityDate"] or t["CreatedDate"][:10])
            if d <= ctx.today:
                dated.append((t, d))
    for e in sf["Event"]:
        start = sf_time(e["StartDateTime"])
        if start <= ctx.now and not e.get("CS_Sync_Key__c"):
            dated.append((e, start.date()))
    ctas = {c["Id"] for c in ctx.ctas}
    for rec, d in dated:
        for ref in (rec["WhatId"], rec["WhoId"]):
            if ref in via:
                _latest(ctx.activity, via[ref], d)
        if rec["WhatId"] in ctas:
            _latest(ctx.linked, rec["WhatId"], d)
    for e in sf["CS_Timeline_Entry__c"]:
        d = date.fromisoformat(e["Entry_Date__c"])
        if e.get("Sync_Key__c") or d > ctx.today:
            continue
        if e["Account__c"] in ctx.accounts:
            _latest(ctx.activity, e["Account__c"], d)
        if e["CTA__c"]:
            _latest(ctx.linked, e["CTA__c"], d)


def _latest(index: dict[str, date], k: str, d: date) -> None:
    index[k] = max(d, index.get(k, d))


def ticket_age(ctx: Ctx, t: Rec) -> timedelta:
    """How long ago the ticket was created."""
    return ctx.now - zd_time(t["created_at"])


def kind(t: Rec) -> str:
    """bug, product, support or other (task tickets)."""
    tags = set(t["tags"])
    if "bug" in tags:
        return "bug"
    if "feature_request" in tags:
        return "product"
    return "other" if t["type"] == "task" else "support"


def apply_acts(demo: DemoData, act: int) -> DemoData:
    """A copy of ``demo`` with the edits of acts 1..``act`` applied (records copied on write)."""
    sf = {k: list(v) for k, v in demo.salesforce.items()}
    for edit in demo.acts:
        if edit["act"] > act:
            continue
        rows = sf[edit["sobject"]]
        i = next(n for n, r in enumerate(rows) if r["Id"] == edit["id"])
        if edit["op"] == "delete":
            rows[i] = rows[i] | {"IsDeleted": True}
        else:
            rows[i] = rows[i] | edit["fields"]
    return DemoData(demo.scale, demo.seed, demo.anchor, sf, demo.zendesk, stories=demo.stories)
