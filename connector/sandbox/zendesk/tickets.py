"""Ticket writes as the Support API performs them: defaults, validation, audits, soft delete.

From the Tickets API reference: ``comment`` is the only required property on create and becomes
the read-only ``description``; status is one of new/open/pending/hold/solved/closed, type one of
problem/incident/question/task, priority one of urgent/high/normal/low; ``updated_at`` moves only
when an update generates an event. Error bodies are the 422s clients quote: "Description: cannot
be blank" (BlankValue) and "Status: closed prevents ticket update". A deleted ticket answers 404
and shows as status ``deleted`` in the incremental export.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from connector.sandbox.zendesk.http import ApiError, not_found, record_invalid
from connector.sandbox.zendesk.store import MICROS, Record, ZendeskStore, us_to_iso

STATUSES = ("new", "open", "pending", "hold", "solved", "closed")
TYPES = ("problem", "incident", "question", "task")
PRIORITIES = ("urgent", "high", "normal", "low")
PLAIN_FIELDS = (
    "subject",
    "external_id",
    "assignee_id",
    "requester_id",
    "submitter_id",
    "organization_id",
    "group_id",
    "problem_id",
    "due_at",
    "type",
    "priority",
    "status",
    "brand_id",
    "ticket_form_id",
)
ENUMS = {"status": STATUSES, "type": TYPES, "priority": PRIORITIES}


@dataclass(frozen=True)
class Actor:
    """Who writes: the authenticated user, and the channel the write comes through."""

    user_id: int
    channel: str = "api"


def comment_body(payload: dict[str, Any]) -> str:
    """The first comment's text: ``comment.body``/``html_body``, or the legacy ``description``."""
    comment = payload.get("comment")
    if isinstance(comment, dict):
        return str(comment.get("body") or comment.get("html_body") or "")
    if isinstance(comment, str):
        return comment
    return str(payload.get("description") or "")


class TicketWriter:
    """Creates, updates and deletes tickets in a store, returning (ticket, audit) pairs."""

    def __init__(self, store: ZendeskStore, base_url: str) -> None:
        self._store = store
        self._base = base_url

    # -- public -----------------------------------------------------------------------------
    def create(
        self, payload: dict[str, Any], actor: Actor, at_us: int | None = None
    ) -> tuple[Record, Record]:
        body = comment_body(payload)
        if not body.strip():
            raise self._blank_description()
        self.check(payload)
        clock = self._store.clock
        ticket_id = clock.next_id()
        ts = clock.stamp(at_us)
        ticket = self._new_ticket(ticket_id, payload, actor, ts, body)
        self._store.tickets.put(ticket, ts)
        events = [
            {"type": "Create", "field_name": k, "value": ticket[k]}
            for k in ("subject", "status", "priority", "type", "group_id", "tags")
            if ticket.get(k) not in (None, [])
        ]
        return ticket, self._audit(ticket, actor, ts, self._comment_event(payload, actor), events)

    def update(
        self, ticket_id: int, payload: dict[str, Any], actor: Actor, at_us: int | None = None
    ) -> tuple[Record, Record]:
        current = self.live(ticket_id)
        if current["status"] == "closed":
            raise record_invalid("status", "Status: closed prevents ticket update")
        self.check(payload)
        changes = self._changes(current, payload)
        comment = self._comment_event(payload, actor) if comment_body(payload) else None
        if not changes and comment is None:
            return current, self._audit(current, actor, self._store.clock.now_us(), None, [])
        ts = self._store.clock.stamp(at_us)
        ticket = {**current, **changes, **_times(ts)}
        if comment is not None and comment["public"]:
            ticket["is_public"] = True
        self._store.tickets.put(ticket, ts)
        events = [
            {"type": "Change", "field_name": k, "value": v, "previous_value": current.get(k)}
            for k, v in changes.items()
            if k not in ("fields", "raw_subject")
        ]
        return ticket, self._audit(ticket, actor, ts, comment, events)

    def delete(self, ticket_id: int, at_us: int | None = None) -> Record:
        """Soft delete: the ticket answers 404 from now on and exports as ``deleted``."""
        current = self.live(ticket_id)
        ts = self._store.clock.stamp(at_us)
        ticket = {**current, "status": "deleted", **_times(ts)}
        self._store.tickets.put(ticket, ts)
        return ticket

    def live(self, ticket_id: int) -> Record:
        """A ticket that exists and is not deleted, else 404."""
        ticket = self._store.tickets.get(ticket_id)
        if ticket is None or ticket.get("status") == "deleted":
            raise not_found()
        return ticket

    def check(self, payload: dict[str, Any]) -> None:
        """Reject values the API rejects: unknown enum values, a group that does not exist."""
        for field, allowed in ENUMS.items():
            value = payload.get(field)
            if value is not None and value not in allowed:
                raise record_invalid(
                    field, f"{field.capitalize()}: is invalid", error="InvalidValue"
                )
        group_id = payload.get("group_id")
        if group_id is not None and self._store.groups.get(_as_int(group_id) or 0) is None:
            raise record_invalid("group_id", "Group: is invalid", error="InvalidValue")

    # -- building records -------------------------------------------------------------------
    def _new_ticket(
        self, ticket_id: int, payload: dict[str, Any], actor: Actor, ts: int, body: str
    ) -> Record:
        requester = _as_int(payload.get("requester_id")) or actor.user_id
        user = self._store.users.get(requester) or {}
        assignee = _as_int(payload.get("assignee_id"))
        comment = payload.get("comment") if isinstance(payload.get("comment"), dict) else {}
        subject = payload.get("subject")
        ticket: Record = {
            "url": f"{self._base}/api/v2/tickets/{ticket_id}.json",
            "id": ticket_id,
            "external_id": payload.get("external_id"),
            "via": {"channel": actor.channel, "source": {"from": {}, "to": {}, "rel": None}},
            **_times(ts),
            "created_at": us_to_iso(ts),
            "type": payload.get("type"),
            "subject": subject,
            "raw_subject": subject,
            "description": body,
            "priority": payload.get("priority"),
            "status": payload.get("status") or ("open" if assignee else "new"),
            "recipient": None,
            "requester_id": requester,
            "submitter_id": _as_int(payload.get("submitter_id")) or actor.user_id,
            "assignee_id": assignee,
            "organization_id": _as_int(payload.get("organization_id"))
            or user.get("organization_id"),
            "group_id": _as_int(payload.get("group_id")),
            "collaborator_ids": [],
            "follower_ids": [],
            "email_cc_ids": [],
            "forum_topic_id": None,
            "problem_id": _as_int(payload.get("problem_id")),
            "has_incidents": False,
            "is_public": bool((comment or {}).get("public", True)),
            "due_at": payload.get("due_at"),
            "tags": _tags(payload.get("tags") or []),
            "custom_fields": self._custom_fields([], payload.get("custom_fields")),
            "satisfaction_rating": None,
            "sharing_agreement_ids": [],
            "followup_ids": [],
            "custom_status_id": None,
            "ticket_form_id": payload.get("ticket_form_id"),
            "brand_id": payload.get("brand_id"),
            "allow_channelback": False,
            "allow_attachments": True,
            "from_messaging_channel": False,
        }
        ticket["fields"] = ticket["custom_fields"]
        return ticket

    def _changes(self, current: Record, payload: dict[str, Any]) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        for field in PLAIN_FIELDS:
            if field in payload:
                value = payload[field]
                value = (
                    _as_int(value) if field.endswith("_id") and field != "external_id" else value
                )
                if value != current.get(field):
                    changes[field] = value
        if field_tags := self._tag_changes(current, payload):
            changes["tags"] = field_tags
        if "custom_fields" in payload:
            merged = self._custom_fields(
                current.get("custom_fields") or [], payload["custom_fields"]
            )
            if merged != current.get("custom_fields"):
                changes["custom_fields"] = changes["fields"] = merged
        if changes.get("assignee_id") and current["status"] == "new" and "status" not in payload:
            changes["status"] = "open"
        if "subject" in changes:
            changes["raw_subject"] = changes["subject"]
        return changes

    @staticmethod
    def _tag_changes(current: Record, payload: dict[str, Any]) -> list[str] | None:
        tags = list(current.get("tags") or [])
        new = _tags(payload["tags"]) if "tags" in payload else tags
        new = _tags(new + list(payload.get("additional_tags") or []))
        drop = set(payload.get("remove_tags") or [])
        new = [t for t in new if t not in drop]
        return new if new != tags else None

    def _custom_fields(self, current: list[dict[str, Any]], given: Any) -> list[dict[str, Any]]:
        values = {int(f["id"]): f.get("value") for f in current}
        known = self._store.ticket_fields.by_id
        items = (
            given.items()
            if isinstance(given, dict)
            else ((f.get("id"), f.get("value")) for f in (given or []) if isinstance(f, dict))
        )
        for field_id, value in items:
            fid = _as_int(field_id)
            if fid is not None and (not known or fid in known):
                values[fid] = value
        return [{"id": fid, "value": values[fid]} for fid in sorted(values)]

    def _comment_event(self, payload: dict[str, Any], actor: Actor) -> Record:
        comment = payload.get("comment") if isinstance(payload.get("comment"), dict) else {}
        body = comment_body(payload)
        return {
            "type": "Comment",
            "author_id": (comment or {}).get("author_id") or actor.user_id,
            "body": body,
            "html_body": f"<p>{body}</p>",
            "plain_body": body,
            "public": bool((comment or {}).get("public", True)),
            "attachments": [],
        }

    def _audit(
        self, ticket: Record, actor: Actor, ts: int, comment: Record | None, events: list[Record]
    ) -> Record:
        clock = self._store.clock
        audit_id = clock.next_audit_id()
        listed = ([comment] if comment else []) + events
        for event in listed:
            event["id"] = clock.next_audit_id()
            event.setdefault("audit_id", audit_id)
        return {
            "id": audit_id,
            "ticket_id": ticket["id"],
            "created_at": us_to_iso(ts),
            "author_id": actor.user_id,
            "metadata": {"system": {}, "custom": {}},
            "via": {"channel": actor.channel},
            "events": listed,
        }

    def _blank_description(self) -> ApiError:
        extra: dict[str, Any] = {"error": "BlankValue", "ticket_field_type": "FieldDescription"}
        for field in self._store.ticket_fields.by_id.values():
            if field.get("type") == "description":
                extra["ticket_field_id"] = field["id"]
        return record_invalid("base", "Description: cannot be blank", **extra)


def _times(ts_us: int) -> dict[str, Any]:
    return {"updated_at": us_to_iso(ts_us), "generated_timestamp": ts_us // MICROS}


def _as_int(value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _tags(values: Any) -> list[str]:
    """Tags as Zendesk stores them: lower case, no spaces, each once, in order given."""
    raw = values.split() if isinstance(values, str) else list(values)
    out: list[str] = []
    for tag in raw:
        for part in str(tag).lower().split():
            if part not in out:
                out.append(part)
    return out
