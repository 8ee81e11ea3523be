"""The demo org's fixed people: Salesforce users (by role) and Zendesk agents and groups.

They are created first, in a fixed order, so their ids never depend on the anchor or the scale.
"""

from __future__ import annotations

from typing import NamedTuple

from connector.sandbox.seed.core import DOMAIN, Org
from connector.sandbox.seed.zendesk import add_group, add_ticket_fields, add_zd_user


class Person(NamedTuple):
    role: str
    first: str
    last: str
    local: str  # the part of the email before @DOMAIN
    title: str
    active: bool = True


PEOPLE: tuple[Person, ...] = (
    Person("integration", "Integration", "User", "integration", "API integration user"),
    Person("csm1", "Casey", "Morgan", "casey.morgan", "Customer Success Manager"),
    Person("csm2", "Riley", "Chen", "riley.chen", "Customer Success Manager"),
    Person("csm3", "Jordan", "Patel", "jordan.patel", "Senior Customer Success Manager"),
    Person("csm_inactive", "Morgan", "Blake", "morgan.blake", "Customer Success Manager", False),
    Person("ae1", "Alex", "Rivera", "alex.rivera", "Account Executive"),
    Person("ae2", "Sam", "Okafor", "sam.okafor", "Account Executive"),
    Person("ae3", "Taylor", "Nguyen", "taylor.nguyen", "Enterprise Account Executive"),
    Person("support_manager", "Dana", "Kowalski", "support.manager", "Support Manager"),
    Person("cco", "Robin", "Achebe", "cco", "Chief Customer Officer"),
    Person("vp_cs", "Jamie", "Laurent", "vp.cs", "VP Customer Success"),
    Person("product_manager", "Avery", "Singh", "product.manager", "Product Manager"),
    Person("fallback", "CS", "Operations", "cs.ops", "CS Operations"),
    Person("inactive", "Drew", "Hollis", "drew.hollis", "Account Executive", False),
)

CSMS = ("csm1", "csm2", "csm3")
AES = ("ae1", "ae2", "ae3")
AGENTS = (("Lee", "Fischer"), ("Kim", "Alvarez"), ("Pat", "Moreau"), ("Noa", "Berg"))


def add_users(org: Org) -> None:
    """Add the Salesforce users and fill ``org.users`` (role -> User Id)."""
    created = org.at_day(730, hour=9)
    for p in PEOPLE:
        email = f"{p.local}@{DOMAIN}"
        rec = org.add(
            "User",
            {
                "Username": email,
                "Email": email,
                "FirstName": p.first,
                "LastName": p.last,
                "Name": f"{p.first} {p.last}",
                "Alias": (p.first[:1] + p.last[:4]).lower(),
                "IsActive": p.active,
                "Title": p.title,
                "TimeZoneSidKey": "Europe/London",
            },
            created,
            org.at_day(400 if p.active else 200, hour=11),
        )
        if p.role == "integration":
            org.integration_id = rec["Id"]
            rec["CreatedById"] = rec["LastModifiedById"] = rec["Id"]
        org.users[p.role] = rec["Id"]


def add_zendesk_staff(org: Org) -> None:
    """Add the groups, agents and ticket fields; their ids land in ``org.zd_ref``."""
    created = org.at_day(700, hour=9)
    ids = org.zd_ref
    ids.update(
        {
            "support": add_group(org, "Support", "Front-line support", created, default=True),
            "managers": add_group(org, "Support Managers", "Support leads; CS risk tasks", created),
        }
    )
    ids["integration"] = add_zd_user(
        org, "Integration User", f"integration@{DOMAIN}", "admin", created, group=ids["managers"]
    )
    ids["support_manager"] = add_zd_user(
        org,
        "Dana Kowalski",
        f"support.manager@{DOMAIN}",
        "admin",
        created,
        group=ids["managers"],
    )
    for i, (first, last) in enumerate(AGENTS, start=1):
        ids[f"agent{i}"] = add_zd_user(
            org,
            f"{first} {last}",
            f"{first.lower()}.{last.lower()}@{DOMAIN}",
            "agent",
            created,
            group=ids["support"],
        )
    add_ticket_fields(org, created)
