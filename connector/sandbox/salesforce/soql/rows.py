"""Records in the REST wire shape: ``attributes``, then the selected fields in select order.

A parent path nests: ``Account.Name`` gives ``"Account": {"attributes": ..., "Name": ...}``,
or ``"Account": null`` when the reference is empty. A polymorphic parent (What, Who, Owner on
activities) reports its ``attributes.type`` as ``Name`` while its url names the real sObject,
as Salesforce does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from connector.sandbox.salesforce.soql.syntax import Hop, RecordSource, Resolved

Record = dict[str, Any]
Projector = Callable[[Record], Record]

_FIELD, _TYPE, _PARENT = 0, 1, 2


@dataclass
class _Node:
    """Selected fields of one object, keyed by output name in first-selected order."""

    items: dict[str, Resolved | _Parent] = field(default_factory=dict)


@dataclass
class _Parent:
    hop: Hop
    node: _Node = field(default_factory=_Node)


def projector(
    select: tuple[Resolved, ...], sobject: str, url_prefix: str, source: RecordSource
) -> Projector:
    """A function turning a record of ``sobject`` into its wire row."""
    root = _Node()
    for target in select:
        node = root
        for hop in target.hops:
            item = node.items.get(hop.name)
            if not isinstance(item, _Parent):
                item = node.items[hop.name] = _Parent(hop)
            node = item.node
        node.items[target.field] = target
    build = _compile(root, url_prefix, source)
    return lambda r: build(r, sobject, sobject)


def _compile(
    node: _Node, url_prefix: str, source: RecordSource
) -> Callable[[Record, str, str], Record]:
    """Build the row for one object: (record, its sObject name, name shown in attributes)."""
    plan: list[tuple[str, int, Any]] = []
    for key, item in node.items.items():
        if isinstance(item, _Parent):
            child = _compile(item.node, url_prefix, source)
            plan.append((key, _PARENT, (item.hop, child)))
        else:
            plan.append((key, _TYPE if item.is_type else _FIELD, None))
    if all(how == _FIELD for _, how, _ in plan):
        return _flat(tuple(key for key, _, _ in plan), url_prefix)
    lookup = source.get

    def build(rec: Record, sobject: str, shown: str) -> Record:
        url = f"{url_prefix}{sobject}/{rec['Id']}"
        out: Record = {"attributes": {"type": shown, "url": url}}
        for key, how, extra in plan:
            if how == _FIELD:
                out[key] = rec.get(key)
            elif how == _TYPE:
                out[key] = sobject
            else:
                hop, child = extra
                rid = rec.get(hop.field)
                hit = lookup(rid) if rid else None
                if hit is None:
                    out[key] = None
                else:
                    kind, parent = hit
                    out[key] = child(parent, kind, "Name" if hop.polymorphic else kind)
        return out

    return build


def _flat(keys: tuple[str, ...], url_prefix: str) -> Callable[[Record, str, str], Record]:
    """The common case, plain fields only: the hot loop of a large pull."""

    def build(rec: Record, sobject: str, shown: str) -> Record:
        out: Record = {"attributes": {"type": shown, "url": f"{url_prefix}{sobject}/{rec['Id']}"}}
        get = rec.get
        for key in keys:
            out[key] = get(key)
        return out

    return build
