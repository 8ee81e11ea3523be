"""Evaluate a bound SOQL query: the filter compiled once into closures, then the sort.

Everything that depends on the query is decided here, before the first record is read:
which getter follows which parent hops, how a value is normalised (upper-cased text,
picklist sets) and which comparison applies. Per record only the closures run.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from re import Pattern
from typing import Any

from connector.sandbox.salesforce.soql.lex import format_datetime
from connector.sandbox.salesforce.soql.syntax import (
    Compare,
    Cond,
    DateRange,
    Junction,
    Not,
    OrderItem,
    RecordSource,
    Resolved,
)

Record = dict[str, Any]
Getter = Callable[[Record], Any]
Predicate = Callable[[Record], bool]

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def getter(target: Resolved, source: RecordSource) -> Getter:
    """Read ``target`` from a record, following parent references; a null link gives None."""
    name = target.field
    if not target.hops:
        return lambda r: r.get(name)
    refs = tuple(h.field for h in target.hops)
    lookup = source.get
    is_type = target.is_type

    def chase(r: Record) -> Any:
        kind = ""
        for ref in refs:
            rid = r.get(ref)
            hit = lookup(rid) if rid else None
            if hit is None:
                return None
            kind, r = hit
        return kind if is_type else r.get(name)

    return chase


def _normaliser(target: Resolved) -> Callable[[Any], Any] | None:
    """How a record value is made comparable with the bound literal (None: as it is)."""
    if target.kind == "multi":
        return _picks
    if target.kind == "text" and not target.case_sensitive:
        return _upper
    return None


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


def _picks(value: Any) -> frozenset[str] | None:
    if not value:
        return None
    return frozenset(p.strip().upper() for p in str(value).split(";") if p.strip())


def predicate(cond: Cond, source: RecordSource, today: date) -> Predicate:
    """Compile a bound condition into one closure over a record."""
    if isinstance(cond, Junction):
        return _chain([predicate(t, source, today) for t in cond.terms], cond.op == "AND")
    if isinstance(cond, Not):
        inner = predicate(cond.term, source, today)
        return lambda r: not inner(r)
    return _compare(cond, source, today)


def _chain(parts: list[Predicate], both: bool) -> Predicate:
    """``a AND b AND ...`` (or OR) as nested short-circuiting closures, no generator per row."""
    first = parts[0]
    if len(parts) == 1:
        return first
    rest = _chain(parts[1:], both)
    if both:
        return lambda r: first(r) and rest(r)
    return lambda r: first(r) or rest(r)


def _compare(cond: Compare, source: RecordSource, today: date) -> Predicate:
    assert cond.target is not None, "bind the query before evaluating it"
    raw = getter(cond.target, source)
    norm = _normaliser(cond.target)
    get = raw if norm is None else (lambda r: norm(raw(r)))
    op, values = cond.op, cond.values
    if op == "LIKE":
        pattern: Pattern[str] = values[0]
        return lambda r: isinstance(v := raw(r), str) and pattern.fullmatch(v) is not None
    if op in ("INCLUDES", "EXCLUDES"):
        return _includes(get, tuple(values), op == "EXCLUDES")
    if op in ("IN", "NOT IN"):
        allowed = frozenset(values)
        if op == "IN":
            return lambda r: get(r) in allowed
        return lambda r: get(r) not in allowed
    value = values[0]
    if isinstance(value, DateRange):
        lo, hi = _bounds(value, today, cond.target.kind)
        return _in_range(get, op, lo, hi)
    return _scalar(get, op, value)


def _includes(get: Getter, wanted: tuple[frozenset[str], ...], negate: bool) -> Predicate:
    """Multi-select picklists: a value ``'A;B'`` asks for both A and B selected."""

    def hit(r: Record) -> bool:
        picked = get(r)
        return picked is not None and any(w <= picked for w in wanted)

    if negate:
        return lambda r: not hit(r)
    return hit


def _scalar(get: Getter, op: str, value: Any) -> Predicate:
    """``field op value`` with SOQL's nulls: ``!=`` keeps them, ordering comparisons drop them.

    An empty string is null for text fields, so ``= ''`` finds the empty ones.
    """
    if value is None or (value == "" and op in ("=", "!=")):
        if op == "=":
            return lambda r: get(r) in (None, "")
        return lambda r: get(r) not in (None, "")
    if op == "=":
        return lambda r: get(r) == value
    if op == "!=":
        return lambda r: get(r) != value
    compare = _OPS[op]
    return lambda r: (v := get(r)) is not None and compare(v, value)


def _in_range(get: Getter, op: str, lo: str, hi: str) -> Predicate:
    """A comparison with a relative date literal, which stands for the range [lo, hi)."""
    tests: dict[str, Callable[[Any], bool]] = {
        "=": lambda v: lo <= v < hi,
        "!=": lambda v: not lo <= v < hi,
        "<": lambda v: v < lo,
        "<=": lambda v: v < hi,
        ">": lambda v: v >= hi,
        ">=": lambda v: v >= lo,
    }
    test = tests[op]
    if op == "!=":
        return lambda r: (v := get(r)) is None or test(v)
    return lambda r: (v := get(r)) is not None and test(v)


def _bounds(rng: DateRange, today: date, kind: str) -> tuple[str, str]:
    """The half-open range a relative date literal covers, as comparable wire strings."""
    day = timedelta(days=1)
    start, end = {
        "TODAY": (today, today + day),
        "YESTERDAY": (today - day, today),
        "TOMORROW": (today + day, today + 2 * day),
        "LAST_N_DAYS": (today - rng.n * day, today + day),
        "NEXT_N_DAYS": (today + day, today + (rng.n + 1) * day),
    }[rng.name]
    if kind == "date":
        return start.isoformat(), end.isoformat()
    return _midnight(start), _midnight(end)


def _midnight(day: date) -> str:
    return format_datetime(datetime.combine(day, time(0), tzinfo=UTC))


def sort_rows(
    rows: list[Record], order: tuple[OrderItem, ...], source: RecordSource
) -> list[Record]:
    """Sort by every key, last key first, relying on the sort being stable."""
    for item in reversed(order):
        assert item.target is not None, "bind the query before evaluating it"
        keys = [*map(_sort_key(item.target, source), rows)]
        if None in keys:
            null_flag = 0 if item.nulls_first != item.descending else 1
            keys = [(null_flag,) if k is None else (1 - null_flag, k) for k in keys]
        index = sorted(range(len(rows)), key=keys.__getitem__, reverse=item.descending)
        rows = [rows[i] for i in index]
    return rows


def _sort_key(target: Resolved, source: RecordSource) -> Getter:
    """Text sorts case-insensitively, picklists in their defined order, ids byte-wise."""
    get = getter(target, source)
    if target.picklist:
        rank = {v.upper(): i for i, v in enumerate(target.picklist)}
        last = len(rank)
        return lambda r: None if (v := get(r)) is None else rank.get(v.upper(), last)
    if target.kind == "text" and not target.case_sensitive:
        return lambda r: _upper(get(r))
    return get
