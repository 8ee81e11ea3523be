"""The store's portable column types and its fixed tables (mirror tables live in ``mirror.py``).

The tables here describe what migration 0001 creates, for building statements; the migrations,
not ``metadata.create_all``, create them. A test compares the two so they cannot drift.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from connector.model import ColumnType

RUN_STATUSES = ("running", "completed", "stopped", "failed")

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class _SqliteStamp(sqlite.DATETIME):
    """SQLite DATETIME whose text ``UtcDateTime`` writes and parses itself (one conversion)."""

    def bind_processor(self, dialect: Dialect) -> None:
        return None

    def result_processor(self, dialect: Dialect, coltype: object) -> None:
        return None


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC in and out; naive values are refused, since their zone is a guess.

    PostgreSQL stores ``timestamptz``. SQLite stores the fixed-width text
    ``YYYY-MM-DD HH:MM:SS.ffffff`` of the UTC time (SQLAlchemy's own format), so ``<``/``>``
    and ORDER BY in SQL compare instants.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(_SqliteStamp())  # type: ignore[no-untyped-call]
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        return utc_binder(dialect)(value)

    def process_result_value(self, value: Any | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_binder(dialect: Dialect) -> Callable[[datetime | None], Any]:
    """``UtcDateTime``'s conversion of one bound value on ``dialect``, as a plain function.

    The mirror's upsert calls it directly for each datetime (no ``TypeDecorator`` round trip
    per value); ``process_bind_param`` calls it too, so the two cannot drift apart.
    """
    return _sqlite_stamp if dialect.name == "sqlite" else _utc_stamp


def _utc(value: datetime) -> datetime:
    if value.tzinfo is UTC:
        return value
    if value.utcoffset() is None:  # naive (AttributeError for what is not a datetime at all)
        raise ValueError(f"naive datetime {value.isoformat()}: the store keeps aware UTC")
    return value.astimezone(UTC)


def _sqlite_stamp(value: datetime | None) -> str | None:
    if value is None:
        return None
    # "YYYY-MM-DD HH:MM:SS.ffffff+00:00" less its zone: 26 characters, whatever the year
    return _utc(value).isoformat(" ", "microseconds")[:26]


def _utc_stamp(value: datetime | None) -> datetime | None:
    return None if value is None else _utc(value)


def text_c() -> TypeEngine[str]:
    """Text that compares in byte order: ``COLLATE "C"`` on PostgreSQL, SQLite's BINARY default.

    Salesforce ids are case-sensitive, and joins between columns need one collation.
    """
    return Text().with_variant(postgresql.TEXT(collation="C"), "postgresql")


def serial() -> TypeEngine[int]:
    """An autoincrement key: BIGSERIAL on PostgreSQL, the rowid alias on SQLite."""
    return BigInteger().with_variant(Integer(), "sqlite")


def json_type() -> TypeEngine[Any]:
    """JSON (JSONB on PostgreSQL); Python ``None`` is SQL NULL, not the JSON ``null``."""
    return JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")


def column_type(kind: ColumnType) -> TypeEngine[Any]:
    """The store type of a mapping column type."""
    types: dict[ColumnType, TypeEngine[Any]] = {
        "text": text_c(),
        "int": BigInteger(),
        "float": Double(),
        "bool": Boolean(),
        "date": Date(),
        "datetime": UtcDateTime(),
        "json": json_type(),
    }
    return types[kind]


metadata = MetaData(naming_convention=NAMING_CONVENTION)

sync_state = Table(
    "sync_state",
    metadata,
    Column("stream", text_c(), primary_key=True),
    Column("state", json_type(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

runs = Table(
    "runs",
    metadata,
    Column("id", serial(), primary_key=True, autoincrement=True),
    Column("job", text_c(), nullable=False),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("ended_at", UtcDateTime()),
    Column("status", text_c(), nullable=False),
    Column("summary", json_type()),
    Column("api_calls", BigInteger, nullable=False, server_default="0"),
    Column("api_usage", Text),
    Column("error", Text),
    CheckConstraint(f"status IN {RUN_STATUSES!r}", name="status"),
    Index(None, "job", "started_at"),
)

run_streams = Table(
    "run_streams",
    metadata,
    Column("id", serial(), primary_key=True, autoincrement=True),
    Column("run_id", BigInteger, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("stream", text_c(), nullable=False),
    Column("records", BigInteger, nullable=False, server_default="0"),
    Column("deleted", BigInteger, nullable=False, server_default="0"),
    Column("issues", BigInteger, nullable=False, server_default="0"),
    Column("api_calls", BigInteger, nullable=False, server_default="0"),
    Column("seconds", Double, nullable=False, server_default="0"),
    Column("status", text_c(), nullable=False),
    Column("note", Text),
    Index(None, "run_id"),
)

record_errors = Table(
    "record_errors",
    metadata,
    Column("id", serial(), primary_key=True, autoincrement=True),
    Column("run_id", BigInteger, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("stream", text_c(), nullable=False),
    Column("record_id", text_c(), nullable=False),
    Column("code", text_c()),
    Column("message", Text, nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Index(None, "stream", "record_id"),
    Index(None, "run_id"),
)

desired_outputs = Table(
    "desired_outputs",
    metadata,
    Column("key", text_c(), primary_key=True),
    Column("rule", text_c(), nullable=False),
    Column("object", text_c(), nullable=False),
    Column("account_id", text_c()),
    Column("owner_id", text_c()),
    Column("due_date", Date),
    Column("parent_key", text_c()),
    Column("fields", json_type(), nullable=False),
    Column("evidence", Text, nullable=False),
    Column("run_id", BigInteger),
    Column("evaluated_at", UtcDateTime(), nullable=False),
    Index(None, "rule"),
    Index(None, "account_id"),
)

persona_state = Table(
    "persona_state",
    metadata,
    Column("contact_id", text_c(), primary_key=True),
    Column("account_id", text_c()),
    Column("computed", text_c()),
    Column("effective", text_c()),
    Column("active", Boolean, nullable=False),
    Column("previous_effective", text_c()),
    Column("previous_active", Boolean),
    Column("evaluated_at", UtcDateTime(), nullable=False),
    Index(None, "account_id"),
)

LEDGER_CLOSED_BY = ("person", "deleted", "connector")
OUTBOX_STATUSES = ("pending", "sent", "done", "failed", "superseded")

ledger = Table(
    "ledger",
    metadata,
    Column("target", text_c(), primary_key=True),  # output object: cta, task, zendesk_task, ...
    Column("external_id", text_c(), primary_key=True),  # key, key#2, <parent>/<step>
    Column("key", text_c(), nullable=False),  # the desired output key it serves
    Column("identity", text_c(), nullable=False),  # rule:subject for CTAs, else the key
    Column("rule", text_c(), nullable=False),
    Column("account_id", text_c()),
    Column("crm_id", text_c()),  # Salesforce Id or Zendesk ticket id
    Column("hash", text_c()),  # of the owned fields last written
    Column("written", json_type()),  # the owned values last written
    Column("status_set", text_c()),  # the status the connector set (auto-close guard)
    Column("closed_at", UtcDateTime()),  # first seen closed or deleted
    Column("closed_by", text_c()),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("error_code", text_c()),
    Column("error_message", Text),
    Column("error_hash", text_c()),  # a validation error waits until the desired hash changes
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("retry_at", UtcDateTime()),
    CheckConstraint(f"closed_by IS NULL OR closed_by IN {LEDGER_CLOSED_BY!r}", name="closed_by"),
    Index(None, "target", "identity"),
    Index(None, "key"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", serial(), primary_key=True, autoincrement=True),
    Column("run_id", BigInteger),
    Column("target", text_c(), nullable=False),
    Column("external_id", text_c(), nullable=False),
    Column("op", text_c(), nullable=False),
    Column("write", json_type(), nullable=False),  # the planned write, replayable
    Column("status", text_c(), nullable=False),
    Column("job_id", text_c()),  # a Bulk or Zendesk job that carries it
    Column("code", text_c()),
    Column("message", Text),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("done_at", UtcDateTime()),
    CheckConstraint(f"status IN {OUTBOX_STATUSES!r}", name="status"),
    Index(None, "status"),
    Index(None, "job_id"),
)

job_locks = Table(
    "job_locks",
    metadata,
    Column("job", text_c(), primary_key=True),
    Column("holder", text_c(), nullable=False),
    Column("acquired_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
)

# What the last evaluation covered, so the next one can evaluate only the accounts whose inputs
# changed since (``connector.evaluation_scope``). One row per rule set (``name``).
evaluation_state = Table(
    "evaluation_state",
    metadata,
    Column("name", text_c(), primary_key=True),
    Column("now", UtcDateTime(), nullable=False),  # the evaluation instant (--as-of or clock)
    Column("today", Date, nullable=False),  # its calendar date in rules.timezone
    Column("fingerprint", text_c(), nullable=False),  # rules, parameters, templates, mappings
    Column("pulled_since", UtcDateTime(), nullable=False),  # rows pulled after it are new
    Column("full_at", UtcDateTime(), nullable=False),  # ``now`` of the last full evaluation
    Column("accounts", Integer),  # accounts the last evaluation covered; null: every customer
)
