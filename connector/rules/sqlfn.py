"""Portable SQL pieces the rules need where SQLite and PostgreSQL differ: dates from datetimes,
byte-order comparison, list aggregation."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Date, String, cast, false, func, or_, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement


class local_date(FunctionElement[Any]):  # noqa: N801 - reads as a SQL function
    """The calendar date of an aware timestamp in ``rules.timezone``.

    PostgreSQL converts with the zone's rules; SQLite stores UTC text and applies the zone's
    offset at the evaluation instant (exact for UTC and for zones without a DST change between
    the timestamp and now).
    """

    type = Date()
    inherit_cache = True

    def __init__(self, expr: ColumnElement[Any], tz: str, offset_minutes: int) -> None:
        self.tz, self.offset_minutes = tz, offset_minutes
        super().__init__(expr)


@compiles(local_date, "postgresql")
def _pg_local_date(element: local_date, compiler: Any, **kw: Any) -> str:
    arg = compiler.process(list(element.clauses)[0], **kw)
    zone = element.tz.replace("'", "''")
    return f"CAST(({arg}) AT TIME ZONE '{zone}' AS DATE)"


@compiles(local_date, "sqlite")
def _sqlite_local_date(element: local_date, compiler: Any, **kw: Any) -> str:
    arg = compiler.process(list(element.clauses)[0], **kw)
    if element.offset_minutes:
        return f"date(substr({arg}, 1, 19), '{element.offset_minutes:+d} minutes')"
    return f"date(substr({arg}, 1, 19))"


def json_has_any(column: ColumnElement[Any], values: tuple[str, ...]) -> ColumnElement[bool]:
    """A JSON list of strings (ticket tags) holds one of ``values``: portable text match.

    Zendesk tags cannot contain quotes or spaces, so ``"tag"`` in the JSON text is exact.
    """
    text = cast(column, String)
    if not values:
        return false()
    return or_(*(text.like(f'%"{v}"%') for v in values))


def is_true(column: ColumnElement[Any]) -> ColumnElement[bool]:
    """A checkbox that may be null: null counts as false."""
    return func.coalesce(column, False).is_(true())


class byte_order(FunctionElement[Any]):  # noqa: N801 - reads as a SQL function
    """A text column compared (``min``, ``order_by``) in byte order, as RULES.md compares ids.

    SQLite's default BINARY collation already compares bytes; PostgreSQL needs ``COLLATE "C"``
    (its database collation may be a locale's, which ignores case and punctuation).
    """

    type = String()
    inherit_cache = True


@compiles(byte_order)
def _default_byte_order(element: byte_order, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(list(element.clauses)[0], **kw))


@compiles(byte_order, "postgresql")
def _pg_byte_order(element: byte_order, compiler: Any, **kw: Any) -> str:
    return f'({compiler.process(list(element.clauses)[0], **kw)}) COLLATE "C"'


class list_agg(FunctionElement[Any]):  # noqa: N801 - reads as a SQL function
    """The values of a group joined by commas (ticket numbers for evidence); order not kept:
    callers sort, so evidence text is stable."""

    type = String()
    inherit_cache = True


@compiles(list_agg, "postgresql")
def _pg_list_agg(element: list_agg, compiler: Any, **kw: Any) -> str:
    arg = compiler.process(list(element.clauses)[0], **kw)
    return f"string_agg(CAST({arg} AS TEXT), ',')"


@compiles(list_agg, "sqlite")
def _sqlite_list_agg(element: list_agg, compiler: Any, **kw: Any) -> str:
    arg = compiler.process(list(element.clauses)[0], **kw)
    return f"group_concat({arg}, ',')"


def split_list(value: str | None, *, numeric: bool = False) -> list[str]:
    """A ``list_agg`` value back as a sorted list (numbers in numeric order)."""
    items = [v for v in (value or "").split(",") if v]
    return sorted(set(items), key=(lambda v: (len(v), v)) if numeric else None)
