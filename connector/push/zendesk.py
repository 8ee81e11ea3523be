"""Zendesk task tickets for the support managers: bulk writes as background jobs, polled later.

Creates go through ``POST /api/v2/tickets/create_many`` and updates through ``PUT
/api/v2/tickets/update_many`` (batch form, ``{"tickets": [{"id": ..}, ..]}``), at most 100
tickets a call; each call queues a job that ``poll`` reads back with ``GET
/api/v2/job_statuses/show_many`` (100 job ids a call). Nothing here waits for a job.

A created ticket is a ``task`` in the support managers' group, tagged ``cs_connector`` and
``cs_<risk>_risk``, its ``external_id`` the output key of the CTA it accompanies; the evidence is
its first comment, an internal note. After that, agents own the ticket: updates never send
status, assignee, priority or group, touch only the connector's own tags (``additional_tags`` /
``remove_tags``, so tags an agent added stay) and add a changed description as a new internal
note (a ticket's description is its first comment and cannot be edited).

A ``create_many`` whose answer is lost is never re-sent (``resend_unsure=False``): a second job
would create every ticket twice. ``submit`` then raises ``SubmitError`` naming the tickets whose
outcome is unknown; ``find_by_external_id`` settles them later.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from connector.errors import ApiError, ConfigError, FatalApiError
from connector.sources.zendesk.client import WriteOutcomeUnknown, ZendeskClient, details_text

BULK_MAX = 100  # tickets per create_many / update_many call, job ids per show_many call
PAGE_SIZE = 100
CONNECTOR_TAG = "cs_connector"
RISK_TYPES = ("support", "bug")
FIELD_NAMES = ("cs_account_id", "cs_risk_type", "cs_cta_id")
# Titles the fields go by when they have no key (the demo org's, docs/demo-org.md).
FIELD_TITLES: Mapping[str, tuple[str, ...]] = {
    "cs_account_id": ("Salesforce Account Id",),
    "cs_risk_type": ("CS risk type",),
    "cs_cta_id": ("CS CTA link", "CS CTA id"),
}
GROUP_KEY = "zendesk.support_managers_group"
VIEW_TITLE = "CS risk tasks"
VIEW_COLUMNS = ("status", "subject", "organization", "assignee", "created", "updated")
DONE_STATES = ("completed",)
FAILED_STATES = ("failed", "killed")


def risk_tag(risk_type: str) -> str:
    """The ticket tag of a risk type: ``support`` -> ``cs_support_risk``."""
    return f"cs_{risk_type}_risk"


@dataclass(frozen=True)
class TicketWrite:
    """One planned ticket write: create when ``ticket_id`` is None, else update that ticket."""

    external_id: str  # the output key of the CTA the ticket accompanies (Zendesk external_id)
    ticket_id: int | None
    subject: str
    description: str  # the evidence: the first comment on create, an internal note
    risk_type: str  # "support" or "bug"
    account_id: str | None  # Salesforce Account Id
    cta_id: str | None  # Salesforce Id of the CTA, when known
    cta_url: str | None  # link back to the CTA in Salesforce, when known
    # On update: add the description as a new internal note. Pass False when only other fields
    # changed, so agents do not get the same evidence twice.
    description_changed: bool = True


@dataclass(frozen=True)
class TicketResult:
    """What a job did with one ticket."""

    external_id: str
    ticket_id: int | None
    ok: bool
    code: str | None = None  # e.g. "TicketCreateFailed", "TicketUpdateFailed", "JobFailed"
    message: str | None = None


@dataclass(frozen=True)
class SubmittedJob:
    """One queued bulk call: its job id, and the tickets it carries in request order."""

    job_id: str
    kind: str  # "create" or "update"
    external_ids: tuple[str, ...]  # create_many results carry "index" into this


class SubmitError(ApiError):
    """A bulk call failed part-way through ``submit``; the jobs queued before it stand.

    ``jobs``: queued (poll them); ``unknown``: sent but the answer was lost (look them up by
    external id before creating again); ``refused``: the API rejected the call; ``unsent``: not
    tried. ``cause`` is the client's error (``TransientApiError`` or ``FatalApiError``).
    """

    def __init__(
        self,
        cause: ApiError,
        *,
        jobs: Sequence[SubmittedJob],
        unknown: Sequence[str] = (),
        refused: Sequence[str] = (),
        unsent: Sequence[str] = (),
    ) -> None:
        super().__init__(
            f"{cause} ({len(jobs)} job(s) queued before it; {len(unknown)} ticket(s) of unknown "
            f"outcome, {len(refused)} refused, {len(unsent)} not sent)",
            code=cause.code,
            status=cause.status,
            retry_after=cause.retry_after,
        )
        self.cause = cause
        self.jobs = list(jobs)
        self.unknown = tuple(unknown)
        self.refused = tuple(refused)
        self.unsent = tuple(unsent)


class ZendeskTicketWriter:
    """Writes the connector's task tickets in bulk and reads back what the jobs did."""

    def __init__(
        self,
        client: ZendeskClient,
        *,
        group_id: int,
        ticket_fields: Mapping[str, int],
        risk_values: Mapping[str, str] | None = None,
    ) -> None:
        missing = [n for n in FIELD_NAMES if n not in ticket_fields]
        if missing:
            raise ValueError(f"ticket_fields lacks {', '.join(missing)}")
        self.client = client
        self.group_id = group_id
        self.ticket_fields = dict(ticket_fields)
        # The risk-type field's value per risk type (a drop-down's option tags, by default
        # support_risk / bug_risk as in the demo org).
        self.risk_values = dict(risk_values or {r: f"{r}_risk" for r in RISK_TYPES})

    @classmethod
    def connect(
        cls,
        client: ZendeskClient,
        group_name: str,
        field_names: Sequence[str] = FIELD_NAMES,
        *,
        config_file: str = "config",
    ) -> ZendeskTicketWriter:
        """Look up the group by name and the custom ticket fields by key or title.

        ``field_names`` are the writer's own names, in the order ``cs_account_id``,
        ``cs_risk_type``, ``cs_cta_id``. A missing group or field is a ``ConfigError``.
        """
        group_id = find_group(client, group_name, config_file=config_file)
        fields = list(_listing(client, "/api/v2/ticket_fields.json", "ticket_fields"))
        ids: dict[str, int] = {}
        risk_values: dict[str, str] | None = None
        for own, name in zip(FIELD_NAMES, field_names, strict=True):
            field = _find_field(fields, name, FIELD_TITLES.get(name, ()))
            if field is None:
                custom = ", ".join(
                    f"{f['id']} {f.get('title')!r}" for f in fields if f.get("removable")
                )
                raise ConfigError(
                    config_file,
                    f"zendesk ticket field {name}",
                    f"no active custom ticket field with key or title {name!r} in Zendesk "
                    f"(custom fields: {custom or 'none'}); add it in Admin Center > Objects "
                    "and rules > Tickets > Fields",
                )
            ids[own] = int(field["id"])
            if own == "cs_risk_type":
                risk_values = _risk_values(field)
        return cls(client, group_id=group_id, ticket_fields=ids, risk_values=risk_values)

    # -- lookups ----------------------------------------------------------------------------
    def find_by_external_id(self, external_id: str) -> list[dict[str, Any]]:
        """Tickets carrying this external id (for a create whose outcome is unknown)."""
        return list(
            _listing(self.client, "/api/v2/tickets.json", "tickets", external_id=external_id)
        )

    # -- writes -----------------------------------------------------------------------------
    def submit(self, writes: Sequence[TicketWrite]) -> list[SubmittedJob]:
        """Queue the creates (``create_many``), then the updates (``update_many``).

        One call per 100 tickets of a kind; returns the jobs without waiting for them. A failed
        call stops the submit with ``SubmitError`` carrying the jobs queued before it.
        """
        creates = [w for w in writes if w.ticket_id is None]
        updates = [w for w in writes if w.ticket_id is not None]
        batches = [("create", b) for b in _chunks(creates)] + [
            ("update", b) for b in _chunks(updates)
        ]
        jobs: list[SubmittedJob] = []
        for n, (kind, batch) in enumerate(batches):
            try:
                job_id = self._send(kind, batch)
            except ApiError as exc:
                ids = [w.external_id for w in batch]
                rest = [w.external_id for _, later in batches[n + 1 :] for w in later]
                unknown = ids if isinstance(exc, WriteOutcomeUnknown) else []
                refused = [] if unknown else ids
                raise SubmitError(
                    exc, jobs=jobs, unknown=unknown, refused=refused, unsent=rest
                ) from None
            jobs.append(SubmittedJob(job_id, kind, tuple(w.external_id for w in batch)))
        return jobs

    def _send(self, kind: str, batch: Sequence[TicketWrite]) -> str:
        if kind == "create":
            body = self.client.post(
                "/api/v2/tickets/create_many.json",
                {"tickets": [self.create_payload(w) for w in batch]},
                resend_unsure=False,
            )
        else:
            body = self.client.put(
                "/api/v2/tickets/update_many.json",
                {"tickets": [self.update_payload(w) for w in batch]},
            )
        job = body.get("job_status") or {}
        if not job.get("id"):
            raise FatalApiError(f"Zendesk {kind}_many: no job_status id in the answer")
        return str(job["id"])

    def create_payload(self, w: TicketWrite) -> dict[str, Any]:
        """The ticket object ``create_many`` gets for one write."""
        return {
            "type": "task",
            "subject": w.subject,
            "comment": {"body": _comment(w) or w.subject, "public": False},
            "group_id": self.group_id,
            "tags": [CONNECTOR_TAG, risk_tag(w.risk_type)],
            "external_id": w.external_id,
            "custom_fields": self._custom_fields(w),
        }

    def update_payload(self, w: TicketWrite) -> dict[str, Any]:
        """The ticket object ``update_many`` gets: never status, assignee, priority or group."""
        other_risks = sorted({risk_tag(r) for r in RISK_TYPES} - {risk_tag(w.risk_type)})
        payload: dict[str, Any] = {
            "id": w.ticket_id,
            "type": "task",
            "subject": w.subject,
            "additional_tags": [CONNECTOR_TAG, risk_tag(w.risk_type)],
            "remove_tags": other_risks,
            "custom_fields": self._custom_fields(w),
        }
        if w.description_changed and (text := _comment(w)):
            payload["comment"] = {"body": text, "public": False}
        return payload

    def _custom_fields(self, w: TicketWrite) -> list[dict[str, Any]]:
        """Account, risk type and CTA; a value not known yet is left as it is, not blanked."""
        values = {
            "cs_account_id": w.account_id,
            "cs_risk_type": self.risk_values.get(w.risk_type, w.risk_type),
            "cs_cta_id": w.cta_id,
        }
        return [
            {"id": self.ticket_fields[name], "value": value}
            for name, value in values.items()
            if value not in (None, "")
        ]

    # -- job results ------------------------------------------------------------------------
    def poll(self, jobs: Sequence[SubmittedJob]) -> dict[str, list[TicketResult] | None]:
        """Each job's results when it has finished, None while it is queued or working.

        One ``job_statuses/show_many`` call per 100 jobs. A job Zendesk no longer knows (job
        statuses expire) answers ``JobNotFound`` for each of its tickets: outcome unknown.
        """
        out: dict[str, list[TicketResult] | None] = {}
        for batch in _chunks(list(jobs)):
            ids = ",".join(j.job_id for j in batch)
            body = self.client.get("/api/v2/job_statuses/show_many.json", {"ids": ids})
            statuses = {str(s.get("id")): s for s in body.get("job_statuses") or ()}
            for job in batch:
                out[job.job_id] = _outcome(job, statuses.get(job.job_id))
        return out

    # -- the support managers' view ---------------------------------------------------------
    def ensure_view(self, title: str = VIEW_TITLE) -> tuple[int, bool]:
        """The view of open connector tasks for the group: (id, created now?). Idempotent."""
        for view in _listing(self.client, "/api/v2/views.json", "views"):
            if view.get("title") == title:
                return int(view["id"]), False
        body = self.client.post(
            "/api/v2/views.json", {"view": self.view_payload(title)}, resend_unsure=False
        )
        return int(body["view"]["id"]), True

    def view_payload(self, title: str = VIEW_TITLE) -> dict[str, Any]:
        """Tickets of type task tagged cs_connector, in the group, not yet solved or closed."""
        return {
            "title": title,
            "description": "Support and bug risk tasks from the CS connector",
            "active": True,
            "all": [
                {"field": "type", "operator": "is", "value": "task"},
                {"field": "group_id", "operator": "is", "value": str(self.group_id)},
                {"field": "status", "operator": "less_than", "value": "solved"},
                {"field": "current_tags", "operator": "includes", "value": CONNECTOR_TAG},
            ],
            "any": [],
            "output": {
                "columns": list(VIEW_COLUMNS),
                "sort_by": "created",
                "sort_order": "asc",
            },
        }


# -- helpers ---------------------------------------------------------------------------------
def find_group(client: ZendeskClient, name: str, *, config_file: str = "config") -> int:
    """The id of the (not deleted) group called ``name``; else a ConfigError on the config key."""
    groups = [g for g in _listing(client, "/api/v2/groups.json", "groups") if not g.get("deleted")]
    for match in (lambda g: g.get("name") == name, lambda g: _fold(g.get("name")) == _fold(name)):
        found = [g for g in groups if match(g)]
        if found:
            return int(found[0]["id"])
    known = ", ".join(repr(g.get("name")) for g in groups) or "none"
    raise ConfigError(config_file, GROUP_KEY, f"no Zendesk group named {name!r} (groups: {known})")


def _listing(client: ZendeskClient, path: str, key: str, **params: Any) -> Iterator[dict[str, Any]]:
    """Every record of a list endpoint, cursor-paginated to the end."""
    query: dict[str, Any] = {**params, "page[size]": PAGE_SIZE}
    seen: set[str] = set()
    while True:
        body = client.get(path, query)
        yield from body.get(key) or ()
        meta = body.get("meta") or {}
        after = meta.get("after_cursor")
        if not meta.get("has_more") or not after or after in seen:
            return
        seen.add(after)
        query = {**params, "page[size]": PAGE_SIZE, "page[after]": after}


def _find_field(
    fields: Sequence[dict[str, Any]], name: str, titles: Sequence[str]
) -> dict[str, Any] | None:
    """An active custom field whose key is ``name``, or whose title is ``name`` (as a slug) or
    one of ``titles``."""
    custom = [f for f in fields if f.get("active", True) and f.get("removable", True)]
    wanted = {_slug(name)} | {_slug(t) for t in titles}
    for test in (
        lambda f: f.get("key") == name,
        lambda f: _slug(f.get("title")) in wanted or _slug(f.get("raw_title")) in wanted,
    ):
        for f in custom:
            if test(f):
                return f
    return None


def _risk_values(field: Mapping[str, Any]) -> dict[str, str] | None:
    """The drop-down option value per risk type (``support_risk``, ``support``, ...)."""
    options = field.get("custom_field_options") or []
    if not options:
        return None
    values = {str(o.get("value")) for o in options}
    out: dict[str, str] = {}
    for risk in RISK_TYPES:
        for candidate in (f"{risk}_risk", risk, risk_tag(risk)):
            if candidate in values:
                out[risk] = candidate
                break
        else:
            out[risk] = f"{risk}_risk"
    return out


def _outcome(job: SubmittedJob, status: Mapping[str, Any] | None) -> list[TicketResult] | None:
    if status is None:
        return [
            TicketResult(e, None, False, "JobNotFound", f"job {job.job_id} unknown to Zendesk")
            for e in job.external_ids
        ]
    state = str(status.get("status") or "")
    if state in FAILED_STATES:
        message = str(status.get("message") or f"job {state}")
        return [TicketResult(e, None, False, "JobFailed", message) for e in job.external_ids]
    if state not in DONE_STATES:
        return None
    results = status.get("results")
    items = results if isinstance(results, list) else []
    by_pos: dict[int, Mapping[str, Any]] = {}
    for pos, item in enumerate(items):
        if isinstance(item, dict):
            index = item.get("index")
            by_pos[int(index) if isinstance(index, int) else pos] = item
    out: list[TicketResult] = []
    for pos, external_id in enumerate(job.external_ids):
        item = by_pos.get(pos)
        if item is None:
            out.append(TicketResult(external_id, None, False, "NoResult", "not in job results"))
            continue
        ticket_id = _int(item.get("id"))
        if item.get("error") or item.get("success") is False or ticket_id is None:
            code = str(item.get("error") or f"Ticket{job.kind.capitalize()}Failed")
            details = item.get("details") or item.get("status")
            why = details_text(details) if details else None
            out.append(TicketResult(external_id, ticket_id, False, code, why))
        else:
            out.append(TicketResult(external_id, ticket_id, True))
    return out


def _comment(w: TicketWrite) -> str:
    """The evidence, with the link back to the CTA when it is known."""
    text = (w.description or "").strip()
    if w.cta_url:
        return f"{text}\n\nSalesforce CTA: {w.cta_url}".strip()
    return text


def _chunks(items: Sequence[Any], size: int = BULK_MAX) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _int(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _fold(text: Any) -> str:
    return str(text or "").casefold().strip()


def _slug(text: Any) -> str:
    return re.sub(r"[^a-z0-9]+", "_", _fold(text)).strip("_")
