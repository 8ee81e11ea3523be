"""Reconcile from the store one object at a time, so a cycle holds one object's inputs at once.

``plan`` over every output, the whole ledger and the CRM's state held them all, and the push
then held the whole plan: 1.3-1.8 GB at scale L. Here each object's outputs, ledger rows and
CRM records are read when its turn comes (``stage_order``: parents before children), planned,
handed to the caller (who pushes them) and dropped before the next object is read. What a
later object reads of an earlier one stays in the ``Planner``: parents' External Ids, the
parents with a child that waits.

Each object is read after the objects before it were pushed: the ledger it reads holds what
they wrote, and what the push's poll found landed (a record still in a job is in the outbox,
read as ``in_flight`` at the same time).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence

from sqlalchemy import Engine, Table

from connector.mappings import MappingSet
from connector.reconcile.model import Plan, Policy
from connector.reconcile.plan import ZENDESK, Planner, stage_order
from connector.reconcile.state import (
    ledger_targets,
    load_crm,
    load_desired,
    load_in_flight,
    load_ledger,
    load_ticket_ids,
)
from connector.rules.model import DesiredOutput
from connector.targets import Target


def stages(
    engine: Engine,
    targets: Mapping[str, Target],
    mappings: MappingSet,
    tables: Mapping[str, Table],
    policy: Policy,
    only: Collection[str] | None = None,
) -> Iterator[Plan]:
    """Each object's plan in write order (with ``only``, those objects'), read from the store
    as its turn comes. The caller pushes one before asking for the next; a plan it still holds
    when it asks stays in memory with the next one's inputs."""
    planner = Planner(policy, targets)
    with engine.connect() as conn:
        order = stage_order(ledger_targets(conn))
    for target in order:
        if only is not None and target not in only:
            continue
        yield _stage(engine, planner, target, targets, mappings, tables)


def _stage(
    engine: Engine,
    planner: Planner,
    target: str,
    targets: Mapping[str, Target],
    mappings: MappingSet,
    tables: Mapping[str, Table],
) -> Plan:
    """One object's plan from its rows in the store, read together on one connection."""
    mine = {target: targets[target]} if target in targets else {}
    with engine.connect() as conn:
        if target == "cta":
            planner.tickets = load_ticket_ids(conn)
        desired = load_desired(conn, [target], evidence=False)
        book = load_ledger(conn, [target])
        ids = _named_ids(desired, mine.get(target))
        crm = load_crm(conn, mine, mappings, tables, zendesk=target == ZENDESK, ids=ids)
        in_flight = load_in_flight(conn, target)
    part = planner.stage(target, desired, book, crm, in_flight)
    planner.tickets = {}
    return part


def _named_ids(desired: Sequence[DesiredOutput], t: Target | None) -> set[str] | None:
    """The record Ids a by-Id object's outputs name (``id_from``): the only CRM records its
    plan reads (``None``, every record, for other objects)."""
    if t is None or not t.by_id or t.id_from is None:
        return None
    field = t.id_from
    return {str(v) for d in desired if (v := d.fields.get(field) or getattr(d, field, None))}
