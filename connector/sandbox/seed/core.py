"""The seed generator's workbench: a clock around the anchor, id minting and audited records.

Every generator module writes through :class:`Org` so that every Salesforce record carries the
same audit fields in wire format and every Zendesk record gets an id from one shared counter.
"""

from __future__ import annotations

import functools
import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from connector.sandbox.demo_data import DemoData, Story
from connector.sandbox.ids import IdMinter

Record = dict[str, Any]

DOMAIN = "demo.cs-connector.dev"
ZENDESK_URL = "https://demo.zendesk.com/api/v2"

STANDARD_PREFIXES = {
    "Account": "001",
    "Contact": "003",
    "User": "005",
    "Opportunity": "006",
    "Task": "00T",
    "Event": "00U",
    "OpportunityContactRole": "00K",
    "AccountContactRole": "02Z",
}
# Used until (or unless) the schema built from salesforce/ says otherwise.
FALLBACK_CUSTOM_PREFIXES = {
    "CS_CTA__c": "a01",
    "CS_Timeline_Entry__c": "a02",
    "CS_Milestone__c": "a03",
    "CS_Health_Snapshot__c": "a04",
    "CS_Success_Plan__c": "a05",
    "CS_Objective__c": "a06",
    "Survey_Answer__c": "a07",
    "Usage_Week__c": "a08",
}
SOBJECTS = tuple(STANDARD_PREFIXES) + tuple(FALLBACK_CUSTOM_PREFIXES)
ZENDESK_COLLECTIONS = ("organizations", "users", "groups", "tickets", "ticket_fields")


@functools.cache
def key_prefixes() -> dict[str, str]:
    """Key prefix per sObject, read from the shipped schema so ids match what describe says."""
    prefixes = dict(STANDARD_PREFIXES) | FALLBACK_CUSTOM_PREFIXES
    try:
        from connector.sandbox.salesforce.schema import load_schema

        schema = load_schema()
    except Exception:  # noqa: BLE001 - without the SFDX metadata the fallbacks are the truth
        return prefixes
    for name in prefixes:
        obj = schema.get(name)
        if obj is not None and obj.key_prefix:
            prefixes[name] = obj.key_prefix
    return prefixes


def sf_dt(t: datetime) -> str:
    """A Salesforce wire datetime (UTC, milliseconds, +0000)."""
    return t.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def zd_dt(t: datetime) -> str:
    """A Zendesk wire time (UTC, seconds, Z)."""
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_week(d: date) -> str:
    """``YYYY-Www`` with the ISO year, as output keys write weeks."""
    iso = d.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def half_year(d: date) -> str:
    """``YYYY-H1`` or ``YYYY-H2``."""
    return f"{d.year}-H{1 if d.month <= 6 else 2}"


def monday(d: date) -> date:
    """The Monday of ``d``'s ISO week."""
    return d - timedelta(days=d.weekday())


class Org:
    """Collects the records of one generated org, around a fixed anchor instant."""

    def __init__(self, anchor: datetime, seed: int, id_start: int = 1, zd_start: int = 1) -> None:
        self.anchor = anchor
        self.today = anchor.date()
        self.rng = random.Random(seed)
        self.minter = IdMinter(start=id_start)
        self.prefixes = dict(key_prefixes())
        self.sf: dict[str, list[Record]] = defaultdict(list)
        self.zd: dict[str, list[Record]] = defaultdict(list)
        self.zd_next = zd_start
        self.users: dict[str, str] = {}
        self.stories: list[Story] = []
        self.acts: list[dict[str, Any]] = []
        self.by_id: dict[str, Record] = {}
        self.integration_id = ""
        self.zd_ref: dict[str, int] = {}  # Zendesk ids of groups, agents and ticket fields
        self.name_counter = 0  # picks the next generated person name

    # -- clock -------------------------------------------------------------------------------
    def ago(self, days: float = 0, hours: float = 0, minutes: float = 0) -> datetime:
        """The instant ``days``/``hours`` before the anchor."""
        return self.anchor - timedelta(days=days, hours=hours, minutes=minutes)

    def day(self, days_ago: int) -> date:
        """The calendar date ``days_ago`` days before the anchor's date (negative: ahead)."""
        return self.today - timedelta(days=days_ago)

    def at_day(self, days_ago: int, hour: int = 10) -> datetime:
        """An instant on the date ``days_ago`` days back, never after the anchor."""
        d = self.day(days_ago)
        t = datetime(d.year, d.month, d.day, hour, tzinfo=UTC)
        return min(t, self.anchor - timedelta(minutes=5))

    # -- Salesforce ---------------------------------------------------------------------------
    def add(
        self,
        sobject: str,
        fields: Record,
        created: datetime,
        modified: datetime | None = None,
        by: str | None = None,
    ) -> Record:
        """Mint an id and add a record with its audit fields (modstamp ≥ modified ≥ created)."""
        rid = self.minter.mint(self.prefixes[sobject])
        author = by or self.integration_id or rid
        mod = max(modified or created, created)
        stamp = sf_dt(mod)
        # Every fifth record was touched by the system later (a recalculation, say), so a
        # cursor on SystemModstamp and one on LastModifiedDate do not see the same thing.
        system = (
            sf_dt(min(mod + timedelta(minutes=17), self.anchor))
            if len(self.by_id) % 5 == 4
            else stamp
        )
        rec: Record = {
            "Id": rid,
            "IsDeleted": False,
            "CreatedDate": sf_dt(created),
            "CreatedById": author,
            "LastModifiedDate": stamp,
            "LastModifiedById": author,
            "SystemModstamp": system,
        }
        rec.update(fields)
        self.sf[sobject].append(rec)
        self.by_id[rid] = rec
        return rec

    # -- Zendesk ------------------------------------------------------------------------------
    def zd_id(self) -> int:
        """The next id of the shared Zendesk counter."""
        n = self.zd_next
        self.zd_next += 1
        return n

    def demo(self, scale: str, seed: int) -> DemoData:
        """Freeze the collected records into a :class:`DemoData`."""
        return DemoData(
            scale=scale,
            seed=seed,
            anchor=self.anchor,
            salesforce={name: list(self.sf.get(name, [])) for name in SOBJECTS},
            zendesk={name: list(self.zd.get(name, [])) for name in ZENDESK_COLLECTIONS},
            id_counters=self.minter.state(),
            zendesk_next_id=self.zd_next,
            stories=list(self.stories),
            users=dict(self.users),
            acts=list(self.acts),
        )
