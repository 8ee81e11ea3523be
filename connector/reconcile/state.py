"""Reconcile's inputs read from the store: desired outputs, the ledger, the CRM as pulled.

The CRM's state comes from the mirror tables of the connector's own objects (pulled like any
stream), so reconcile costs no API call: a status, snooze date or deletion a person made is
seen by the pull that starts the cycle.
"""

from __future__ import annotations

import sys
from collections.abc import Collection, Mapping
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, select

from connector.mappings import MappingSet
from connector.reconcile.model import CrmRecord, LedgerEntry
from connector.reconcile.plan import ZENDESK, CrmState
from connector.rules.model import DesiredOutput
from connector.store.schema import desired_outputs, ledger, outbox
from connector.targets import Target

ZENDESK_CLOSED = ("solved", "closed", "deleted")
SHORT = 64  # text up to this long is shared between rows (ids, dates, statuses, rule names)
# A range of keys (External Ids): from the first (inclusive) to the second (exclusive); None
# leaves that side open.
Span = tuple[str | None, str | None]
WHOLE: Span = (None, None)


def within(column: ColumnElement[Any], span: Span) -> list[ColumnElement[bool]]:
    """The conditions that keep ``column`` in ``span`` (none for the whole range)."""
    lo, hi = span
    return [
        *([column >= lo] if lo is not None else []),
        *([column < hi] if hi is not None else []),
    ]


def _share(text: Any) -> Any:
    """One copy of a short text for every row that holds it: each row read from the store is a
    new string, and 85,000 outputs at scale M repeat the same few thousand owner ids, dates,
    statuses and field names."""
    return sys.intern(text) if isinstance(text, str) and len(text) <= SHORT else text


def _shared(values: Any) -> Any:
    """A JSON object read from the store with its names and short texts shared (``_share``):
    about 30 % of reconcile's inputs at scale M."""
    if not isinstance(values, Mapping):
        return values
    return {sys.intern(k): _share(v) for k, v in values.items()}


def load_desired(
    conn: Connection,
    objects: Collection[str] | None = None,
    rules: Collection[str] | None = None,
    *,
    evidence: bool = True,
    span: Span = WHOLE,
) -> list[DesiredOutput]:
    """The last evaluation's outputs in key order (Zendesk tasks stored as ``key#zendesk`` get
    their key); with ``objects`` or ``rules``, only those objects' or rules' outputs (with
    ``span``, only keys in it). Without ``evidence`` the outputs leave out their evidence text,
    which the plan does not read (a CTA's evidence field is in its ``fields``)."""
    out: list[DesiredOutput] = []
    query = select(desired_outputs).order_by(desired_outputs.c.key)
    if objects is not None:
        query = query.where(desired_outputs.c.object.in_(list(objects)))
    if rules is not None:
        query = query.where(desired_outputs.c.rule.in_(list(rules)))
    query = query.where(*within(desired_outputs.c.key, span))
    for r in conn.execute(query):
        key = r.key.removesuffix("#zendesk") if r.object == ZENDESK else r.key
        out.append(
            DesiredOutput(
                key=key,
                rule=_share(r.rule),
                object=_share(r.object),
                account_id=_share(r.account_id),
                owner_id=_share(r.owner_id),
                due_date=r.due_date,
                fields=_shared(r.fields),
                parent_key=r.parent_key,
                evidence=r.evidence if evidence else "",
            )
        )
    return out


def load_ledger(
    conn: Connection, targets: Collection[str] | None = None, span: Span = WHOLE
) -> list[LedgerEntry]:
    """The ledger (with ``targets``, only those outputs' rows; with ``span``, only External
    Ids in it), in key order."""
    query = select(ledger).order_by(ledger.c.target, ledger.c.external_id)
    if targets is not None:
        query = query.where(ledger.c.target.in_(list(targets)))
    query = query.where(*within(ledger.c.external_id, span))
    return [
        LedgerEntry(
            target=_share(r.target),
            external_id=r.external_id,
            key=r.key,
            identity=r.identity,
            rule=_share(r.rule),
            account_id=_share(r.account_id),
            crm_id=r.crm_id,
            hash=r.hash,
            written=_shared(r.written),
            status_set=_share(r.status_set),
            closed_at=r.closed_at,
            closed_by=_share(r.closed_by),
            created_at=r.created_at,
            error_code=r.error_code,
            error_message=r.error_message,
            error_hash=r.error_hash,
            attempts=r.attempts,
            retry_at=r.retry_at,
        )
        for r in conn.execute(query)
    ]


def load_crm(
    conn: Connection,
    targets: Mapping[str, Target],
    mappings: MappingSet,
    tables: Mapping[str, Table],
    zendesk_stream: str = "zendesk_ticket",
    *,
    zendesk: bool = True,
    ids: Collection[str] | None = None,
    span: Span = WHOLE,
) -> CrmState:
    """Every record of the connector's objects in the mirror, keyed as ``plan`` expects
    (the Zendesk tickets too, unless ``zendesk`` is false). With ``ids``, a by-Id object's
    records (contacts, accounts) are kept only when their Id is one of those: the plan looks
    them up by the Ids its outputs name, and the mirror holds every contact of the org. With
    ``span``, only keyed records whose External Id is in it."""
    state: dict[tuple[str, str], CrmRecord] = {}
    for t in targets.values():
        if t.stream is None or t.stream not in tables:
            continue
        table = tables[t.stream]
        cols = _columns(t, mappings, t.stream)
        if t.by_id:
            guard = cols.get("guard")
            query = select(table.c.id, table.c.deleted, *([table.c[guard]] if guard else []))
            if ids is not None:  # the Ids' range (an index range), then the Ids themselves
                if not ids:
                    continue
                query = query.where(table.c.id >= min(ids), table.c.id <= max(ids))
            for r in conn.execute(query):
                if ids is None or r.id in ids:
                    state[(t.output, r.id)] = CrmRecord(
                        r.id, deleted=r.deleted, guard_value=r[2] if guard else None
                    )
            continue
        ext = cols.get("external_id")
        if ext is None:
            continue
        wanted = [c for c in ("status", "closed_flag", "snooze", "hash") if c in cols]
        query = select(
            table.c.id, table.c.deleted, table.c[ext], *(table.c[cols[c]] for c in wanted)
        ).where(table.c[ext].is_not(None), *within(table.c[ext], span))
        for r in conn.execute(query):
            got = dict(zip(wanted, r[3:], strict=True))
            state[(t.output, r[2])] = _record(t, r.id, r.deleted, got)
    if zendesk and zendesk_stream in tables:
        tickets = tables[zendesk_stream]
        if "external_id" in tickets.c and "status" in tickets.c:
            query = select(
                tickets.c.id, tickets.c.deleted, tickets.c.external_id, tickets.c.status
            ).where(tickets.c.external_id.is_not(None))
            for r in conn.execute(query):
                closed = r.status in ZENDESK_CLOSED
                state[(ZENDESK, r.external_id)] = CrmRecord(
                    str(r.id),
                    deleted=bool(r.deleted) or r.status == "deleted",
                    status=r.status,
                    closed=closed,
                )
    return state


def _columns(t: Target, mappings: MappingSet, stream: str) -> dict[str, str]:
    """Mirror columns of the fields reconcile reads, through the stream's pull mapping."""
    wanted: dict[str, str | None] = {
        "external_id": t.external_id,
        "hash": t.hash_field,
        "status": t.status.field if t.status else None,
        "closed_flag": t.status.closed_flag if t.status else None,
        "snooze": t.status.snooze_field if t.status else None,
        "guard": t.crm_field(t.guard) if t.guard else None,
    }
    out: dict[str, str] = {}
    for name, crm_field in wanted.items():
        if crm_field:
            column = mappings.column_for(stream, crm_field)
            if column:
                out[name] = column
    return out


def _record(t: Target, crm_id: str, deleted: bool, got: Mapping[str, Any]) -> CrmRecord:
    status = got.get("status")
    closed = bool(got.get("closed_flag"))
    if t.status is not None and t.status.field and status is not None:
        closed = status not in t.status.open
    snooze = got.get("snooze")
    if isinstance(snooze, str):
        snooze = date.fromisoformat(snooze[:10])
    return CrmRecord(
        crm_id,
        deleted=bool(deleted),
        status=status,
        closed=closed,
        snooze_until=snooze,
        sync_hash=got.get("hash"),
    )


def load_in_flight(
    conn: Connection, target: str | None = None, span: Span = WHOLE
) -> frozenset[tuple[str, str]]:
    """Writes sent in a Bulk or Zendesk job whose results are not in yet (the outbox); with
    ``target``, that object's only (with ``span``, External Ids in it)."""
    query = select(outbox.c.target, outbox.c.external_id).where(
        outbox.c.status == "sent", outbox.c.job_id.is_not(None)
    )
    if target is not None:
        query = query.where(outbox.c.target == target)
    query = query.where(*within(outbox.c.external_id, span))
    return frozenset((_share(r.target), r.external_id) for r in conn.execute(query))


def load_ticket_ids(conn: Connection) -> dict[str, str]:
    """CTA External Id -> its Zendesk ticket's id, from the ledger: all a CTA's plan reads of
    the tickets (``Planner.tickets``), without loading the tickets' ledger rows."""
    query = select(ledger.c.external_id, ledger.c.crm_id).where(
        ledger.c.target == ZENDESK, ledger.c.crm_id.is_not(None)
    )
    return {r.external_id: r.crm_id for r in conn.execute(query)}


def ledger_targets(conn: Connection) -> list[str]:
    """The objects the ledger holds rows of (a stage each, ``stage_order``)."""
    return [r[0] for r in conn.execute(select(ledger.c.target).distinct())]
