"""Background Zendesk data: one organization per account and its tickets."""

from __future__ import annotations

from typing import Any

from connector.sandbox.seed.bulk_core import Bulk
from connector.sandbox.seed.core import ZENDESK_URL

Record = dict[str, Any]
SUBJECTS = (
    "Cannot log in",
    "Report shows wrong totals",
    "How do I add a user?",
    "Export is slow",
    "Alert not firing",
    "Question about invoice",
    "Integration sync failed",
    "Mobile app crash",
    "Feature idea: dark mode",
)
DESCRIPTIONS = {s: f"{s}. Details in the first comment." for s in SUBJECTS}
KINDS = (
    (("bug",), "incident"),
    (("feature_request",), "question"),
    (("how_to",), "question"),
    (("billing",), "question"),
    (("login",), "incident"),
    ((), "problem"),
)
KIND_WEIGHTS = (10, 5, 40, 15, 25, 5)
PRIORITIES = ("low", "normal", "normal", "normal", "high", "urgent")
_EMPTY: list[Any] = []  # shared: background records are treated as immutable
_VIA: Record = {"channel": "email", "source": {"from": {}, "to": {}, "rel": None}}


def add_organization(bulk: Bulk, acct: Record, *, linked: bool, created: tuple[int, int]) -> int:
    """The account's Zendesk organization (a few carry no external_id)."""
    oid = bulk.zd_id()
    stamp = bulk.clock.zd(*created)
    bulk.zd["organizations"].append(
        {
            "id": oid,
            "url": f"{ZENDESK_URL}/organizations/{oid}.json",
            "external_id": acct["Id"] if linked else None,
            "name": acct["Name"],
            "created_at": stamp,
            "updated_at": stamp,
            "domain_names": [],
            "details": "",
            "notes": "",
            "group_id": None,
            "shared_tickets": False,
            "shared_comments": False,
            "tags": [],
            "organization_fields": {},
        }
    )
    return oid


def add_tickets(bulk: Bulk, org_id: int, requesters: list[int], n: int) -> None:
    """``n`` tickets over the last two years; recent ones are more often still open."""
    r, clock, out = bulk.rng.random, bulk.clock, bulk.zd["tickets"]
    fields = [{"id": f, "value": None} for f in bulk.fields]
    agents, kinds = bulk.agents, bulk.rng.choices(KINDS, KIND_WEIGHTS, k=n)
    for i in range(n):
        tid = bulk.zd_id()
        days = 1 + int(min(r(), r()) * 730)  # skewed towards recent
        sec = int(r() * 86_400)
        status = _status(r(), days)
        tags, ttype = kinds[i]
        updated = (max(1, days - int(r() * 11)), int(r() * 86_400))
        if updated[0] == days and updated[1] < sec:
            updated = (days, sec)
        subject = SUBJECTS[int(r() * len(SUBJECTS))]
        who = requesters[int(r() * len(requesters))]
        new = status == "new"
        out.append(
            {
                "id": tid,
                "url": f"{ZENDESK_URL}/tickets/{tid}.json",
                "external_id": None,
                "type": ttype,
                "subject": subject,
                "raw_subject": subject,
                "description": DESCRIPTIONS[subject],
                "priority": PRIORITIES[int(r() * len(PRIORITIES))],
                "status": status,
                "recipient": "support@demo.zendesk.com",
                "requester_id": who,
                "submitter_id": who,
                "assignee_id": None if new else agents[int(r() * len(agents))],
                "organization_id": org_id,
                "group_id": None if new else bulk.group,
                "collaborator_ids": _EMPTY,
                "follower_ids": _EMPTY,
                "email_cc_ids": _EMPTY,
                "forum_topic_id": None,
                "problem_id": None,
                "has_incidents": False,
                "is_public": True,
                "due_at": None,
                "tags": list(tags),
                "custom_fields": fields,
                "satisfaction_rating": None,
                "sharing_agreement_ids": _EMPTY,
                "custom_status_id": None,
                "fields": fields,
                "followup_ids": _EMPTY,
                "ticket_form_id": None,
                "brand_id": None,
                "allow_channelback": False,
                "allow_attachments": True,
                "from_messaging_channel": False,
                "generated_timestamp": clock.epoch(*updated),
                "via": _VIA,
                "created_at": clock.zd(days, sec),
                "updated_at": clock.zd(*updated),
            }
        )


def _status(roll: float, days: int) -> str:
    if days > 60:
        return "closed" if roll < 0.7 else "deleted" if roll > 0.995 else "solved"
    if roll < 0.45:
        return "solved"
    return ("new", "open", "open", "pending", "hold")[int(roll * 100) % 5]
