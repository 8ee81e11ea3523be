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
from datetime import datetime
from functools import lru_cache
from typing import Any

from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
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
    latest = {row.id: row for row in rows}
    stamp, flag, mapped = plan.stamp, plan.flag, plan.mapped
    text = _plain_text
    try:
        pulled = stamp(pulled_at)
        params = []
        for row in latest.values():
            get = row.values.get
            rid = row.id
            one = [
                rid if type(rid) is str and "\x00" not in rid else _storable(rid),
                stamp(row.modstamp),
                flag(row.deleted),
                pulled,
            ]
            for name, convert in mapped:
                value = get(name)
                if value is None or convert is None:
                    one.append(value)
                elif convert is text:  # the common case, inline: str without NUL is as is
                    one.append(value if type(value) is str and "\x00" not in value else text(value))
                else:
                    one.append(convert(value))
            params.append(tuple(one))
    except (ValueError, TypeError, AttributeError) as exc:  # as conn.execute reports them
        raise StatementError(str(exc), plan.sql, None, exc) from exc
    conn.exec_driver_sql(plan.sql, params)
    return len(params)


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

    def conversion(column: Column[Any]) -> Callable[[Any], Any] | None:
        kind = column.type
        if isinstance(kind, UtcDateTime):
            return utc_binder(dialect)
        impl = kind.dialect_impl(dialect)
        process = impl.bind_processor(dialect)
        if isinstance(impl, JSON):
            return _json_conversion(process)
        if isinstance(impl, String):
            return _text_conversion(process)
        return process

    columns = list(mirror.columns)
    flag = conversion(mirror.c.deleted) or _same
    mapped = tuple((c.name, conversion(c)) for c in columns[len(FIXED_COLUMNS) :])
    return _UpsertPlan(sql, utc_binder(dialect), flag, mapped)


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
    def convert(value: Any) -> Any:
        value = _storable(value)
        return value if process is None else process(value)

    return convert


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
