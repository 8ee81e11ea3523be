"""Views: create, show and count tickets matching their conditions (a subset of the conditions).

Views reference: create takes ``{"view": {"title", "all", "any", "output", ...}}`` and the ``all``
array must test at least one of status, type, group_id, assignee_id or requester_id; the view's
JSON holds ``conditions: {"all", "any"}`` and ``execution``; Count Tickets in View answers
``{"view_count": {"view_id", "url", "value", "pretty", "fresh"}}``. Conditions evaluated here:
status, type, priority, group_id, assignee_id, requester_id, organization_id,
``custom_fields_<id>`` and current_tags, with is, is_not, less_than, greater_than, includes and
not_includes. Any other condition never matches, so a count that needs one reads low.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from connector.sandbox.zendesk.http import ApiError, record_invalid
from connector.sandbox.zendesk.store import Record, ZendeskStore, us_to_iso

REQUIRED_ALL = ("status", "type", "group_id", "assignee_id", "requester_id")
ORDERS = {
    "status": ("new", "open", "pending", "hold", "solved", "closed"),
    "priority": ("low", "normal", "high", "urgent"),
}


def _value(ticket: Record, field: str) -> Any:
    if field.startswith("custom_fields_"):
        wanted = field.removeprefix("custom_fields_")
        for item in ticket.get("custom_fields") or []:
            if str(item.get("id")) == wanted:
                return item.get("value")
        return None
    return ticket.get(field)


def _same(actual: Any, expected: Any) -> bool:
    if expected in (None, ""):
        return actual in (None, "")
    return str(actual) == str(expected)


def matches(ticket: Record, condition: dict[str, Any]) -> bool:
    """Whether one ticket meets one view condition."""
    field, op = str(condition.get("field", "")), str(condition.get("operator", ""))
    value = condition.get("value")
    if field == "current_tags":
        wanted = set(str(value or "").split())
        present = bool(wanted & set(ticket.get("tags") or []))
        return present if op == "includes" else (not present if op == "not_includes" else False)
    actual = _value(ticket, field)
    if op in ("is", "is_not"):
        return _same(actual, value) is (op == "is")
    order = ORDERS.get(field)
    if order and op in ("less_than", "greater_than") and actual in order and value in order:
        diff = order.index(actual) - order.index(value)
        return diff < 0 if op == "less_than" else diff > 0
    return False


def view_matches(ticket: Record, conditions: dict[str, Any]) -> bool:
    """ALL conditions hold and, when there are ANY conditions, at least one of them."""
    if ticket.get("status") == "deleted":
        return False
    if not all(matches(ticket, c) for c in conditions.get("all") or []):
        return False
    anys = conditions.get("any") or []
    return not anys or any(matches(ticket, c) for c in anys)


def _columns(output: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"id": c, "title": str(c).replace("_", " ").capitalize()}
        for c in output.get("columns") or []
    ]


def new_view(store: ZendeskStore, payload: dict[str, Any], base_url: str) -> Record:
    """Validate a create-view payload and store the view."""
    title = payload.get("title")
    if not title:
        raise record_invalid("title", "Title: cannot be blank", error="BlankValue")
    all_conditions = list(payload.get("all") or (payload.get("conditions") or {}).get("all") or [])
    any_conditions = list(payload.get("any") or (payload.get("conditions") or {}).get("any") or [])
    if not any(c.get("field") in REQUIRED_ALL for c in all_conditions):
        raise record_invalid(
            "base",
            "You must test for at least one of the following ticket "
            "properties in the ALL conditions section: Status, Type, Group, "
            "Assignee, Requester.",
        )
    output = payload.get("output") or {}
    view_id = store.clock.next_id()
    ts = store.clock.stamp()
    view: Record = {
        "url": f"{base_url}/api/v2/views/{view_id}.json",
        "id": view_id,
        "title": title,
        "raw_title": payload.get("raw_title") or title,
        "description": payload.get("description"),
        "active": payload.get("active", True),
        "position": len(store.views) + 1,
        "default": False,
        "conditions": {"all": all_conditions, "any": any_conditions},
        "execution": {
            "group_by": output.get("group_by"),
            "group_order": output.get("group_order", "asc"),
            "sort_by": output.get("sort_by"),
            "sort_order": output.get("sort_order", "desc"),
            "columns": _columns(output),
            "group": None,
            "sort": None,
        },
        "restriction": payload.get("restriction"),
        "created_at": us_to_iso(ts),
        "updated_at": us_to_iso(ts),
    }
    store.views.put(view, ts)
    return view


def pretty(count: int) -> str:
    """A rough figure as the API prints it (``719`` -> ``~700``)."""
    if count < 100:
        return str(count)
    digits = str(count)
    return "~" + digits[0] + "0" * (len(digits) - 1)


def count_view(view: Record, tickets: Iterable[Record], base_url: str) -> Record:
    value = sum(1 for t in tickets if view_matches(t, view.get("conditions") or {}))
    return {
        "view_count": {
            "view_id": view["id"],
            "url": f"{base_url}/api/v2/views/{view['id']}/count.json",
            "value": value,
            "pretty": pretty(value),
            "fresh": True,
        }
    }


def require_view(store: ZendeskStore, view_id: int) -> Record:
    view = store.views.get(view_id)
    if view is None:
        raise ApiError(404, {"error": "RecordNotFound", "description": "Not found"})
    return view
