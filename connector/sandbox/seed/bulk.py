"""Background accounts for scales M and L: plausible, varied, seeded, and fast to make.

The background is realistic rather than quiet: its accounts fire rules at natural rates. It is a
function of (scale, seed, anchor date) only; ``seed.load_or_generate`` caches it per day.
"""

from __future__ import annotations

import random
from datetime import date
from typing import TYPE_CHECKING

from connector.sandbox.demo_data import DemoData
from connector.sandbox.seed.bulk_activity import add_activity
from connector.sandbox.seed.bulk_core import (
    BULK_ID_START,
    BULK_ZD_START,
    Bulk,
    Clock,
    count,
    paused_gc,
)
from connector.sandbox.seed.bulk_tickets import add_organization, add_tickets
from connector.sandbox.seed.core import ZENDESK_URL
from connector.sandbox.seed.quiet import FIRST, LAST

if TYPE_CHECKING:
    from connector.sandbox.seed import Scale

__all__ = ["BULK_ID_START", "BULK_ZD_START", "generate_bulk"]

WORDS = (
    "Granite",
    "Harbor",
    "Summit",
    "Cobalt",
    "Meadow",
    "Atlas",
    "Beacon",
    "Cedar",
    "Delta",
    "Ember",
    "Fjord",
    "Glacier",
    "Horizon",
    "Iris",
    "Juniper",
    "Kite",
    "Lumen",
    "Maple",
    "Nimbus",
    "Onyx",
    "Prairie",
    "Quarry",
    "Raven",
    "Sierra",
    "Tundra",
    "Umber",
    "Vertex",
)
TRADES = (
    "Analytics",
    "Logistics",
    "Health",
    "Foods",
    "Energy",
    "Bank",
    "Insurance",
    "Retail",
    "Media",
    "Labs",
    "Airlines",
    "Motors",
    "Realty",
    "Telecom",
    "Pharma",
    "Schools",
)
TYPES = (
    ("Customer - Direct", 60),
    ("Customer - Channel", 25),
    ("Prospect", 10),
    ("Channel Partner / Reseller", 3),
    ("Technology Partner", 2),
)
SEGMENTS = (("Enterprise", 10), ("Strategic", 5), ("Mid-Market", 45), ("SMB", 40))
STAGES = (
    ("Adopt", 40),
    ("Expand", 20),
    ("Renew", 20),
    ("Deploy", 7),
    ("Welcome", 5),
    ("Churned", 3),
)
PRODUCTS = ("Analytics", "Automation", "Journeys", "Integrations", "Mobile")
TITLES = (
    "Operations Analyst",
    "Data Analyst",
    "Platform Administrator",
    "Operations Manager",
    "VP Operations",
    "Director of IT",
    "CEO",
    "Chief Financial Officer",
    "Engineer",
    "Marketing Manager",
    "Support Lead",
    "Vice President of Sales",
    "Buyer",
    "Founder",
)
ROLES = (
    "Executive Sponsor",
    "Economic Buyer",
    "Decision Maker",
    "Champion",
    "Technical Buyer",
    "Evaluator",
    "Influencer",
    "Business User",
)
OPP_TYPES = ("New Business", "Renewal", "Upsell")
OPEN_STAGES = (
    "Prospecting",
    "Qualification",
    "Needs Analysis",
    "Proposal/Price Quote",
    "Negotiation/Review",
)


def pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    """A value drawn by weight."""
    return rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]


def generate_bulk(scale: Scale, seed: int, day: date, base: DemoData) -> DemoData:
    """Background records for ``scale``, after the story org ``base`` (ids from 1,000,000)."""
    bulk = Bulk(random.Random(seed * 1_000_003 + 17), Clock(day), base)
    with paused_gc():
        for i in range(max(0, scale.accounts - len(base.salesforce["Account"]))):
            _account(bulk, i, scale)
    return bulk.demo()


def _account(bulk: Bulk, i: int, scale: Scale) -> None:
    rng, users = bulk.rng, bulk.users
    type_ = pick(rng, TYPES)
    name = f"{WORDS[i % len(WORDS)]} {TRADES[i // len(WORDS) % len(TRADES)]} {i + 1:05d}"
    owner = users[f"ae{1 + i % 3}"]
    csm = users["csm_inactive"] if i % 50 == 7 else users[f"csm{1 + i % 3}"]
    bought = rng.randint(20, 2000)
    created = bulk.when(200, 1100)
    acct = bulk.add(
        "Account",
        created,
        bulk.when(1, 60),
        owner,
        {
            "Name": name,
            "Type": type_,
            "OwnerId": owner,
            "Industry": TRADES[i % len(TRADES)],
            "Website": f"https://www.{name.split()[0].lower()}{i + 1}.example",
            "BillingCountry": "United Kingdom",
            "Segment__c": pick(rng, SEGMENTS),
            "CSM__c": csm if type_.startswith("Customer") else None,
            "Lifecycle_Stage__c": pick(rng, STAGES),
            "Licenses_Purchased__c": bought,
            "Licenses_Active__c": int(bought * rng.uniform(0.3, 1.05)),
            "Renewal_Date__c": bulk.clock.date(-rng.randint(20, 380))
            if rng.random() < 0.9
            else None,
            "Products_Owned__c": ";".join(p for p in PRODUCTS if rng.random() < 0.45) or None,
            "IVM_Kickoff_Done__c": rng.random() < 0.8,
            "IVM_Integration_Live__c": rng.random() < 0.6,
            "IVM_Training_Done__c": rng.random() < 0.6 or None,
            "Support_Volume_Threshold__c": 30 if i % 97 == 5 else None,
            "Bug_Volume_Threshold__c": 10 if i % 89 == 3 else None,
            "CS_Health_Score__c": None,
            "CS_Health_Color__c": None,
            "CS_Health_Updated__c": None,
        },
    )
    org_id = add_organization(bulk, acct, linked=rng.random() < 0.96, created=created)
    contacts = _contacts(bulk, acct, scale.contacts_per_account)
    requesters = [add_requester(bulk, c, org_id) for c in contacts[: max(1, len(contacts) // 2)]]
    opps = _opportunities(bulk, acct, contacts, scale.opportunities_per_account)
    add_activity(bulk, acct, contacts, opps, scale)
    add_tickets(bulk, org_id, requesters, count(rng, scale.tickets_per_account))


def _contacts(bulk: Bulk, acct: dict[str, object], mean: float) -> list[dict[str, object]]:
    rng, out = bulk.rng, []
    domain = str(acct["Website"]).removeprefix("https://www.")
    owner = str(acct["OwnerId"])
    for _ in range(max(1, count(rng, mean))):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        out.append(
            bulk.add(
                "Contact",
                bulk.when(100, 900),
                bulk.when(1, 300),
                owner,
                {
                    "AccountId": acct["Id"],
                    "FirstName": first,
                    "LastName": last,
                    "Name": f"{first} {last}",
                    "Email": f"{first.lower()}.{last.lower()}@{domain}",
                    "Title": rng.choice(TITLES),
                    "OwnerId": owner,
                    "Left_Company__c": rng.random() < 0.05,
                    "CS_Persona__c": None,
                },
            )
        )
    for c in rng.sample(out, min(2, len(out))):
        bulk.add(
            "AccountContactRole",
            bulk.when(50, 600),
            bulk.when(1, 50),
            owner,
            {
                "AccountId": acct["Id"],
                "ContactId": c["Id"],
                "Role": rng.choice(ROLES),
                "IsPrimary": False,
            },
        )
    return out


def _opportunities(
    bulk: Bulk, acct: dict[str, object], contacts: list[dict[str, object]], mean: float
) -> list[dict[str, object]]:
    rng, out = bulk.rng, []
    owner = str(acct["OwnerId"])
    for n in range(count(rng, mean)):
        close = rng.randint(-180, 700)  # days ago (negative: ahead)
        stage = (
            rng.choice(OPEN_STAGES)
            if close < 0
            else ("Closed Won" if rng.random() < 0.7 else "Closed Lost")
        )
        closed, won = stage.startswith("Closed"), stage == "Closed Won"
        created = (max(close, 0) + rng.randint(20, 120), rng.randrange(86_400))
        opp = bulk.add(
            "Opportunity",
            created,
            (max(close, 1), 57_600),
            owner,
            {
                "AccountId": acct["Id"],
                "Name": f"{acct['Name']} - deal {n + 1}",
                "Type": rng.choice(OPP_TYPES),
                "StageName": stage,
                "CloseDate": bulk.clock.date(close),
                "Amount": float(rng.randrange(5, 400) * 500),
                "IsClosed": closed,
                "IsWon": won,
                "OwnerId": owner,
                "Probability": 100 if won else 0 if closed else 10 * rng.randint(1, 9),
            },
        )
        out.append(opp)
        bulk.add(
            "OpportunityContactRole",
            created,
            created,
            owner,
            {
                "OpportunityId": opp["Id"],
                "ContactId": rng.choice(contacts)["Id"],
                "Role": rng.choice(ROLES),
                "IsPrimary": True,
            },
        )
    return out


def add_requester(bulk: Bulk, c: dict[str, object], org_id: int) -> int:
    """A Zendesk end user for a contact (the same person, by email)."""
    uid = bulk.zd_id()
    stamp = bulk.clock.zd(*bulk.when(30, 800))
    bulk.zd["users"].append(
        {
            "id": uid,
            "url": f"{ZENDESK_URL}/users/{uid}.json",
            "name": c["Name"],
            "email": c["Email"],
            "created_at": stamp,
            "updated_at": stamp,
            "time_zone": "London",
            "iana_time_zone": "Europe/London",
            "phone": None,
            "shared_phone_number": None,
            "photo": None,
            "locale_id": 1,
            "locale": "en-US",
            "organization_id": org_id,
            "role": "end-user",
            "verified": True,
            "external_id": None,
            "tags": [],
            "alias": None,
            "active": True,
            "shared": False,
            "shared_agent": False,
            "last_login_at": None,
            "two_factor_auth_enabled": None,
            "signature": None,
            "details": "",
            "notes": "",
            "role_type": None,
            "custom_role_id": None,
            "moderator": False,
            "ticket_restriction": "requested",
            "only_private_comments": False,
            "restricted_agent": False,
            "suspended": False,
            "default_group_id": None,
            "report_csv": False,
            "user_fields": {},
        }
    )
    return uid
