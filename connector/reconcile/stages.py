"""Reconcile from the store a part of an object at a time, so a cycle holds that part's inputs.

``plan`` over every output, the whole ledger and the CRM's state held them all, and the push
then held the whole plan: 1.3-1.8 GB at scale L. Here each object's outputs, ledger rows and
CRM records are read when its turn comes (``stage_order``: parents before children), planned,
handed to the caller (who pushes them) and dropped before the next part is read. What a later
object reads of an earlier one stays in the ``Planner``: parents' External Ids, the parents
with a child that waits.

An object is read in spans of about ``CHUNK`` outputs (at scale L personas are 170,000
outputs, CTAs and tasks 66,000 each), each a ``Plan`` with ``more`` set but the last. A span
is a range of keys that is also a range of External Ids, so that everything one output's plan
reads lies in its span:

- an object written by Id: its outputs are planned one by one against their own ledger row
  (External Id = key) and CRM record, so a span is any ``CHUNK`` keys;
- a keyed object: a key is ``rule:subject[:period]`` (RULES.md), a child's adds ``/step``
  after its parent's, an occurrence ``#n``; an output's External Id is its key, another
  occurrence of it, or (a child) its parent's External Id plus its step, and a CTA's records
  of one ``rule:subject`` (``identity_of``) are planned together. All of those strings begin
  with the output's ``rule:subject``, followed by nothing or by ``#``, ``/`` or ``:``, which
  sort before ``;``: so a span ends at a ``rule:subject;`` and splits none of them.

Zendesk tickets (16,500 at scale L) are read whole: their CRM records come from the tickets.

Each part is read after the parts before it were pushed: the ledger it reads holds what
they wrote, and what the push's poll found landed (a record still in a job is in the outbox,
read as ``in_flight`` at the same time).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence

from sqlalchemy import Connection, Engine, Table, select

from connector.mappings import MappingSet
from connector.reconcile.model import Plan, Policy
from connector.reconcile.plan import ZENDESK, Planner, stage_order
from connector.reconcile.state import (
    WHOLE,
    Span,
    ledger_targets,
    load_crm,
    load_desired,
    load_in_flight,
    load_ledger,
    load_ticket_ids,
    within,
)
from connector.rules.model import DesiredOutput
from connector.store.schema import desired_outputs
from connector.targets import Target

CHUNK = 10_000  # outputs of an object planned at once (a span, ``_span_end``)


def stages(
    engine: Engine,
    targets: Mapping[str, Target],
    mappings: MappingSet,
    tables: Mapping[str, Table],
    policy: Policy,
    only: Collection[str] | None = None,
    chunk: int | None = None,
) -> Iterator[Plan]:
    """Each object's plan in write order (with ``only``, those objects'), a span of about
    ``chunk`` outputs (``CHUNK``) at a time, read from the store as its turn comes. The caller
    pushes one before asking for the next; a plan it still holds when it asks stays in memory
    with the next one's inputs."""
    chunk = chunk or CHUNK
    planner = Planner(policy, targets)
    with engine.connect() as conn:
        order = stage_order(ledger_targets(conn))
    for target in order:
        if only is not None and target not in only:
            continue
        if target == "cta":
            with engine.connect() as conn:
                planner.tickets = load_ticket_ids(conn)
        span: Span = WHOLE
        while True:
            with engine.connect() as conn:
                end = None if target == ZENDESK else _span_end(conn, targets, target, span, chunk)
                span = (span[0], end)
                part = _part(conn, planner, target, targets, mappings, tables, span)
            part.more = end is not None
            yield part
            if end is None:
                break
            span = (end, None)
        planner.tickets = {}


def _span_end(
    conn: Connection, targets: Mapping[str, Target], target: str, span: Span, chunk: int
) -> str | None:
    """Where the span from ``span[0]`` ends (exclusive) so that it holds ``chunk`` outputs and
    splits no ``rule:subject`` (the module's docstring); None: it runs to the end."""
    query = (
        select(desired_outputs.c.key)
        .where(desired_outputs.c.object == target, *within(desired_outputs.c.key, span))
        .order_by(desired_outputs.c.key)
        .offset(chunk)
        .limit(1)
    )
    first_after = conn.execute(query).scalar()
    if first_after is None:
        return None
    t = targets.get(target)
    return str(first_after) if t is not None and t.by_id else f"{subject_of(first_after)};"


def subject_of(key: str) -> str:
    """``rule:subject`` of a key, External Id or child's key (``identity_of`` for a CTA)."""
    head = key.split("#", 1)[0].split("/", 1)[0]
    return ":".join(head.split(":")[:2])


def _part(
    conn: Connection,
    planner: Planner,
    target: str,
    targets: Mapping[str, Target],
    mappings: MappingSet,
    tables: Mapping[str, Table],
    span: Span,
) -> Plan:
    """One span of an object planned from its rows in the store, read on one connection."""
    mine = {target: targets[target]} if target in targets else {}
    desired = load_desired(conn, [target], evidence=False, span=span)
    book = load_ledger(conn, [target], span)
    ids = _named_ids(desired, mine.get(target))
    crm = load_crm(conn, mine, mappings, tables, zendesk=target == ZENDESK, ids=ids, span=span)
    in_flight = load_in_flight(conn, target, span)
    return planner.stage(target, desired, book, crm, in_flight)


def _named_ids(desired: Sequence[DesiredOutput], t: Target | None) -> set[str] | None:
    """The record Ids a by-Id object's outputs name (``id_from``): the only CRM records its
    plan reads (``None``, every record, for other objects)."""
    if t is None or not t.by_id or t.id_from is None:
        return None
    field = t.id_from
    return {str(v) for d in desired if (v := d.fields.get(field) or getattr(d, field, None))}
