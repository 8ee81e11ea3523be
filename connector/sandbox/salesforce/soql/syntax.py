"""The shapes a SOQL query takes: parsed (names as written) and bound (names resolved).

Plain frozen dataclasses, so a parsed query can be cached and bound once per schema.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from connector.sandbox.salesforce.schema import SObjectDef


class RecordSource(Protocol):
    """What the engine reads: the schema as the integration user sees it, and the records."""

    def sobject(self, name: str) -> SObjectDef | None:
        """The sObject named ``name`` (any case), None if unknown or hidden."""

    def records(self, sobject: str) -> Iterable[dict[str, Any]]:
        """Every record of that type, soft-deleted ones included."""

    def get(self, record_id: str) -> tuple[str, dict[str, Any]] | None:
        """(canonical sObject name, record) for a 15- or 18-character id."""

    def is_hidden(self, sobject: str, field: str) -> bool:
        """True for a field the integration user cannot see: it behaves as nonexistent."""


@dataclass(frozen=True)
class FieldPath:
    """A field as written: ``Name`` or ``Account.Owner.Name``; ``pos`` is its offset."""

    parts: tuple[str, ...]
    pos: int

    @property
    def text(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True)
class Literal:
    """A filter value; ``kind`` is string number boolean null date datetime or range."""

    kind: str
    value: Any
    text: str
    pos: int


@dataclass(frozen=True)
class DateRange:
    """A relative date literal (TODAY, LAST_N_DAYS:n, ...), resolved when the query runs."""

    name: str
    n: int = 0


@dataclass(frozen=True)
class Hop:
    """One parent step: the reference field read and the relationship name it outputs as."""

    field: str  # e.g. AccountId, WhatId, Account__c
    name: str  # e.g. Account, What, Account__r
    polymorphic: bool


@dataclass(frozen=True)
class Resolved:
    """A field path bound to the schema: canonical names and how its values compare."""

    hops: tuple[Hop, ...]
    field: str  # canonical field name on the last object ("Type" of a polymorphic parent)
    kind: str  # text multi id number boolean date datetime
    case_sensitive: bool = False
    picklist: tuple[str, ...] = ()
    is_type: bool = False  # the sObject type of a polymorphic parent (What.Type)

    @property
    def key(self) -> str:
        """Canonical dotted name, e.g. ``Account.Name``."""
        return ".".join([*(h.name for h in self.hops), self.field])


@dataclass(frozen=True)
class Compare:
    """``path op value(s)``; ``op`` is one of = != < <= > >= LIKE IN NOT IN INCLUDES EXCLUDES.

    Parsed, ``values`` are Literals; bound, ``target`` is set and ``values`` are normalised
    (upper-cased text, 18-character ids, UTC datetimes, compiled LIKE patterns, DateRanges).
    """

    path: FieldPath
    op: str
    values: tuple[Any, ...]
    target: Resolved | None = None


@dataclass(frozen=True)
class Not:
    """``NOT term``."""

    term: Cond


@dataclass(frozen=True)
class Junction:
    """Terms joined by one operator: SOQL needs parentheses to mix AND with OR."""

    op: str  # AND or OR
    terms: tuple[Cond, ...]


Cond = Compare | Not | Junction


@dataclass(frozen=True)
class OrderItem:
    """One ORDER BY key; nulls sort first ascending and last descending unless told."""

    path: FieldPath
    descending: bool
    nulls_first: bool
    target: Resolved | None = None


@dataclass(frozen=True)
class Plan:
    """What bind resolved: selected fields, the typed filter and the sort keys."""

    select: tuple[Resolved, ...]
    where: Cond | None
    order: tuple[OrderItem, ...]


@dataclass(frozen=True)
class Query:
    """A parsed query; ``sobject`` is canonical and ``plan`` set once bound."""

    soql: str
    sobject: str
    sobject_pos: int
    count: bool
    fields: tuple[FieldPath, ...]
    where: Cond | None
    order: tuple[OrderItem, ...]
    limit: int | None
    offset: int
    plan: Plan | None = None
