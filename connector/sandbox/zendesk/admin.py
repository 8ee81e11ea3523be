"""The sandbox's data door for Zendesk: ``/__sandbox/data/zendesk/<path>``.

Lets a test, a demo script or a person look at the emulator's data and act as Zendesk users do:
``GET tickets|organizations|users|groups|ticket_fields|views|job_statuses`` (``?external_id=``,
``?limit=``, ``?offset=``), ``GET tickets/<id>`` (deleted ones too), ``PUT tickets/<id>`` (an
agent's edit: status, assignee_id, priority, ...), ``POST tickets`` (a customer opens a ticket) and
``DELETE tickets/<id>`` (an agent deletes one). No authentication, no rate limit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connector.sandbox.state import RequestCtx
from connector.sandbox.zendesk.http import ApiError, int_arg, not_found
from connector.sandbox.zendesk.store import COLLECTIONS

if TYPE_CHECKING:
    from connector.sandbox.zendesk.api import ZendeskApi


def _payload(ctx: RequestCtx) -> dict[str, Any]:
    body = ctx.request.get_json(force=True, silent=True)
    if isinstance(body, dict) and isinstance(body.get("ticket"), dict):
        body = body["ticket"]
    if not isinstance(body, dict):
        raise ApiError(400, {"error": "a JSON object is required"})
    return body


def _listing(api: ZendeskApi, name: str, ctx: RequestCtx) -> tuple[int, Any]:
    args = ctx.request.args
    if name == "job_statuses":
        return 200, [api.jobs.as_json(j) for j in api.jobs.all()]
    if name not in COLLECTIONS:
        raise ApiError(404, {"error": f"no collection {name!r}"})
    records = list(api.store.collection(name).values())
    if "external_id" in args:
        records = [r for r in records if r.get("external_id") == args["external_id"]]
    offset = int_arg(args, "offset", 0, 0)
    limit = int_arg(args, "limit", len(records) or 1, 1)
    return 200, records[offset : offset + limit]


def answer_admin(api: ZendeskApi, ctx: RequestCtx, path: str) -> tuple[int, Any]:
    """Answer one admin request; returns (status, JSON body)."""
    method = ctx.request.method
    name, _, rest = path.partition("/")
    if name == "tickets" and method == "POST" and not rest:
        return 201, api.create_ticket(**_payload(ctx))
    if name == "tickets" and rest.isdigit() and method == "PUT":
        return 200, api.agent_update(int(rest), **_payload(ctx))
    if name == "tickets" and rest.isdigit() and method == "DELETE":
        api.delete_ticket(int(rest))
        return 204, None
    if method != "GET":
        raise ApiError(405, {"error": f"{method} not supported on {path!r}"})
    with api.state.lock:
        api.jobs.run_due()
        if not rest:
            return _listing(api, name, ctx)
        if name in COLLECTIONS and rest.isdigit():
            record = api.store.collection(name).get(int(rest))
            if record is None:
                raise not_found()
            return 200, record
    raise ApiError(404, {"error": f"nothing at {path!r}"})
