"""Resolve a parsed SOQL query against the schema the integration user sees.

Names become canonical, parent paths become hops over reference fields, and every filter
value is checked against its field's type and normalised for comparison, so evaluation is a
plain comparison per record. A hidden field or object behaves exactly as a missing one.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from connector.sandbox import ids
from connector.sandbox.salesforce.schema import FieldDef, SObjectDef
from connector.sandbox.salesforce.soql.errors import (
    SoqlError,
    bad_relationship,
    duplicate_field,
    located,
    no_such_column,
    unknown_sobject,
    wrong_literal,
)
from connector.sandbox.salesforce.soql.lex import decode, like_pattern
from connector.sandbox.salesforce.soql.syntax import (
    Compare,
    Cond,
    FieldPath,
    Hop,
    Junction,
    Literal,
    Not,
    Plan,
    Query,
    RecordSource,
    Resolved,
)

INVALID_QUERY_FILTER_OPERATOR = "INVALID_QUERY_FILTER_OPERATOR"
_KINDS = {
    "id": "id",
    "reference": "id",
    "multipicklist": "multi",
    "boolean": "boolean",
    "double": "number",
    "currency": "number",
    "percent": "number",
    "int": "number",
    "long": "number",
    "date": "date",
    "datetime": "datetime",
}
_TYPE_NAMES = {"text": "string", "multi": "string", "id": "string", "boolean": "boolean"}
_TYPE_NAMES |= {"number": "double", "date": "date", "datetime": "dateTime"}
_EXPECTED = {"text": "string", "multi": "string", "id": "string", "number": "number"}
_EXPECTED |= {"boolean": "boolean", "date": "date", "datetime": "datetime"}
# The fields of the "Name" entity a polymorphic parent (What, Who, Owner) exposes here.
_NAME_ENTITY = {"id": ("Id", "id"), "name": ("Name", "text"), "type": ("Type", "text")}


def bind(query: Query, source: RecordSource) -> Query:
    """Resolve ``query`` against ``source``; raises INVALID_TYPE or INVALID_FIELD."""
    root = source.sobject(query.sobject)
    if root is None:
        raise unknown_sobject(query.soql, query.sobject_pos, query.sobject)
    binder = _Binder(query.soql, source, root)
    select = tuple(binder.resolve(p) for p in query.fields)
    seen: set[str] = set()
    for path, target in zip(query.fields, select, strict=True):
        if target.key.lower() in seen:
            raise duplicate_field(path.text)
        seen.add(target.key.lower())
    where = binder.condition(query.where) if query.where is not None else None
    order = tuple(replace(o, target=binder.resolve(o.path)) for o in query.order)
    return replace(query, sobject=root.name, plan=Plan(select, where, order))


def _kind(field: FieldDef) -> str:
    return _KINDS.get(field.type, "text")


class _Binder:
    def __init__(self, soql: str, source: RecordSource, root: SObjectDef) -> None:
        self.soql = soql
        self.source = source
        self.root = root

    def resolve(self, path: FieldPath) -> Resolved:
        """Canonical form of ``path``: parent hops, then the field on the last object."""
        parts = list(path.parts)
        own_name = len(parts) > 1 and parts[0].lower() == self.root.name.lower()
        if own_name and self.root.relationship(parts[0]) is None:
            parts = parts[1:]  # SOQL allows the object's own name as a prefix
        obj, hops = self.root, []
        for i, name in enumerate(parts[:-1]):
            ref = obj.relationship(name)
            if ref is None or self.source.is_hidden(obj.name, ref.name):
                raise bad_relationship(self.soql, path.pos, name)
            hop = Hop(ref.name, ref.relationship_name or name, len(ref.reference_to) > 1)
            hops.append(hop)
            if hop.polymorphic:
                if i != len(parts) - 2:
                    raise bad_relationship(self.soql, path.pos, parts[i + 1])
                return self.name_entity(path, tuple(hops), parts[-1])
            target = self.source.sobject(ref.reference_to[0]) if ref.reference_to else None
            if target is None:
                raise bad_relationship(self.soql, path.pos, name)
            obj = target
        field = obj.field(parts[-1])
        if field is None or self.source.is_hidden(obj.name, field.name):
            raise no_such_column(self.soql, path.pos, parts[-1], obj.name)
        kind = _kind(field)
        return Resolved(
            tuple(hops),
            field.name,
            kind,
            case_sensitive=field.case_sensitive or kind == "id",
            picklist=field.picklist_values if field.type == "picklist" else (),
        )

    def name_entity(self, path: FieldPath, hops: tuple[Hop, ...], name: str) -> Resolved:
        """A field of a polymorphic parent: only Id, Name and Type are offered."""
        found = _NAME_ENTITY.get(name.lower())
        if found is None:
            raise no_such_column(self.soql, path.pos, name, "Name")
        field, kind = found
        return Resolved(hops, field, kind, case_sensitive=kind == "id", is_type=field == "Type")

    def condition(self, cond: Cond) -> Cond:
        if isinstance(cond, Junction):
            return Junction(cond.op, tuple(self.condition(t) for t in cond.terms))
        if isinstance(cond, Not):
            return Not(self.condition(cond.term))
        target = self.resolve(cond.path)
        values = tuple(self.value(cond, target, lit) for lit in cond.values)
        return replace(cond, values=values, target=target)

    def value(self, cond: Compare, target: Resolved, lit: Literal) -> Any:
        """``lit`` checked against the field's type and normalised for comparison."""
        label = cond.path.text
        if lit.kind == "null" and cond.op in ("=", "!=", "IN", "NOT IN"):
            return None
        if cond.op == "LIKE":
            if target.kind == "id":
                raise self.filter_error(lit.pos, "invalid operator on id field")
            self.expect(lit, "string", label, "string")
            return like_pattern(self.soql, lit.value, lit.pos)
        if cond.op in ("INCLUDES", "EXCLUDES") or target.kind == "multi":
            if target.kind != "multi":
                text = "includes or excludes operator only valid on multipicklist field"
                raise self.filter_error(lit.pos, text)
            self.expect(lit, "string", label, "string")
            return _picks(decode(self.soql, lit.value, lit.pos))
        if lit.kind == "range" and target.kind in ("date", "datetime"):
            return lit.value
        self.expect(lit, _EXPECTED[target.kind], label, _TYPE_NAMES[target.kind])
        if target.kind == "id":
            return self.record_id(lit)
        if lit.kind == "string":
            text = decode(self.soql, lit.value, lit.pos)
            return text if target.case_sensitive else text.upper()
        return lit.value

    def expect(self, lit: Literal, kind: str, label: str, type_name: str) -> None:
        if lit.kind != kind:
            raise wrong_literal(self.soql, lit.pos, label, type_name)

    def record_id(self, lit: Literal) -> str:
        text = decode(self.soql, lit.value, lit.pos)
        if not ids.is_valid(text):
            raise self.filter_error(lit.pos, f"invalid ID field: {text}")
        return ids.to18(text)

    def filter_error(self, pos: int, text: str) -> SoqlError:
        return SoqlError(INVALID_QUERY_FILTER_OPERATOR, located(self.soql, pos, text))


def _picks(text: str) -> frozenset[str]:
    """The values of a multi-select picklist string, compared case-insensitively."""
    return frozenset(p.strip().upper() for p in text.split(";") if p.strip())
