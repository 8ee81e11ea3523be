"""``/__sandbox/data/salesforce/...``: inspect the org and change it as its people would.

- ``GET <sObject>``: every record, deleted ones included; ``GET <sObject>/<id>``: one record.
- ``POST <sObject>``, ``PATCH <sObject>/<id>``: ``{"values": {...}, "as_user": "<id or role>"}``;
  the write is that person's (LastModifiedById) and the integration faults do not apply.
- ``DELETE <sObject>/<id>[?as_user=]``: to the recycle bin; ``POST <sObject>/<id>/purge``:
  hard delete. ``GET _usage``: today's API calls and the daily allocation.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Response

from connector.sandbox.salesforce.errors import WriteResult
from connector.sandbox.state import RequestCtx

if TYPE_CHECKING:
    from connector.sandbox.salesforce.api import SalesforceApi


def handle(api: SalesforceApi, ctx: RequestCtx, path: str) -> Response:
    """Route one admin request."""
    parts = [p for p in path.strip("/").split("/") if p]
    method = ctx.request.method
    if parts == ["_usage"] and method == "GET":
        return _json({"api_usage": api.api_usage, "api_daily_max": api.state.config.api_daily_max})
    if not parts or api.schema.get(parts[0]) is None:
        return _json({"error": f"no sObject {parts[0] if parts else ''!r}"}, 404)
    sobject = parts[0]
    try:
        if len(parts) == 1:
            return _collection(api, ctx, sobject, method)
        if len(parts) == 2:
            return _member(api, ctx, sobject, parts[1], method)
        if len(parts) == 3 and parts[2] == "purge" and method == "POST":
            return _json({"purged": api.purge(parts[1])})
    except (KeyError, ValueError) as exc:
        return _json({"error": str(exc)}, 400)
    return _json({"error": "not found"}, 404)


def _collection(api: SalesforceApi, ctx: RequestCtx, sobject: str, method: str) -> Response:
    if method == "GET":
        return _json(api.all_records(sobject))
    if method == "POST":
        body = _body(ctx)
        result = api.person_insert(sobject, body.get("values") or {}, as_user=body.get("as_user"))
        return _result(result, 201)
    return _json({"error": "method not allowed"}, 405)


def _member(
    api: SalesforceApi, ctx: RequestCtx, sobject: str, record_id: str, method: str
) -> Response:
    if method == "GET":
        found = api.org.get(record_id)
        return _json(found[1]) if found else _json({"error": "no such record"}, 404)
    if method == "PATCH":
        body = _body(ctx)
        result = api.person_update(
            sobject, record_id, body.get("values") or {}, as_user=body.get("as_user")
        )
        return _result(result, 200)
    if method == "DELETE":
        as_user = ctx.request.args.get("as_user") or _body(ctx).get("as_user")
        return _result(api.person_delete(record_id, as_user=as_user), 200)
    return _json({"error": "method not allowed"}, 405)


def _body(ctx: RequestCtx) -> dict[str, Any]:
    raw = ctx.request.get_data()
    body = json.loads(raw) if raw else {}
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    return body


def _result(result: WriteResult, status: int) -> Response:
    body = {
        "id": result.id,
        "success": result.success,
        "created": result.created,
        "errors": [e.as_wire() for e in result.errors],
    }
    return _json(body, status if result.success else 400)


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")
