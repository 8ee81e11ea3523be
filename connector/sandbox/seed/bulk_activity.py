"""Background activity: tasks, events, survey answers, weekly usage rows and milestones."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connector.sandbox.seed.bulk_core import Bulk, count

if TYPE_CHECKING:
    from connector.sandbox.seed import Scale

Record = dict[str, Any]
SUBJECTS = (
    "Check-in call",
    "Send QBR deck",
    "Follow up on tickets",
    "Training session",
    "Renewal prep",
    "Share usage report",
    "Intro to new admin",
    "Roadmap review",
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
MILESTONES = ("Exec Check-in", "EBR", "Sales Handoff", "CS Handoff")
SCORES = (0, 2, 4, 5, 6, 7, 7, 8, 8, 8, 9, 9, 9, 9, 10, 10, 10)


def add_activity(
    bulk: Bulk, acct: Record, contacts: list[Record], opps: list[Record], scale: Scale
) -> None:
    """Everything dated that happens around one background account."""
    user = str(acct["CSM__c"] or acct["OwnerId"])
    _tasks(bulk, acct, contacts, opps, user, count(bulk.rng, scale.tasks_per_account))
    _events(bulk, acct, contacts, user, count(bulk.rng, scale.events_per_account))
    _surveys(bulk, acct, contacts, count(bulk.rng, scale.surveys_per_account))
    if str(acct["Type"]).startswith("Customer"):
        _usage(bulk, acct, scale.usage_weeks)
    for _ in range(count(bulk.rng, scale.milestones_per_account)):
        days = bulk.rng.randint(1, 400)
        bulk.add(
            "CS_Milestone__c",
            (days, 64_800),
            (days, 64_800),
            user,
            {
                "Name": f"{bulk.rng.choice(MILESTONES)} - {acct['Name']}"[:80],
                "Account__c": acct["Id"],
                "Milestone_Type__c": bulk.rng.choice(MILESTONES),
                "Milestone_Date__c": bulk.clock.date(days),
                "CTA__c": None,
                "Opportunity__c": None,
                "Notes__c": "Logged by the CSM.",
                "OwnerId": user,
                "Sync_Key__c": None,
                "Sync_Hash__c": None,
            },
        )


def _tasks(
    bulk: Bulk, acct: Record, contacts: list[Record], opps: list[Record], user: str, n: int
) -> None:
    r, clock = bulk.rng.random, bulk.clock
    for _ in range(n):
        done = r() < 0.8
        days = 1 + int(r() * 365) if done else int(r() * 45) - 30
        who = contacts[int(r() * len(contacts))]["Id"] if r() < 0.6 else None
        roll = r()
        what = (
            acct["Id"]
            if roll < 0.6
            else (opps[int(r() * len(opps))]["Id"] if opps and roll < 0.85 else None)
        )
        if what is None and who is None:
            what = acct["Id"]
        finished = (max(days, 1), 32_400 + int(r() * 32_400))
        subject = SUBJECTS[int(r() * len(SUBJECTS))]
        bulk.add(
            "Task",
            (max(days, 1) + int(r() * 6), int(r() * 86_400)),
            finished,
            user,
            {
                "Subject": subject,
                "Status": "Completed" if done else ("Not Started" if r() < 0.5 else "In Progress"),
                "Priority": "Normal",
                "ActivityDate": clock.date(days),
                "WhatId": what,
                "WhoId": who,
                "AccountId": acct["Id"],
                "OwnerId": user,
                "IsClosed": done,
                "Description": f"{subject} with {acct['Name']}.",
                "Type": "Call",
                "TaskSubtype": "Call",
                "IsHighPriority": False,
                "CompletedDateTime": clock.sf(*finished) if done else None,
                "CS_Sync_Key__c": None,
                "CS_Sync_Hash__c": None,
            },
        )


def _events(bulk: Bulk, acct: Record, contacts: list[Record], user: str, n: int) -> None:
    rng, clock = bulk.rng, bulk.clock
    for _ in range(n):
        days, sec = rng.randint(-20, 300), rng.randint(8, 16) * 3600
        end = sec + 3600
        bulk.add(
            "Event",
            (max(days, 1) + rng.randint(2, 10), rng.randrange(86_400)),
            (max(days, 1), 0),
            user,
            {
                "Subject": rng.choice(SUBJECTS),
                "StartDateTime": clock.sf(days, sec),
                "ActivityDateTime": clock.sf(days, sec),
                "EndDateTime": clock.sf(days, end),
                "ActivityDate": clock.date(days),
                "DurationInMinutes": 60,
                "IsAllDayEvent": False,
                "EventSubtype": "Event",
                "WhatId": acct["Id"],
                "WhoId": rng.choice(contacts)["Id"],
                "AccountId": acct["Id"],
                "OwnerId": user,
                "Description": f"Meeting with {acct['Name']}.",
                "CS_Sync_Key__c": None,
                "CS_Sync_Hash__c": None,
            },
        )


def _surveys(bulk: Bulk, acct: Record, contacts: list[Record], n: int) -> None:
    rng = bulk.rng
    for _ in range(n):
        days = rng.randint(1, 400)
        c = rng.choice(contacts) if rng.random() < 0.85 else None
        kind = rng.choice(
            ("Relationship", "Relationship", "Relationship", "Transactional", "Onboarding")
        )
        score = None if kind == "Relationship" and rng.random() < 0.1 else rng.choice(SCORES)
        bulk.add(
            "Survey_Answer__c",
            (days, 72_000),
            (days, 72_000),
            bulk.integration,
            {
                "Name": f"{kind} survey - {c['Name'] if c else 'anonymous'}"[:80],
                "Account__c": acct["Id"],
                "Contact__c": c["Id"] if c else None,
                "Kind__c": kind,
                "Score__c": score,
                "Answer_Date__c": bulk.clock.date(days),
                "Comment__c": None if score is None else f"Scored {score}.",
                "OwnerId": bulk.integration,
            },
        )


def _usage(bulk: Bulk, acct: Record, weeks: int) -> None:
    rng = bulk.rng
    base = max(1, int(acct["Licenses_Active__c"] or 10))
    level = rng.uniform(0.3, 1.6)
    monday = bulk.clock.day0.weekday()
    for wb in range(weeks, 0, -1):
        start = monday + 7 * wb
        drop = 0.5 if wb == 1 and rng.random() < 0.1 else 1.0
        row: Record = {f: int(rng.uniform(0, 25) * level * drop) for f in FEATURES}
        row.update(
            {
                "Name": f"{acct['Name']} {bulk.clock.date(start)}"[:80],
                "Account__c": acct["Id"],
                "Week_Start__c": bulk.clock.date(start),
                "Active_Users__c": int(base * rng.uniform(0.6, 1.0) * drop),
            }
        )
        bulk.add("Usage_Week__c", (start - 7, 7200), (start - 7, 7200), bulk.integration, row)
