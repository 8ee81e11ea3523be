"""Emulator of the parts of the Zendesk Support API (v2) the connector uses.

The server routes ``*.zendesk.com`` here. Authentication is an API token (Basic
``{email}/token:{api_token}``) or an OAuth bearer token, else 401 ``Couldn't authenticate you``;
every authenticated request counts against the account limit and, for the incremental exports,
their own limit; jobs due by now run before the request is answered. The admin side
(``/__sandbox/data/zendesk/...`` and the Python methods) acts as people do in Zendesk: an agent
edits or closes a ticket, a customer opens one.
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from connector.sandbox.state import RequestCtx, SandboxState
from connector.sandbox.zendesk.admin import answer_admin
from connector.sandbox.zendesk.http import ApiError, invalid_endpoint, json_response
from connector.sandbox.zendesk.jobs import JobQueue
from connector.sandbox.zendesk.limits import RateLimiter
from connector.sandbox.zendesk.routes import Handlers
from connector.sandbox.zendesk.store import MICROS, Record, ZendeskStore, iso_to_us
from connector.sandbox.zendesk.tickets import Actor, TicketWriter

EXPORT_DELAY_S = 60.0  # "Data isn't provided for the most recent minute"
_BAD_BASIC = {"error": "Couldn't authenticate you"}
_BAD_BEARER = {
    "error": "invalid_token",
    "error_description": "The access token provided is "
    "expired, revoked, malformed or invalid for other reasons.",
}


class ZendeskApi:
    """The Zendesk emulator: ``handle`` answers API calls, ``admin`` the sandbox's data door."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.limiter = RateLimiter(state.config)
        self.handlers = Handlers(self)
        self.reset()

    @property
    def base_url(self) -> str:
        return f"https://{self.state.config.zendesk_subdomain}.zendesk.com"

    @property
    def export_delay_us(self) -> int:
        return int(self.export_delay_s * MICROS)

    def now_us(self) -> int:
        return self.store.clock.now_us()

    def reset(self) -> None:
        """Load ``state.demo`` afresh: data, jobs, rate-limit windows, export delay."""
        demo = self.state.demo
        data = demo.zendesk if demo is not None else {}
        next_id = demo.zendesk_next_id if demo is not None else 1
        with self.state.lock:
            self.store = ZendeskStore(data, next_id, self.state.now)
            self.integration_user_id = self._integration_user()
            self.writer = TicketWriter(self.store, self.base_url)
            self.jobs = JobQueue(self.base_url, self.store.clock)
            self.limiter.clear()
            self.export_delay_s = EXPORT_DELAY_S

    def _integration_user(self) -> int:
        """The API user's id; added as an admin when the demo data has no such user."""
        email = self.state.config.credentials.zd_email
        user = self.store.user_by_email(email)
        if user is not None:
            return int(user["id"])
        uid = self.store.clock.next_id()
        at = "2020-01-01T00:00:00Z"
        record = {
            "url": f"{self.base_url}/api/v2/users/{uid}.json",
            "id": uid,
            "name": "CS Connector Integration",
            "email": email,
            "role": "admin",
            "active": True,
            "verified": True,
            "organization_id": None,
            "tags": [],
            "external_id": None,
            "created_at": at,
            "updated_at": at,
        }
        self.store.users.put(record, iso_to_us(at))
        return uid

    # -- API --------------------------------------------------------------------------------
    def handle(self, ctx: RequestCtx) -> Response:
        request = ctx.request
        if not request.path.startswith("/api/v2/"):
            err = invalid_endpoint()
            return json_response(err.body, err.status)
        headers: dict[str, str] = {}
        with self.state.lock:
            try:
                actor = self._authenticate(ctx)
                headers = self.limiter.admit(request.path, self.now_us())
                self.jobs.run_due()
                status, body = self.handlers.dispatch(request.method, request.path, ctx, actor)
            except ApiError as err:
                return json_response(err.body, err.status, {**headers, **err.headers})
        if status == 204:
            return Response(status=204, headers=headers)
        return json_response(body, status, headers)

    def _authenticate(self, ctx: RequestCtx) -> Actor:
        creds = self.state.config.credentials
        header = ctx.request.headers.get("Authorization", "")
        if header[:7].lower() == "bearer ":
            if header[7:].strip() == creds.zd_oauth_token:
                return Actor(self.integration_user_id)
            raise ApiError(401, _BAD_BEARER)
        auth = ctx.request.authorization
        if (
            auth is not None
            and auth.type == "basic"
            and (auth.username or "").lower() == f"{creds.zd_email}/token".lower()
            and auth.password == creds.zd_api_token
        ):
            return Actor(self.integration_user_id)
        raise ApiError(401, _BAD_BASIC, {"WWW-Authenticate": 'Basic realm="Web Password"'})

    # -- people, in Python ------------------------------------------------------------------
    def agent_update(self, ticket_id: int, **changes: Any) -> Record:
        """An agent edits a ticket (status, assignee, priority, ...): bumps ``updated_at``."""
        with self.state.lock:
            self.jobs.run_due()
            agent = _int(changes.pop("author_id", None)) or self._first_user("agent", "admin")
            ticket, _ = self.writer.update(ticket_id, changes, Actor(agent, "web"))
            return ticket

    def create_ticket(self, **fields: Any) -> Record:
        """A customer opens a ticket through the web form (first comment defaults to subject)."""
        with self.state.lock:
            self.jobs.run_due()
            payload = dict(fields)
            if not payload.get("comment") and not payload.get("description"):
                payload["comment"] = {"body": str(payload.get("subject") or "Help")}
            requester = _int(payload.get("requester_id")) or self._first_user("end-user")
            payload["requester_id"] = requester
            ticket, _ = self.writer.create(payload, Actor(requester, "web"))
            return ticket

    def delete_ticket(self, ticket_id: int) -> Record:
        """An agent deletes a ticket."""
        with self.state.lock:
            self.jobs.run_due()
            return self.writer.delete(ticket_id)

    def _first_user(self, *roles: str) -> int:
        for user in self.store.users.values():
            if user.get("role") in roles and user.get("active", True):
                return int(user["id"])
        return self.integration_user_id

    # -- admin door -------------------------------------------------------------------------
    def admin(self, ctx: RequestCtx, path: str) -> Response:
        try:
            status, body = answer_admin(self, ctx, path.strip("/"))
        except ApiError as err:
            return json_response(err.body, err.status)
        if status == 204:
            return Response(status=204)
        return json_response(body, status)


def _int(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
