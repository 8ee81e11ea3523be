"""Zendesk records in the Support API's JSON shapes: groups, users, organizations, tickets, fields.

Every key the API documents is present (``None``/empty where unset), so clients that index a key
instead of calling ``get`` meet the same records as on a real account.
"""

from __future__ import annotations

from datetime import datetime

from connector.sandbox.seed.core import ZENDESK_URL, Org, Record, zd_dt

CUSTOM_FIELDS = (
    # (ref, title, type, tag options) -- the connector's task tickets use the cs_* ones
    (
        "product_area",
        "Product area",
        "tagger",
        ("analytics", "automation", "journeys", "integrations", "mobile"),
    ),
    ("cs_account", "Salesforce Account Id", "text", ()),
    ("cs_risk_type", "CS risk type", "tagger", ("support_risk", "bug_risk")),
    ("cs_cta", "CS CTA link", "text", ()),
)
SYSTEM_FIELDS = (
    ("subject", "Subject", ()),
    ("description", "Description", ()),
    ("status", "Status", ("new", "open", "pending", "hold", "solved", "closed")),
    ("tickettype", "Type", ("question", "incident", "problem", "task")),
    ("priority", "Priority", ("low", "normal", "high", "urgent")),
    ("group", "Group", ()),
    ("assignee", "Assignee", ()),
)


def add_group(
    org: Org, name: str, description: str, created: datetime, default: bool = False
) -> int:
    """Add a group; returns its id."""
    gid = org.zd_id()
    org.zd["groups"].append(
        {
            "id": gid,
            "url": f"{ZENDESK_URL}/groups/{gid}.json",
            "name": name,
            "description": description,
            "default": default,
            "deleted": False,
            "is_public": True,
            "created_at": zd_dt(created),
            "updated_at": zd_dt(created),
        }
    )
    return gid


def add_zd_user(
    org: Org,
    name: str,
    email: str,
    role: str,
    created: datetime,
    organization_id: int | None = None,
    group: int | None = None,
    active: bool = True,
) -> int:
    """Add an agent, admin or end user; returns its id."""
    uid = org.zd_id()
    staff = role != "end-user"
    org.zd["users"].append(
        {
            "id": uid,
            "url": f"{ZENDESK_URL}/users/{uid}.json",
            "name": name,
            "email": email,
            "created_at": zd_dt(created),
            "updated_at": zd_dt(created),
            "time_zone": "London",
            "iana_time_zone": "Europe/London",
            "phone": None,
            "shared_phone_number": None,
            "photo": None,
            "locale_id": 1,
            "locale": "en-US",
            "organization_id": organization_id,
            "role": role,
            "verified": True,
            "external_id": None,
            "tags": [],
            "alias": None,
            "active": active,
            "shared": False,
            "shared_agent": False,
            "last_login_at": zd_dt(created) if staff else None,
            "two_factor_auth_enabled": None,
            "signature": None,
            "details": "",
            "notes": "",
            "role_type": None,
            "custom_role_id": None,
            "moderator": staff,
            "ticket_restriction": None if staff else "requested",
            "only_private_comments": False,
            "restricted_agent": False,
            "suspended": False,
            "default_group_id": group,
            "report_csv": staff,
            "user_fields": {},
        }
    )
    return uid


def add_organization(
    org: Org, name: str, external_id: str | None, created: datetime, domain: str = ""
) -> int:
    """Add an organization; ``external_id`` is the Salesforce Account Id for customers."""
    oid = org.zd_id()
    org.zd["organizations"].append(
        {
            "id": oid,
            "url": f"{ZENDESK_URL}/organizations/{oid}.json",
            "external_id": external_id,
            "name": name,
            "created_at": zd_dt(created),
            "updated_at": zd_dt(created),
            "domain_names": [domain] if domain else [],
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


def add_ticket_fields(org: Org, created: datetime) -> None:
    """Add the system and custom ticket fields; custom field ids land in ``org.zd_ref``."""
    stamp = zd_dt(created)
    for position, (key, title, options) in enumerate(SYSTEM_FIELDS):
        rec = _field_base(org.zd_id(), key, title, position, stamp)
        rec.update(removable=False, required=key == "subject", collapsed_for_agents=False)
        if options:
            rec["system_field_options"] = [{"name": o.title(), "value": o} for o in options]
        org.zd["ticket_fields"].append(rec)
    for position, (ref, title, ftype, options) in enumerate(CUSTOM_FIELDS, start=50):
        fid = org.zd_id()
        rec = _field_base(fid, ftype, title, position, stamp)
        rec.update(removable=True, required=False, collapsed_for_agents=ref.startswith("cs_"))
        if options:
            rec["custom_field_options"] = [
                {
                    "id": fid * 100 + i,
                    "name": o.replace("_", " ").title(),
                    "raw_name": o.replace("_", " ").title(),
                    "value": o,
                    "default": False,
                }
                for i, o in enumerate(options, start=1)
            ]
        org.zd["ticket_fields"].append(rec)
        org.zd_ref[f"field_{ref}"] = fid


def _field_base(fid: int, ftype: str, title: str, position: int, stamp: str) -> Record:
    return {
        "url": f"{ZENDESK_URL}/ticket_fields/{fid}.json",
        "id": fid,
        "type": ftype,
        "title": title,
        "raw_title": title,
        "description": title,
        "raw_description": title,
        "position": position,
        "active": True,
        "regexp_for_validation": None,
        "title_in_portal": title,
        "raw_title_in_portal": title,
        "visible_in_portal": True,
        "editable_in_portal": False,
        "required_in_portal": False,
        "agent_can_edit": True,
        "tag": None,
        "created_at": stamp,
        "updated_at": stamp,
        "key": None,
        "agent_description": None,
        "sub_type_id": 0,
    }


_VIA = {
    "email": {"channel": "email", "source": {"from": {}, "to": {}, "rel": None}},
    "web": {"channel": "web", "source": {"from": {}, "to": {}, "rel": None}},
    "api": {"channel": "api", "source": {"from": {}, "to": {}, "rel": None}},
}


def ticket(  # noqa: PLR0913 - a ticket has this many facets; keywords keep calls readable
    org: Org,
    *,
    organization_id: int | None,
    requester_id: int,
    subject: str,
    created: datetime,
    updated: datetime,
    status: str = "solved",
    priority: str | None = "normal",
    ttype: str | None = "question",
    tags: tuple[str, ...] = (),
    assignee_id: int | None = None,
    product_area: str | None = None,
    channel: str = "email",
) -> Record:
    """Build and add one ticket with the full documented key set; returns it."""
    tid = org.zd_id()
    stamp = zd_dt(updated)
    fields: list[Record] = [
        {"id": org.zd_ref["field_product_area"], "value": product_area},
        {"id": org.zd_ref["field_cs_account"], "value": None},
        {"id": org.zd_ref["field_cs_risk_type"], "value": None},
        {"id": org.zd_ref["field_cs_cta"], "value": None},
    ]
    via = _VIA[channel]
    rec: Record = {
        "id": tid,
        "url": f"{ZENDESK_URL}/tickets/{tid}.json",
        "external_id": None,
        "type": ttype,
        "subject": subject,
        "raw_subject": subject,
        "description": f"{subject}. Reported by the customer; details in the first comment.",
        "priority": priority,
        "status": status,
        "recipient": "support@demo.zendesk.com",
        "requester_id": requester_id,
        "submitter_id": requester_id,
        "assignee_id": assignee_id,
        "organization_id": organization_id,
        "group_id": org.zd_ref["support"] if assignee_id is not None else None,
        "collaborator_ids": [],
        "follower_ids": [],
        "email_cc_ids": [],
        "forum_topic_id": None,
        "problem_id": None,
        "has_incidents": False,
        "is_public": True,
        "due_at": None,
        "tags": list(tags),
        "custom_fields": fields,
        "satisfaction_rating": None,
        "sharing_agreement_ids": [],
        "custom_status_id": None,
        "fields": [dict(f) for f in fields],
        "followup_ids": [],
        "ticket_form_id": None,
        "brand_id": None,
        "allow_channelback": False,
        "allow_attachments": True,
        "from_messaging_channel": False,
        "generated_timestamp": int(updated.timestamp()),
        "via": {"channel": via["channel"], "source": {"from": {}, "to": {}, "rel": None}},
        "created_at": zd_dt(created),
        "updated_at": stamp,
    }
    org.zd["tickets"].append(rec)
    return rec
