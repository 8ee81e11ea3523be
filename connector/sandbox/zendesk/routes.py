"""Request handlers of the Zendesk emulator, one per Support API endpoint it serves.

Each handler takes a :class:`Call` and returns ``(status, body)``; errors are raised as
:class:`ApiError`. Handlers run under the sandbox lock and return records by reference (records
are never changed in place), so the body is serialised after the lock is released.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from werkzeug.datastructures import MultiDict

from connector.sandbox.state import RequestCtx
from connector.sandbox.zendesk.export import cursor_page, sideload, time_page
from connector.sandbox.zendesk.http import (
    bad_request,
    id_list,
    invalid_endpoint,
    not_found,
    paginate,
)
from connector.sandbox.zendesk.jobs import bulk_create, bulk_update, too_many
from connector.sandbox.zendesk.tickets import Actor
from connector.sandbox.zendesk.views import count_view, new_view, require_view

if TYPE_CHECKING:
    from connector.sandbox.zendesk.api import ZendeskApi

Result = tuple[int, Any]
LISTED = "organizations|users|groups|ticket_fields"


@dataclass
class Call:
    """One authenticated API request, as the handlers see it."""

    ctx: RequestCtx
    actor: Actor
    params: dict[str, str] = field(default_factory=dict)

    @property
    def args(self) -> MultiDict[str, str]:
        return self.ctx.request.args

    def body(self, key: str) -> Any:
        """``body[key]`` of the JSON payload; a missing key is the API's 400."""
        payload = self.ctx.request.get_json(force=True, silent=True)
        if not isinstance(payload, dict) or key not in payload:
            raise bad_request("ParameterMissing", f"Parameter {key} is required")
        return payload[key]

    def int_param(self, name: str = "id") -> int:
        return int(self.params[name])


class Handlers:
    """The endpoints, bound to one emulator's store, writer and job queue."""

    def __init__(self, api: ZendeskApi) -> None:
        self.api = api
        self.routes: list[tuple[str, re.Pattern[str], Callable[[Call], Result]]] = [
            (verb, re.compile(rf"^{pattern}$"), getattr(self, name))
            for verb, pattern, name in (
                ("GET", r"/incremental/tickets/cursor", "export_tickets"),
                ("GET", r"/incremental/users/cursor", "export_users"),
                ("GET", r"/incremental/organizations", "export_organizations"),
                ("GET", r"/tickets", "list_tickets"),
                ("POST", r"/tickets", "create_ticket"),
                ("GET", r"/tickets/show_many", "show_many_tickets"),
                ("POST", r"/tickets/create_many", "create_many"),
                ("PUT", r"/tickets/update_many", "update_many"),
                ("GET", r"/tickets/(?P<id>\d+)", "show_ticket"),
                ("PUT", r"/tickets/(?P<id>\d+)", "update_ticket"),
                ("DELETE", r"/tickets/(?P<id>\d+)", "delete_ticket"),
                ("GET", r"/job_statuses", "list_jobs"),
                ("GET", r"/job_statuses/show_many", "show_many_jobs"),
                ("GET", r"/job_statuses/(?P<job>[0-9a-zA-Z]+)", "show_job"),
                ("GET", r"/organizations/search", "search_organizations"),
                ("GET", r"/users/me", "me"),
                ("GET", rf"/(?P<coll>{LISTED})", "list_records"),
                ("GET", r"/(?P<coll>organizations|users)/show_many", "show_many_records"),
                ("GET", rf"/(?P<coll>{LISTED})/(?P<id>\d+)", "show_record"),
                ("GET", r"/views", "list_views"),
                ("POST", r"/views", "create_view"),
                ("GET", r"/views/(?P<id>\d+)", "show_view"),
                ("GET", r"/views/(?P<id>\d+)/count", "count_tickets_in_view"),
            )
        ]

    def dispatch(self, method: str, path: str, ctx: RequestCtx, actor: Actor) -> Result:
        """Route ``/api/v2/...`` (with or without ``.json``) to its handler."""
        tail = path.removeprefix("/api/v2").removesuffix(".json")
        for verb, pattern, handler in self.routes:
            found = pattern.match(tail)
            if found and verb == method:
                return handler(Call(ctx, actor, found.groupdict()))
        raise invalid_endpoint()

    def _url(self, tail: str) -> str:
        return f"{self.api.base_url}/api/v2/{tail}"

    # -- incremental exports ----------------------------------------------------------------
    def export_tickets(self, call: Call) -> Result:
        api = self.api
        body = cursor_page(
            api.store.tickets,
            call.args,
            api.now_us(),
            api.export_delay_us,
            self._url("incremental/tickets/cursor.json"),
            "tickets",
        )
        body.update(sideload(api.store, body["tickets"], call.args.get("include")))
        call.ctx.read(len(body["tickets"]))
        return 200, body

    def export_users(self, call: Call) -> Result:
        api = self.api
        body = cursor_page(
            api.store.users,
            call.args,
            api.now_us(),
            api.export_delay_us,
            self._url("incremental/users/cursor.json"),
            "users",
        )
        call.ctx.read(len(body["users"]))
        return 200, body

    def export_organizations(self, call: Call) -> Result:
        api = self.api
        body = time_page(
            api.store.organizations,
            call.args,
            api.now_us(),
            api.export_delay_us,
            self._url("incremental/organizations.json"),
            "organizations",
        )
        call.ctx.read(len(body["organizations"]))
        return 200, body

    # -- tickets ----------------------------------------------------------------------------
    def list_tickets(self, call: Call) -> Result:
        tickets = self.api.store.tickets
        external_id = call.args.get("external_id")
        ids = [
            rid
            for rid in tickets.ids
            if (t := tickets.by_id[rid])["status"] != "deleted"
            and (external_id is None or t.get("external_id") == external_id)
        ]
        body = paginate(
            ids, tickets.by_id.__getitem__, call.args, self._url("tickets.json"), "tickets"
        )
        call.ctx.read(len(body["tickets"]))
        return 200, body

    def show_many_tickets(self, call: Call) -> Result:
        ids = id_list(call.args.get("ids"))
        if error := too_many("ids", len(ids)):
            raise error
        tickets = self.api.store.tickets
        found = [t for rid in ids if (t := tickets.get(rid)) and t["status"] != "deleted"]
        call.ctx.read(len(found))
        return 200, {
            "tickets": found,
            "next_page": None,
            "previous_page": None,
            "count": len(found),
        }

    def show_ticket(self, call: Call) -> Result:
        ticket = self.api.writer.live(call.int_param())
        call.ctx.read(1)
        return 200, {"ticket": ticket}

    def create_ticket(self, call: Call) -> Result:
        ticket, audit = self.api.writer.create(_object(call.body("ticket")), call.actor)
        call.ctx.wrote(1)
        return 201, {"ticket": ticket, "audit": audit}

    def update_ticket(self, call: Call) -> Result:
        ticket, audit = self.api.writer.update(
            call.int_param(), _object(call.body("ticket")), call.actor
        )
        call.ctx.wrote(1)
        return 200, {"ticket": ticket, "audit": audit}

    def delete_ticket(self, call: Call) -> Result:
        self.api.writer.delete(call.int_param())
        call.ctx.wrote(1)
        return 204, None

    def create_many(self, call: Call) -> Result:
        payloads = [_object(p) for p in _array(call.body("tickets"))]
        if error := too_many("tickets", len(payloads)):
            raise error
        work = bulk_create(self.api.writer, payloads, call.actor)
        call.ctx.wrote(len(payloads))
        return self._queue("bulk_create", len(payloads), work)

    def update_many(self, call: Call) -> Result:
        if call.args.get("ids") is not None:
            ids = id_list(call.args.get("ids"))
            if error := too_many("ids", len(ids)):
                raise error
            payload = _object(call.body("ticket"))
            changes = [(rid, payload) for rid in ids]
        else:
            items = [_object(p) for p in _array(call.body("tickets"))]
            if error := too_many("tickets", len(items)):
                raise error
            changes = [
                (int(p.get("id") or 0), {k: v for k, v in p.items() if k != "id"}) for p in items
            ]
        work = bulk_update(self.api.writer, changes, call.actor)
        call.ctx.wrote(len(changes))
        return self._queue("bulk_update", len(changes), work)

    def _queue(self, job_type: str, total: int, work: Any) -> Result:
        api = self.api
        job = api.jobs.submit(job_type, total, work, api.state.faults.settings.job_seconds)
        return 200, {"job_status": api.jobs.as_json(job)}

    # -- job statuses -----------------------------------------------------------------------
    def list_jobs(self, call: Call) -> Result:
        jobs = self.api.jobs
        return 200, {"job_statuses": [jobs.as_json(j) for j in reversed(jobs.all())]}

    def show_many_jobs(self, call: Call) -> Result:
        jobs = self.api.jobs
        wanted = [p.strip() for p in (call.args.get("ids") or "").split(",") if p.strip()]
        found = [jobs.as_json(j) for jid in wanted if (j := jobs.get(jid)) is not None]
        return 200, {"job_statuses": found}

    def show_job(self, call: Call) -> Result:
        job = self.api.jobs.get(call.params["job"])
        if job is None:
            raise not_found()
        return 200, {"job_status": self.api.jobs.as_json(job)}

    # -- organizations, users, groups, ticket fields ----------------------------------------
    def search_organizations(self, call: Call) -> Result:
        external_id = call.args.get("external_id")
        if external_id is None:
            raise bad_request("InvalidSearchParameter", "external_id or name is required")
        orgs = [
            o for o in self.api.store.organizations.values() if o.get("external_id") == external_id
        ]
        call.ctx.read(len(orgs))
        return 200, {
            "organizations": orgs,
            "next_page": None,
            "previous_page": None,
            "count": len(orgs),
        }

    def me(self, call: Call) -> Result:
        return 200, {"user": self.api.store.users.get(call.actor.user_id)}

    def list_records(self, call: Call) -> Result:
        name = call.params["coll"]
        coll = self.api.store.collection(name)
        body = paginate(
            coll.ids, coll.by_id.__getitem__, call.args, self._url(f"{name}.json"), name
        )
        call.ctx.read(len(body[name]))
        return 200, body

    def show_many_records(self, call: Call) -> Result:
        name = call.params["coll"]
        coll = self.api.store.collection(name)
        if call.args.get("external_ids") is not None:
            wanted = {p for p in (call.args.get("external_ids") or "").split(",") if p}
            found = [r for r in coll.values() if r.get("external_id") in wanted]
        else:
            found = [r for rid in id_list(call.args.get("ids")) if (r := coll.get(rid))]
        call.ctx.read(len(found))
        return 200, {name: found, "next_page": None, "previous_page": None, "count": len(found)}

    def show_record(self, call: Call) -> Result:
        name = call.params["coll"]
        record = self.api.store.collection(name).get(call.int_param())
        if record is None:
            raise not_found()
        call.ctx.read(1)
        return 200, {name.removesuffix("s"): record}

    # -- views ------------------------------------------------------------------------------
    def list_views(self, call: Call) -> Result:
        views = self.api.store.views
        return 200, paginate(
            views.ids, views.by_id.__getitem__, call.args, self._url("views.json"), "views"
        )

    def create_view(self, call: Call) -> Result:
        view = new_view(self.api.store, _object(call.body("view")), self.api.base_url)
        call.ctx.wrote(1)
        return 200, {"view": view}

    def show_view(self, call: Call) -> Result:
        return 200, {"view": require_view(self.api.store, call.int_param())}

    def count_tickets_in_view(self, call: Call) -> Result:
        view = require_view(self.api.store, call.int_param())
        return 200, count_view(view, self.api.store.tickets.by_id.values(), self.api.base_url)


def _object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise bad_request("InvalidValue", "Expected a JSON object")
    return value


def _array(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise bad_request("InvalidValue", "Expected a JSON array")
    return value
