"""The quiet baseline every demo account starts from, so that only its story's rule speaks.

A quiet customer has an active executive sponsor, recent relationship-survey answers from every
active contact (scores 9-10), activity two days ago, recent Exec Check-in and EBR milestones,
healthy steady usage, Yellow deployment (70 %), a renewal 240 days out and a few solved tickets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from connector.sandbox.seed.accounts import (
    Acct,
    account_role,
    contact,
    event,
    milestone,
    opportunity,
    survey,
    task,
    usage,
)
from connector.sandbox.seed.core import Org, Record
from connector.sandbox.seed.zendesk import ticket

FIRST = (
    "Ada",
    "Ben",
    "Cleo",
    "Dev",
    "Eva",
    "Finn",
    "Gus",
    "Hana",
    "Ines",
    "Jon",
    "Kai",
    "Lina",
    "Milo",
    "Nora",
    "Otto",
    "Pia",
    "Quin",
    "Rosa",
    "Seb",
    "Tara",
    "Ugo",
    "Vera",
    "Wes",
    "Yara",
)
LAST = (
    "Abbott",
    "Brooks",
    "Castro",
    "Duarte",
    "Ellis",
    "Fraser",
    "Greene",
    "Hughes",
    "Iqbal",
    "Jensen",
    "Keller",
    "Lopez",
    "Meyer",
    "Novak",
    "Olsen",
    "Price",
    "Quinn",
    "Rossi",
    "Silva",
    "Turner",
    "Usman",
    "Varga",
    "Weber",
    "Young",
    "Zhou",
)
SPONSOR_TITLES = (
    "VP Operations",
    "Director of IT",
    "Head of Customer Experience",
    "VP Finance",
    "Director of Engineering",
)


@dataclass
class Quiet:
    """What to leave out of (or change in) the quiet baseline."""

    ht: bool = False
    people: bool = True
    surveys: bool = True
    activity_days: int | None = 2  # days since the last (completed-task) activity
    checkin_days: int | None = 30  # last Exec Check-in milestone (high-touch only)
    ebr_days: int | None = 60  # last EBR milestone (high-touch only)
    usage_weeks: int = 6  # healthy usage rows for the last N complete weeks
    tickets: bool = True


def person_name(org: Org) -> tuple[str, str]:
    """A deterministic, varied first/last name."""
    n = org.name_counter
    org.name_counter += 1
    return FIRST[n % len(FIRST)], LAST[(n * 7 + n // len(FIRST)) % len(LAST)]


def add_person(org: Org, a: Acct, title: str, **kw: object) -> Record:
    """A contact with a generated name."""
    first, last = person_name(org)
    return contact(org, a, first, last, title, **kw)  # type: ignore[arg-type]


def quiet(org: Org, a: Acct, q: Quiet | None = None) -> list[Record]:
    """Give ``a`` the quiet baseline; returns the contacts it added."""
    q = q or Quiet()
    people = _people(org, a) if q.people else []
    if q.surveys:
        for i, c in enumerate(people):
            survey(org, a, c, 9 + i % 2, 20 + 25 * i)
    if q.activity_days is not None:
        champion = people[2] if len(people) > 2 else None
        event(org, a, "Quarterly planning call", org.ago(days=q.activity_days + 9))
        task(org, a, "Check-in call", q.activity_days, who=champion)
    if q.ht and q.checkin_days is not None:
        milestone(org, a, "Exec Check-in", q.checkin_days)
    if q.ht and q.ebr_days is not None:
        milestone(org, a, "EBR", q.ebr_days)
    active = a.record["Licenses_Active__c"] or 40
    for wb in range(1, q.usage_weeks + 1):
        usage(org, a, wb, int(active * 0.8) + wb % 3, 7)
    if q.tickets and a.requesters:
        solved_tickets(
            org, a, ((12, "How do I export a dashboard?"), (45, "SSO login loop for one user"))
        )
    return people


def _people(org: Org, a: Acct) -> list[Record]:
    n = org.name_counter
    sponsor = add_person(org, a, SPONSOR_TITLES[n % len(SPONSOR_TITLES)])
    admin = add_person(org, a, "Platform Administrator")
    champion = add_person(org, a, "Operations Manager")
    user = add_person(org, a, "Operations Analyst")
    account_role(org, a, champion, "Champion")
    opportunity(
        org,
        a,
        "Initial subscription",
        type_="New Business",
        stage="Closed Won",
        close_in=-400,
        amount=48000.0,
        roles=((sponsor, "Executive Sponsor"), (admin, "Technical Buyer")),
    )
    return [sponsor, admin, champion, user]


def solved_tickets(
    org: Org, a: Acct, items: tuple[tuple[int, str], ...], tags: tuple[str, ...] = ()
) -> None:
    """Solved support tickets created ``days`` ago, one per (days, subject)."""
    for i, (days, subject) in enumerate(items):
        created = org.ago(days=days, hours=3)
        ticket(
            org,
            organization_id=a.zd_org,
            requester_id=a.requesters[i % len(a.requesters)],
            subject=subject,
            created=created,
            updated=created + timedelta(hours=20),
            status="solved",
            tags=tags,
            assignee_id=org.zd_ref["agent1"],
        )
