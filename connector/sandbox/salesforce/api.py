"""The Salesforce REST API emulator: routing, sessions, API limits, and the data resources.

Every ``/services/data/vXX.X/...`` call needs a session (``Authorization: Bearer``), counts
against the daily allocation, and answers with ``Sforce-Limit-Info: api-usage=N/M``. With the
``request_limit_after`` fault the org refuses calls once N were made (403 REQUEST_LIMIT_EXCEEDED,
TotalRequests); with ``concurrent_limit_share`` a share of calls meets the concurrent
long-running request limit (403 REQUEST_LIMIT_EXCEEDED, ConcurrentRequests). Versions
v55.0 to v62.0 exist; others are 404 as on a real instance.
"""

from __future__ import annotations

from typing import Any

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Response

from connector.sandbox.salesforce import admin as admin_routes
from connector.sandbox.salesforce.auth import AuthenticatedSession, SalesforceAuth
from connector.sandbox.salesforce.errors import WriteResult
from connector.sandbox.salesforce.rest_collections import CollectionsApi
from connector.sandbox.salesforce.rest_query import Cursors, more_results, run_query
from connector.sandbox.salesforce.rest_records import RecordsApi
from connector.sandbox.salesforce.schema import Schema, load_schema
from connector.sandbox.salesforce.store import Org
from connector.sandbox.salesforce.wire import BadRequest, Call, error, json_response, not_found
from connector.sandbox.state import RequestCtx, SandboxState

RELEASES = {
    55: "Summer '22",
    56: "Winter '23",
    57: "Spring '23",
    58: "Summer '23",
    59: "Winter '24",
    60: "Spring '24",
    61: "Summer '24",
    62: "Winter '25",
}
VERSIONS = tuple(f"v{n}.0" for n in RELEASES)
TOTAL_LIMIT = "TotalRequests Limit exceeded."
CONCURRENT_LIMIT = "ConcurrentRequests (Concurrent API Requests) Limit exceeded."
_DATA = "/services/data/<version>"
_RULES = [
    Rule("/services/data", endpoint="versions", methods=["GET"]),
    Rule("/services/Soap/u/<soap_version>", endpoint="soap_login", methods=["POST"]),
    Rule("/services/oauth2/token", endpoint="token", methods=["POST"]),
    Rule("/services/oauth2/revoke", endpoint="revoke", methods=["POST"]),
    Rule(_DATA, endpoint="resources", methods=["GET"]),
    Rule(f"{_DATA}/limits", endpoint="limits", methods=["GET"]),
    Rule(f"{_DATA}/sobjects", endpoint="describe_global", methods=["GET"]),
    Rule(f"{_DATA}/sobjects/<sobject>", endpoint="sobject", methods=["GET", "POST"]),
    Rule(f"{_DATA}/sobjects/<sobject>/describe", endpoint="describe", methods=["GET"]),
    Rule(
        f"{_DATA}/sobjects/<sobject>/<record_id>",
        endpoint="record",
        methods=["GET", "PATCH", "DELETE"],
    ),
    Rule(
        f"{_DATA}/sobjects/<sobject>/<field>/<path:value>",
        endpoint="by_external_id",
        methods=["GET", "PATCH"],
    ),
    Rule(f"{_DATA}/query", endpoint="query", methods=["GET"]),
    Rule(f"{_DATA}/queryAll", endpoint="query_all", methods=["GET"]),
    Rule(f"{_DATA}/query/<locator>", endpoint="query_more", methods=["GET"]),
    Rule(f"{_DATA}/queryAll/<locator>", endpoint="query_more", methods=["GET"]),
    Rule(
        f"{_DATA}/composite/sobjects", endpoint="collections", methods=["POST", "PATCH", "DELETE"]
    ),
    Rule(
        f"{_DATA}/composite/sobjects/<sobject>/<field>",
        endpoint="collections_upsert",
        methods=["PATCH"],
    ),
    Rule(f"{_DATA}/jobs", endpoint="jobs"),
    Rule(f"{_DATA}/jobs/<path:rest>", endpoint="jobs"),
]


class SalesforceApi:
    """The org's REST endpoints; ``admin`` lets tests act as the people who use the org."""

    def __init__(self, state: SandboxState, schema: Schema | None = None) -> None:
        from connector.sandbox.salesforce.bulk import BulkApi

        self.state = state
        self.schema = schema or load_schema()
        self.org = Org(self.schema, state)
        self.auth = SalesforceAuth(state, self.org)
        self.bulk = BulkApi(state, self.org)
        self.cursors = Cursors()
        self.records = RecordsApi(self.org)
        self.collections = CollectionsApi(self.org)
        self.api_usage = 0
        self._map = Map(_RULES, strict_slashes=False, merge_slashes=False)

    def reset(self) -> None:
        """Load ``state.demo`` afresh; forget cursors, jobs, sessions and today's API usage."""
        with self.state.lock:
            if self.state.demo is not None:
                self.org.load(self.state.demo)
            self.cursors.clear()
            self.bulk.reset()
            self.auth.forget_all()
            self.api_usage = 0

    # -- routing ------------------------------------------------------------------------
    def handle(self, ctx: RequestCtx) -> Response:
        """Answer one request to a Salesforce host."""
        path = ctx.request.path.rstrip("/") or "/"
        adapter = self._map.bind(ctx.host, url_scheme="https")
        try:
            endpoint, matched = adapter.match(path, method=ctx.request.method)
        except MethodNotAllowed as exc:
            allowed = ",".join(sorted(exc.valid_methods or ()))
            return error(
                405,
                "METHOD_NOT_ALLOWED",
                f"HTTP Method '{ctx.request.method}' not allowed. Allowed are {allowed}",
            )
        except NotFound:
            return not_found()
        if endpoint == "versions":
            return json_response(self.versions())
        if endpoint in ("soap_login", "token", "revoke"):
            return getattr(self.auth, endpoint)(ctx)  # type: ignore[no-any-return]
        args = dict(matched)
        version = str(args.pop("version"))
        if version not in VERSIONS:
            return not_found()
        session = self.auth.authenticate(ctx)
        if isinstance(session, Response):
            return session
        return self._data_call(ctx, endpoint, version, session, args)

    def _data_call(
        self,
        ctx: RequestCtx,
        endpoint: str,
        version: str,
        session: AuthenticatedSession,
        args: dict[str, Any],
    ) -> Response:
        refused = self._over_limit()
        if refused is None:
            call = Call(ctx, version, session.user_id, args)
            try:
                if endpoint == "jobs":
                    response = self.bulk.handle(ctx, version, session)
                else:
                    response = getattr(self, f"_{endpoint}")(call, **args)
            except BadRequest as exc:
                response = exc.response()
        else:
            response = refused
        response.headers["Sforce-Limit-Info"] = (
            f"api-usage={self.api_usage}/{self.state.config.api_daily_max}"
        )
        return response

    def _over_limit(self) -> Response | None:
        """The limit faults; otherwise count the call against today's allocation."""
        faults = self.state.faults
        with self.state.lock:
            after = faults.settings.request_limit_after
            if after is not None and self.api_usage >= after:
                return error(403, "REQUEST_LIMIT_EXCEEDED", TOTAL_LIMIT)
            if faults.roll(faults.settings.concurrent_limit_share):
                return error(403, "REQUEST_LIMIT_EXCEEDED", CONCURRENT_LIMIT)
            self.api_usage += 1
        return None

    # -- directory resources --------------------------------------------------------------
    @staticmethod
    def versions() -> list[dict[str, str]]:
        """``GET /services/data/``: every version this instance serves."""
        return [
            {"label": label, "url": f"/services/data/v{n}.0", "version": f"{n}.0"}
            for n, label in RELEASES.items()
        ]

    def _resources(self, call: Call) -> Response:
        base = f"/services/data/{call.version}"
        names = ("sobjects", "query", "queryAll", "limits", "composite", "jobs")
        return json_response({name: f"{base}/{name}" for name in names})

    def _limits(self, call: Call) -> Response:
        daily = self.state.config.api_daily_max
        body = {
            "DailyApiRequests": {"Max": daily, "Remaining": max(0, daily - self.api_usage)},
            "DailyBulkApiBatches": {"Max": 15000, "Remaining": 15000},
            "DailyBulkV2QueryFileStorageMB": {"Max": 976562, "Remaining": 976562},
            "DailyBulkV2QueryJobs": {"Max": 10000, "Remaining": 10000},
            "DataStorageMB": {"Max": 5120, "Remaining": 5120},
            "FileStorageMB": {"Max": 5120, "Remaining": 5120},
        }
        return json_response(body)

    def _describe_global(self, call: Call) -> Response:
        return json_response(self.schema.describe_global(call.version))

    def _describe(self, call: Call, sobject: str) -> Response:
        sobj = self.records.sobject(sobject)
        hidden = {f for f in sobj.fields if self.org.is_hidden(sobj.name, f)}
        return json_response(self.schema.describe(sobj.name, call.version, hidden))

    def _sobject(self, call: Call, sobject: str) -> Response:
        if call.request.method == "POST":
            return self.records.create(call, sobject)
        sobj = self.records.sobject(sobject)
        entry = next(
            o
            for o in self.schema.describe_global(call.version)["sobjects"]
            if o["name"] == sobj.name
        )
        return json_response({"objectDescribe": entry, "recentItems": []})

    # -- records, queries, collections ----------------------------------------------------
    def _record(self, call: Call, sobject: str, record_id: str) -> Response:
        method = call.request.method
        if method == "GET":
            return self.records.get(call, sobject, record_id)
        if method == "PATCH":
            return self.records.update(call, sobject, record_id)
        return self.records.delete(call, sobject, record_id)

    def _by_external_id(self, call: Call, sobject: str, field: str, value: str) -> Response:
        if call.request.method == "GET":
            return self.records.get_by_external_id(call, sobject, field, value)
        return self.records.upsert(call, sobject, field, value)

    def _query(self, call: Call) -> Response:
        return run_query(call, self.org, self.cursors, include_deleted=False)

    def _query_all(self, call: Call) -> Response:
        return run_query(call, self.org, self.cursors, include_deleted=True)

    def _query_more(self, call: Call, locator: str) -> Response:
        return more_results(call, self.org, self.cursors, locator)

    def _collections(self, call: Call) -> Response:
        method = call.request.method
        if method == "POST":
            return self.collections.create(call)
        if method == "PATCH":
            return self.collections.update(call)
        return self.collections.delete(call)

    def _collections_upsert(self, call: Call, sobject: str, field: str) -> Response:
        return self.collections.upsert(call, sobject, field)

    # -- acting as people (tests and the admin endpoints) ----------------------------------
    def admin(self, ctx: RequestCtx, path: str) -> Response:
        """``/__sandbox/data/salesforce/<path>``: see ``sf_admin``."""
        return admin_routes.handle(self, ctx, path)

    def user_id(self, as_user: str | None) -> str:
        """A User Id from an id or a demo role ("csm1"); default: the first CSM."""
        users = self.state.demo.users if self.state.demo else {}
        if as_user and as_user in users:
            return users[as_user]
        key = self.org.normalize_id(as_user) if as_user else None
        if key is not None:
            return key
        if as_user:
            raise KeyError(f"no user or role {as_user!r}")
        return users.get("csm1") or users.get("integration", "")

    def person_insert(
        self, sobject: str, values: dict[str, Any], *, as_user: str | None = None
    ) -> WriteResult:
        """Create a record as a person would in the UI (no integration faults)."""
        return self.org.insert(sobject, values, user_id=self.user_id(as_user), as_person=True)

    def person_update(
        self, sobject: str, record_id: str, values: dict[str, Any], *, as_user: str | None = None
    ) -> WriteResult:
        """Edit a record as a person: LastModifiedById is that person."""
        return self.org.update(
            sobject, record_id, values, user_id=self.user_id(as_user), as_person=True
        )

    def person_delete(self, record_id: str, *, as_user: str | None = None) -> WriteResult:
        """Delete to the recycle bin as a person."""
        return self.org.delete(record_id, user_id=self.user_id(as_user), as_person=True)

    def purge(self, record_id: str) -> bool:
        """Empty a record from the recycle bin (hard delete)."""
        return self.org.purge(record_id)

    def all_records(self, sobject: str) -> list[dict[str, Any]]:
        """Every record of ``sobject``, deleted ones included (copies)."""
        return [dict(r) for r in self.org.records(sobject)]
