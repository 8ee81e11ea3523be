"""Building blocks of a demo account: the account, its people, deals, activity and milestones.

Each helper writes wire-format records through :class:`~connector.sandbox.seed.core.Org`;
days are counted back from the anchor's date (negative values lie ahead).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from connector.sandbox.seed.core import Org, Record, sf_dt
from connector.sandbox.seed.zendesk import add_organization, add_zd_user

CUSTOMER = "Customer - Direct"
PRODUCTS = ("Analytics", "Automation", "Journeys", "Integrations", "Mobile")
_WON = {"Closed Won": (True, True), "Closed Lost": (True, False)}


@dataclass
class Acct:
    """What the stories need to know about an account they built."""

    id: str
    name: str
    record: Record
    owner: str  # role of the account owner (AE)
    csm: str | None  # role of the CSM
    zd_org: int | None
    contacts: list[Record] = field(default_factory=list)
    requesters: list[int] = field(default_factory=list)
    opps: list[Record] = field(default_factory=list)

    @property
    def slug(self) -> str:
        return "".join(ch for ch in self.name.lower() if ch.isalnum())[:20]


def account(  # noqa: PLR0913 - the demo-input fields of an account, all with demo defaults
    org: Org,
    name: str,
    *,
    type_: str = CUSTOMER,
    segment: str = "Mid-Market",
    csm: str | None = "csm1",
    owner: str = "ae1",
    stage: str = "Adopt",
    licenses: tuple[int | None, int | None] = (200, 140),
    renewal_in: int | None = 240,
    products: tuple[str, ...] = ("Analytics", "Automation"),
    ivm: tuple[bool | None, bool | None, bool | None] = (True, True, True),
    support_limit: int | None = None,
    bug_limit: int | None = None,
    zendesk: str = "linked",
    industry: str = "Technology",
    age_days: int = 500,
) -> Acct:
    """Add an Account (and its Zendesk organization unless ``zendesk="none"``)."""
    created = org.at_day(age_days, hour=9)
    renewal = None if renewal_in is None else org.day(-renewal_in).isoformat()
    rec = org.add(
        "Account",
        {
            "Name": name,
            "Type": type_,
            "OwnerId": org.users[owner],
            "Industry": industry,
            "Website": f"https://www.{_slug(name)}.example",
            "BillingCountry": "United Kingdom",
            "Segment__c": segment,
            "CSM__c": org.users[csm] if csm else None,
            "Lifecycle_Stage__c": stage,
            "Licenses_Purchased__c": licenses[0],
            "Licenses_Active__c": licenses[1],
            "Renewal_Date__c": renewal,
            "Products_Owned__c": ";".join(products) or None,
            "IVM_Kickoff_Done__c": ivm[0],
            "IVM_Integration_Live__c": ivm[1],
            "IVM_Training_Done__c": ivm[2],
            "Support_Volume_Threshold__c": support_limit,
            "Bug_Volume_Threshold__c": bug_limit,
            "CS_Health_Score__c": None,
            "CS_Health_Color__c": None,
            "CS_Health_Updated__c": None,
        },
        created,
        org.at_day(min(age_days, 20), hour=15),
        by=org.users[owner],
    )
    ext = {"linked": rec["Id"], "short": rec["Id"][:15], "unlinked": None}.get(zendesk)
    zd_org = (
        None
        if zendesk == "none"
        else add_organization(org, name, ext, created + timedelta(days=3), f"{_slug(name)}.example")
    )
    return Acct(rec["Id"], name, rec, owner, csm, zd_org)


def contact(
    org: Org,
    a: Acct,
    first: str,
    last: str,
    title: str,
    *,
    left: bool = False,
    persona: str | None = None,
    requester: bool = True,
) -> Record:
    """Add a Contact; ``persona`` is a value a person set in CS_Persona__c."""
    email = f"{first.lower()}.{last.lower()}@{_slug(a.name)}.example"
    created = org.at_day(300 + len(a.contacts), hour=11)
    rec = org.add(
        "Contact",
        {
            "AccountId": a.id,
            "FirstName": first,
            "LastName": last,
            "Name": f"{first} {last}",
            "Email": email,
            "Title": title,
            "OwnerId": org.users[a.owner],
            "Left_Company__c": left,
            "CS_Persona__c": persona,
        },
        created,
        org.at_day(30 + len(a.contacts), hour=12),
        by=org.users[a.owner],
    )
    a.contacts.append(rec)
    if requester and a.zd_org is not None:
        a.requesters.append(
            add_zd_user(org, rec["Name"], email, "end-user", created + timedelta(days=1), a.zd_org)
        )
    return rec


def account_role(org: Org, a: Acct, c: Record, role: str) -> Record:
    """Add an AccountContactRole."""
    return org.add(
        "AccountContactRole",
        {
            "AccountId": a.id,
            "ContactId": c["Id"],
            "Role": role,
            "IsPrimary": False,
        },
        org.at_day(200, hour=13),
        by=org.users[a.owner],
    )


def opportunity(
    org: Org,
    a: Acct,
    name: str,
    *,
    type_: str,
    stage: str,
    close_in: int,
    amount: float = 24000.0,
    roles: tuple[tuple[Record, str], ...] = (),
) -> Record:
    """Add an Opportunity closing ``close_in`` days from today, with contact roles."""
    closed, won = _WON.get(stage, (False, False))
    created = org.at_day(max(60, 60 - close_in), hour=10)
    last = org.at_day(max(1, -close_in), hour=16) if closed else org.at_day(5, hour=16)
    rec = org.add(
        "Opportunity",
        {
            "AccountId": a.id,
            "Name": f"{a.name} - {name}",
            "Type": type_,
            "StageName": stage,
            "CloseDate": org.day(-close_in).isoformat(),
            "Amount": amount,
            "IsClosed": closed,
            "IsWon": won,
            "OwnerId": org.users[a.owner],
            "Probability": 100 if won else (0 if closed else 60),
        },
        created,
        last,
        by=org.users[a.owner],
    )
    a.opps.append(rec)
    for i, (c, role) in enumerate(roles):
        org.add(
            "OpportunityContactRole",
            {
                "OpportunityId": rec["Id"],
                "ContactId": c["Id"],
                "Role": role,
                "IsPrimary": i == 0,
            },
            created + timedelta(hours=1),
            by=org.users[a.owner],
        )
    return rec


def task(
    org: Org,
    a: Acct,
    subject: str,
    days_ago: int,
    *,
    status: str = "Completed",
    what: Record | None = None,
    who: Record | None = None,
    owner: str | None = None,
    sync_key: str | None = None,
) -> Record:
    """Add a Task dated ``days_ago``; AccountId follows WhatId, else WhoId's account."""
    user = org.users[owner or a.csm or a.owner]
    created = org.at_day(max(days_ago, 0) + 2, hour=8)
    done = org.at_day(max(days_ago, 0), hour=17) if status == "Completed" else created
    return org.add(
        "Task",
        {
            "Subject": subject,
            "Status": status,
            "Priority": "Normal",
            "ActivityDate": org.day(days_ago).isoformat(),
            "WhatId": (what or a.record)["Id"],
            "WhoId": who["Id"] if who else None,
            "AccountId": a.id,
            "OwnerId": user,
            "IsClosed": status == "Completed",
            "Description": f"{subject} with {a.name}.",
            "Type": "Call",
            "TaskSubtype": "Call",
            "IsHighPriority": False,
            "CompletedDateTime": sf_dt(done) if status == "Completed" else None,
            "CS_Sync_Key__c": sync_key,
            "CS_Sync_Hash__c": None,
        },
        created,
        done,
        by=org.integration_id if sync_key else user,
    )


def event(
    org: Org,
    a: Acct,
    subject: str,
    start: datetime,
    *,
    who: Record | None = None,
    what: Record | None = None,
) -> Record:
    """Add a one-hour Event starting at ``start``."""
    user = org.users[a.csm or a.owner]
    created = min(start, org.anchor) - timedelta(days=3)
    return org.add(
        "Event",
        {
            "Subject": subject,
            "StartDateTime": sf_dt(start),
            "ActivityDateTime": sf_dt(start),
            "EndDateTime": sf_dt(start + timedelta(hours=1)),
            "ActivityDate": start.date().isoformat(),
            "DurationInMinutes": 60,
            "IsAllDayEvent": False,
            "EventSubtype": "Event",
            "WhatId": (what or a.record)["Id"],
            "WhoId": who["Id"] if who else None,
            "AccountId": a.id,
            "OwnerId": user,
            "Description": f"{subject} with {a.name}.",
            "CS_Sync_Key__c": None,
            "CS_Sync_Hash__c": None,
        },
        created,
        by=user,
    )


def milestone(
    org: Org,
    a: Acct,
    mtype: str,
    days_ago: int,
    *,
    opp: Record | None = None,
    cta: Record | None = None,
) -> Record:
    """Add a milestone a person logged (no Sync_Key__c)."""
    user = org.users[a.csm or a.owner]
    return org.add(
        "CS_Milestone__c",
        {
            "Name": f"{mtype} - {a.name}"[:80],
            "Account__c": a.id,
            "Milestone_Type__c": mtype,
            "Milestone_Date__c": org.day(days_ago).isoformat(),
            "CTA__c": cta["Id"] if cta else None,
            "Opportunity__c": opp["Id"] if opp else None,
            "Notes__c": f"{mtype} held.",
            "OwnerId": user,
            "Sync_Key__c": None,
            "Sync_Hash__c": None,
        },
        org.at_day(days_ago, hour=18),
        by=user,
    )


def timeline(
    org: Org,
    a: Acct,
    name: str,
    days_ago: int,
    *,
    entry_type: str = "Update",
    cta: Record | None = None,
) -> Record:
    """Add a timeline entry a person logged."""
    user = org.users[a.csm or a.owner]
    return org.add(
        "CS_Timeline_Entry__c",
        {
            "Name": name[:80],
            "Account__c": a.id,
            "CTA__c": cta["Id"] if cta else None,
            "Entry_Type__c": entry_type,
            "Entry_Date__c": org.day(days_ago).isoformat(),
            "Body__c": f"{name}.",
            "OwnerId": user,
            "Sync_Key__c": None,
            "Sync_Hash__c": None,
        },
        org.at_day(days_ago, hour=17),
        by=user,
    )


def survey(
    org: Org,
    a: Acct,
    c: Record | None,
    score: int | None,
    days_ago: int,
    kind: str = "Relationship",
) -> Record:
    """Add a survey answer (``c`` None: anonymous; ``score`` None: unscored)."""
    who = c["Name"] if c else "anonymous"
    return org.add(
        "Survey_Answer__c",
        {
            "Name": f"{kind} survey - {who}"[:80],
            "Account__c": a.id,
            "Contact__c": c["Id"] if c else None,
            "Kind__c": kind,
            "Score__c": score,
            "Answer_Date__c": org.day(days_ago).isoformat(),
            "Comment__c": None if score is None else f"Scored {score}.",
            "OwnerId": org.integration_id,
        },
        org.at_day(days_ago, hour=20),
    )


FEATURES = (
    "Feature_Dashboards__c",
    "Feature_Reports__c",
    "Feature_Alerts__c",
    "Feature_Integrations__c",
    "Feature_Automations__c",
    "Feature_Mobile__c",
    "Feature_API__c",
)


def usage(org: Org, a: Acct, weeks_back: int, active: int, green: int) -> Record:
    """Add the usage row of the week ``weeks_back`` weeks before the anchor's week.

    ``weeks_back=1`` is the last complete week. The first ``green`` features reach their
    threshold (10); the others stay below it.
    """
    start = org.day(org.today.weekday() + 7 * weeks_back)
    fields: Record = {f: (12 + 3 * i if i < green else 9 - i) for i, f in enumerate(FEATURES)}
    fields.update(
        {
            "Name": f"{a.name} {start.isoformat()}"[:80],
            "Account__c": a.id,
            "Week_Start__c": start.isoformat(),
            "Active_Users__c": active,
        }
    )
    return org.add(
        "Usage_Week__c", fields, org.at_day(org.today.weekday() + 7 * weeks_back - 7, hour=2)
    )


def _slug(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())[:24] or "account"
