"""Planned writes as Salesforce records, sent with sObject Collections, 200 a call.

Upserts by External Id (one object type per call, ``allOrNone`` false) for keyed outputs, so a
retry or a crash never creates a duplicate; updates by Id for the persona and current health;
deletes for expired snapshots. Children name their parent by External Id in the same record
(``"What": {"attributes": {"type": "CS_CTA__c"}, "Sync_Key__c": ...}``), never by a query.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from connector.reconcile.model import Write
from connector.targets import Target

BATCH = 200
TRANSIENT_CODES = frozenset(
    {"UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE", "REQUEST_RUNNING_TOO_LONG", "QUERY_TIMEOUT"}
)
DUPLICATE_CODES = frozenset({"DUPLICATE_VALUE", "DUPLICATE_EXTERNAL_ID"})
ALREADY_DELETED = frozenset({"ENTITY_IS_DELETED"})


class CollectionsApi(Protocol):
    def collections_upsert(
        self, sobject: str, external_id_field: str, records: list[dict[str, Any]]
    ) -> list[dict[str, Any]]: ...

    def collections_update(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]: ...

    def collections_delete(self, ids: list[str]) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class Outcome:
    """One record's result: its Id on success, the CRM's code and message otherwise."""

    write: Write
    ok: bool
    crm_id: str | None = None
    code: str | None = None
    message: str | None = None
    retry: bool = False  # the whole call failed after the client's retries

    @property
    def transient(self) -> bool:
        return self.retry or self.code in TRANSIENT_CODES or self.code in DUPLICATE_CODES


def kind(w: Write, t: Target) -> str:
    """How a write travels: ``upsert`` by External Id, ``update`` by Id, or ``delete``."""
    if w.op == "delete":
        return "delete"
    return "update" if t.by_id else "upsert"


def batches(
    writes: Sequence[Write], targets: Mapping[str, Target]
) -> list[tuple[Target, str, list[Write]]]:
    """Writes grouped by object and kind, in the plan's order, at most 200 each."""
    groups: dict[tuple[str, str], list[Write]] = {}
    for w in writes:
        t = targets[w.target]
        groups.setdefault((w.target, kind(w, t)), []).append(w)
    out: list[tuple[Target, str, list[Write]]] = []
    for (target, how), group in groups.items():
        for start in range(0, len(group), BATCH):
            out.append((targets[target], how, group[start : start + BATCH]))
    return out


def record(w: Write, t: Target, targets: Mapping[str, Target], now: datetime) -> dict[str, Any]:
    """The Salesforce record body of one write (field names from the output mapping)."""
    body: dict[str, Any] = {"attributes": {"type": t.sobject}}
    if t.by_id:
        body["Id"] = w.crm_id
    else:
        assert t.external_id is not None
        body[t.external_id] = w.external_id
    for name, value in w.values.items():
        if name == "status" and t.status is not None and t.status.field:
            body[t.status.field] = value
            continue
        field = t.crm_field(name)
        if field is None:
            continue
        if value is None and (w.op == "create" or name not in w.changed):
            continue
        body[field] = value
    if w.op == "create":
        body.update(t.constants)
    if t.hash_field:
        body[t.hash_field] = w.hash
    for field, stamp in t.stamps.items():
        body[field] = _sf_datetime(now) if stamp == "now" else now.date().isoformat()
    if w.parent_external_id and t.parent is not None and t.parent.relationship:
        parent = targets[t.parent.output]
        body[t.parent.relationship] = {
            "attributes": {"type": parent.sobject},
            parent.external_id: w.parent_external_id,
        }
    return body


def send(
    api: CollectionsApi,
    t: Target,
    how: str,
    writes: Sequence[Write],
    targets: Mapping[str, Target],
    now: datetime,
) -> list[Outcome]:
    """One Collections call for one batch; results in request order."""
    if how == "delete":
        results = api.collections_delete([str(w.crm_id) for w in writes])
    elif how == "update":
        results = api.collections_update([record(w, t, targets, now) for w in writes])
    else:
        assert t.external_id is not None
        bodies = [record(w, t, targets, now) for w in writes]
        results = api.collections_upsert(t.sobject, t.external_id, bodies)
    return [_outcome(w, r) for w, r in zip(writes, results, strict=True)]


def _outcome(w: Write, result: Mapping[str, Any]) -> Outcome:
    if result.get("success"):
        return Outcome(w, True, crm_id=str(result.get("id") or w.crm_id or ""))
    errors = result.get("errors") or [{}]
    first = errors[0] if isinstance(errors[0], dict) else {}
    code = first.get("statusCode") or first.get("errorCode")
    if w.op == "delete" and code in ALREADY_DELETED:
        return Outcome(w, True, crm_id=w.crm_id)
    return Outcome(w, False, code=code, message=str(first.get("message", ""))[:1000])


def _sf_datetime(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
