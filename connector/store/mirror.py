"""Mirror tables: one per stream, keyed by source id, shaped by the stream's mapping.

Each holds ``id`` (byte-order text), the source's ``modstamp``, a ``deleted`` flag, ``pulled_at``
(when the store last learned the row's state: pulled, or seen gone) and one column per mapped
field. A mapping may gain columns (they are added); a column it loses stays, unused.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from itertools import repeat
from typing import Any

from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    Date,
    Engine,
    Index,
    MetaData,
    String,
    Table,
    exists,
    false,
    func,
    inspect,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import StatementError

from connector.errors import ConfigError
from connector.model import Column as MappedColumn
from connector.model import Row, StreamSpec
from connector.store.engine import begin_write
from connector.store.schema import (
    NAMING_CONVENTION,
    UtcDateTime,
    column_type,
    text_c,
    utc_binder,
)
from connector.transforms import SourceInstant, source_instant, utc_text

FIXED_COLUMNS = ("id", "modstamp", "deleted", "pulled_at")
MIRROR_DDL_LOCK = "cs-connector:mirror-ddl"
ID_CHUNK = 500  # ids per IN (...) list: well under SQLite's bound-parameter limit
STAGE_BATCH = 10_000  # live ids per executemany when staging the Id sweep
# Streams whose ``*_id`` columns are not indexed: the largest tables (a first load writes every
# index once per row), whose references evaluate's plans never look up by index (they
# aggregate over whole tables) and reconcile reads whole (docs/benchmarks.md, "Evaluate", "Pull").
# Migration 0004 dropped the indexes stores made before.
UNINDEXED_REFERENCES = frozenset({"zendesk_ticket", "task", "event"})


@dataclass(frozen=True)
class MirrorChange:
    """DDL that ``ensure_tables`` applied to one stream's table.

    Rows pulled before a column was added hold NULL there until they are read again.
    """

    stream: str
    created: bool
    added: tuple[str, ...] = ()


def table(spec: StreamSpec) -> Table:
    """The mirror table as ``spec`` maps it, for building statements (cached)."""
    return _build(spec.name, spec.columns, spec.origin)


@lru_cache(maxsize=512)
def _build(name: str, columns: tuple[MappedColumn, ...], origin: str) -> Table:
    for mapped in columns:
        if mapped.name in FIXED_COLUMNS:
            raise ConfigError(origin, f"columns.{mapped.name}", "reserved by the mirror table")
    return Table(
        f"mirror_{name}",
        MetaData(naming_convention=NAMING_CONVENTION),
        Column("id", text_c(), primary_key=True),
        Column("modstamp", UtcDateTime()),
        Column("deleted", Boolean(), nullable=False, server_default=false()),
        Column("pulled_at", UtcDateTime(), nullable=False),
        *(Column(mapped.name, column_type(mapped.type)) for mapped in columns),
        Index(None, "modstamp"),
        # The rules join on references (account_id, organization_id, ...): index them, except on
        # the big streams whose references nothing looks up (``UNINDEXED_REFERENCES``).
        *(
            Index(None, mapped.name)
            for mapped in columns
            if mapped.name.endswith("_id") and name not in UNINDEXED_REFERENCES
        ),
    )


def ensure_tables(engine: Engine, specs: Sequence[StreamSpec]) -> list[MirrorChange]:
    """Create missing mirror tables and add the columns mappings gained; never drop anything."""
    changes: list[MirrorChange] = []
    with begin_write(engine, lock=MIRROR_DDL_LOCK) as conn:
        operations = Operations(MigrationContext.configure(conn))
        for spec in specs:
            change = _ensure(conn, operations, spec)
            if change is not None:
                changes.append(change)
    return changes


def _ensure(conn: Connection, operations: Operations, spec: StreamSpec) -> MirrorChange | None:
    mirror = table(spec)
    inspector = inspect(conn)
    if not inspector.has_table(mirror.name):
        mirror.create(conn)
        return MirrorChange(spec.name, created=True)
    present = {column["name"] for column in inspector.get_columns(mirror.name)}
    added = tuple(c.name for c in mirror.columns if c.name not in present)
    for name in added:
        operations.add_column(mirror.name, Column(name, mirror.c[name].type, nullable=True))
    indexed = {index["name"] for index in inspector.get_indexes(mirror.name)}
    for index in mirror.indexes:
        if index.name not in indexed:
            index.create(conn)
    return MirrorChange(spec.name, created=False, added=added) if added else None


def upsert(conn: Connection, spec: StreamSpec, rows: Sequence[Row], pulled_at: datetime) -> int:
    """Insert or update rows by id in one executemany; returns the rows written.

    Every column is set on conflict, so a re-read row with unchanged values still refreshes
    ``modstamp``, ``deleted`` and ``pulled_at``. Where a page repeats an id, the last one wins.

    The statement is compiled once per table and dialect and the rows go to the driver's
    ``executemany`` as tuples, each value through its column's bind conversion chosen once
    (SQLAlchemy's own for JSON, booleans, dates; ``UtcDateTime``'s as a plain function): the
    values stored are the ones ``conn.execute(insert, dicts)`` stored, without its per-row
    parameter processing.
    """
    if not rows:
        return 0
    plan = _upsert_plan(table(spec), conn.dialect)
    latest = list({row.id: row for row in rows}.values())
    try:
        params = _parameters(plan, latest, pulled_at)
    except (ValueError, TypeError, AttributeError) as exc:  # as conn.execute reports them
        raise StatementError(str(exc), plan.sql, None, exc) from exc
    conn.exec_driver_sql(plan.sql, params)
    return len(params)


def _parameters(plan: _UpsertPlan, rows: list[Row], pulled_at: datetime) -> list[tuple[Any, ...]]:
    """The executemany parameters of ``rows``, built a column at a time.

    One comprehension per column, specialised to its conversion, then one ``zip`` into row
    tuples: no per-value branching on the column's kind, and a column that needs no conversion
    (numbers) is passed on as read. What a page costs here is mostly the conversions: datetime
    text (``utc_text`` instead of ``isoformat``), JSON and dates (``_json_conversion``,
    ``_date_conversion``).
    """
    stamp, flag = plan.stamp, plan.flag
    maps = [row.values for row in rows]
    columns: list[Iterable[Any]] = [
        _text_column([row.id for row in rows]),
        _convert_column(stamp, [row.modstamp for row in rows]),
        [flag(row.deleted) for row in rows],
        repeat(stamp(pulled_at), len(rows)),
    ]
    for name, convert in plan.mapped:
        columns.append(_convert_column(convert, [m.get(name) for m in maps]))
    return list(zip(*columns, strict=False))


def _convert_column(convert: Callable[[Any], Any] | None, values: list[Any]) -> list[Any]:
    """One column's values through its conversion; None stays None (SQL NULL) unconverted."""
    if convert is None:
        return values
    if convert is _plain_text:
        return _text_column(values)
    if convert is _sqlite_stamp_fast:
        return [
            value
            if value is None
            else utc_text(value)
            if value.__class__ is SourceInstant
            else _sqlite_stamp(value)
            for value in values
        ]
    return [None if value is None else convert(value) for value in values]


def _text_column(values: list[Any]) -> list[Any]:
    """Text as the driver takes it: a ``str`` without NUL as is (the common case, inline)."""
    return [
        value
        if value is None or (value.__class__ is str and "\x00" not in value)
        else _plain_text(value)
        for value in values
    ]


@dataclass(frozen=True)
class _UpsertPlan:
    sql: str  # positional placeholders in table column order: id, modstamp, deleted, ...
    stamp: Callable[[datetime | None], Any]
    flag: Callable[[Any], Any]
    mapped: tuple[tuple[str, Callable[[Any], Any] | None], ...]  # mapped columns, in order


@lru_cache(maxsize=1024)
def _upsert_plan(mirror: Table, dialect: Dialect) -> _UpsertPlan:
    """The upsert compiled for ``dialect`` and each column's bind conversion, once."""
    if dialect.name not in ("postgresql", "sqlite"):
        raise ValueError(f"no upsert for {dialect.name!r}")
    insert = (postgresql.insert if dialect.name == "postgresql" else sqlite.insert)(mirror)
    statement = insert.on_conflict_do_update(
        index_elements=[mirror.c.id],
        set_={c.name: insert.excluded[c.name] for c in mirror.columns if c.name != "id"},
    )
    compiled = statement.compile(dialect=dialect)
    sql = str(compiled)
    if compiled.positional:
        order = list(compiled.positiontup or ())
    else:  # pyformat (psycopg): the same statement with %s placeholders, in the same order
        order = _NAMED.findall(sql)
        sql = _NAMED.sub("%s", sql)
    names = [c.name for c in mirror.columns]
    if order != names or names[: len(FIXED_COLUMNS)] != list(FIXED_COLUMNS):
        raise AssertionError(f"upsert parameters out of column order: {order}")

    stamp = _stamp_conversion(dialect)

    def conversion(column: Column[Any]) -> Callable[[Any], Any] | None:
        kind = column.type
        if isinstance(kind, UtcDateTime):
            return stamp
        impl = kind.dialect_impl(dialect)
        process = impl.bind_processor(dialect)
        if isinstance(impl, JSON):
            return _json_conversion(process)
        if isinstance(impl, Date) and process is not None:
            return _date_conversion(process)
        if isinstance(impl, String):
            return _text_conversion(process)
        return process

    columns = list(mirror.columns)
    flag = conversion(mirror.c.deleted) or _same
    mapped = tuple((c.name, conversion(c)) for c in columns[len(FIXED_COLUMNS) :])
    return _UpsertPlan(sql, stamp, flag, mapped)


def _stamp_conversion(dialect: Dialect) -> Callable[[datetime | None], Any]:
    """``UtcDateTime``'s conversion on ``dialect``; on SQLite one that takes the text of a
    ``SourceInstant`` from its source (``utc_text``) instead of formatting it.

    That is used only if it gives the binder's very text for each API form (checked here,
    once per plan), so the store's values cannot drift from what ``UtcDateTime`` writes.
    """
    binder = utc_binder(dialect)
    if dialect.name != "sqlite":
        return binder
    probes = [source_instant(text) for text in _STAMP_PROBES]
    if all(p is not None and utc_text(p) == binder(p) for p in probes):
        return _sqlite_stamp_fast
    return binder


_STAMP_PROBES = (
    "2025-06-17T00:26:58Z",
    "2025-06-17T00:26:58.123Z",
    "2025-12-02T09:07:03.450+0000",
    "0999-12-31T23:59:59.999+00:00",
)
_sqlite_stamp = utc_binder(sqlite.dialect())  # UtcDateTime's own text on SQLite (isoformat)


def _sqlite_stamp_fast(value: datetime | None) -> Any:
    """SQLite's stamp of one value (the column-at-a-time path inlines this)."""
    if value.__class__ is SourceInstant:
        return utc_text(value)
    return _sqlite_stamp(value)


_NAMED = re.compile(r"%\((\w+)\)s")


def _same(value: Any) -> Any:
    return value


def _plain_text(value: Any) -> Any:
    """Text for a driver that takes ``str`` as is (no bind processor): NULs dropped."""
    if type(value) is str:
        return value.replace("\x00", "") if "\x00" in value else value
    return _storable(value)


def _text_conversion(process: Callable[[Any], Any] | None) -> Callable[[Any], Any]:
    if process is None:
        return _plain_text

    def convert(value: Any) -> Any:
        if type(value) is str:
            value = value.replace("\x00", "") if "\x00" in value else value
        else:
            value = _storable(value)
        return value if process is None else process(value)

    return convert


def _json_conversion(process: Callable[[Any], Any] | None) -> Callable[[Any], Any]:
    """JSON's bind conversion; a list of plain words (Zendesk tags) written directly when
    that gives the processor's own text (checked once here): ``json.dumps`` of a short list
    cost more than the rest of a ticket's tags column."""

    def convert(value: Any) -> Any:
        value = _storable(value)
        return value if process is None else process(value)

    if process is None or not all(process(p) == _word_list(p) for p in _JSON_PROBES):
        return convert

    def fast(value: Any) -> Any:
        text = _word_list(value) if value.__class__ is list else None
        return convert(value) if text is None else text

    return fast


_JSON_PROBES: tuple[list[str], ...] = ([], ["bug"], ["how_to", "feature-request", "Tier 1"])


def _word_list(value: list[Any]) -> str | None:
    """``json.dumps(value)`` of a list of printable ASCII strings needing no escape, else None."""
    for item in value:
        if not (
            item.__class__ is str
            and item.isascii()
            and item.isprintable()
            and '"' not in item
            and "\\" not in item
        ):
            return None
    return '["' + '", "'.join(value) + '"]' if value else "[]"


def _date_conversion(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """DATE's bind conversion; a ``date`` as ``isoformat()`` when that is the processor's own
    text (checked once here: SQLite's ``%(year)04d-%(month)02d-%(day)02d``), which costs a
    quarter of its ``%`` formatting."""
    probes = (date(2025, 1, 6), date(999, 12, 31))
    if not all(process(p) == p.isoformat() for p in probes):
        return process

    def fast(value: Any) -> Any:
        return value.isoformat() if value.__class__ is date else process(value)

    return fast


def _storable(value: Any) -> Any:
    """``value`` without NUL characters: PostgreSQL text and JSON cannot hold U+0000 (one in a
    record's name failed the whole page), and they mean nothing in CRM or ticket text. Dropped
    on every backend, so SQLite and PostgreSQL mirror the same values."""
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, list):
        return [_storable(v) for v in value]
    if isinstance(value, dict):
        return {_storable(k): _storable(v) for k, v in value.items()}
    return value


def mark_deleted(conn: Connection, spec: StreamSpec, ids: Iterable[str], at: datetime) -> int:
    """Flag the given rows deleted (ids not in the mirror are ignored); returns rows changed."""
    mirror = table(spec)
    changed = 0
    for chunk in _chunks(sorted(set(ids)), ID_CHUNK):
        statement = (
            update(mirror)
            .where(mirror.c.id.in_(chunk), mirror.c.deleted.is_(False))
            .values(deleted=True, pulled_at=at)
        )
        changed += conn.execute(statement).rowcount
    return changed


def sweep_missing(
    conn: Connection, spec: StreamSpec, live_ids: AbstractSet[str], at: datetime
) -> int:
    """Flag deleted every row the source no longer has (the nightly Id sweep); returns the count.

    The live ids are staged in a temporary table and the sets compared by the database in one
    UPDATE (an anti-join via NOT EXISTS, which PostgreSQL plans well at any size, unlike NOT IN).
    An empty ``live_ids`` marks every row: callers guard against a source that returned nothing.
    """
    mirror = table(spec)
    live = Table(
        "cs_live_ids", MetaData(), Column("id", text_c(), primary_key=True), prefixes=["TEMPORARY"]
    )
    live.create(conn)
    for chunk in _chunks(list(live_ids), STAGE_BATCH):
        conn.execute(live.insert(), [{"id": live_id} for live_id in chunk])
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("ANALYZE cs_live_ids")
    gone = ~exists().where(live.c.id == mirror.c.id)
    statement = (
        update(mirror).where(mirror.c.deleted.is_(False), gone).values(deleted=True, pulled_at=at)
    )
    changed = conn.execute(statement).rowcount
    live.drop(conn)
    return changed


def count(conn: Connection, spec: StreamSpec, include_deleted: bool = False) -> int:
    """Rows in the stream's mirror, live ones only unless ``include_deleted``."""
    mirror = table(spec)
    query = select(func.count()).select_from(mirror)
    if not include_deleted:
        query = query.where(mirror.c.deleted.is_(False))
    return int(conn.execute(query).scalar_one())


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
