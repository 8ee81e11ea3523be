"""Engines for the store (a SQLite file by default, PostgreSQL by URL) and its migrations.

SQLite gets WAL and real transactions: pysqlite's own BEGIN handling is switched off and
SQLAlchemy emits ``BEGIN`` (``BEGIN IMMEDIATE`` for write transactions, so two writers queue on
the busy timeout instead of failing when a read lock cannot be upgraded). DDL is transactional
on both backends, which lets migrations and mirror DDL roll back with the rest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, Table, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url

BUSY_TIMEOUT_MS = 30_000
SQLITE_PRAGMAS = (
    "journal_mode=WAL",
    "synchronous=NORMAL",
    "foreign_keys=ON",
    f"busy_timeout={BUSY_TIMEOUT_MS}",
)
WRITE_OPTION = "cs_store_write"  # execution option: this connection's transactions write
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
MIGRATIONS_LOCK = "cs-connector:migrations"


def make_engine(url: str) -> Engine:
    """An engine for ``sqlite:///path/to/file.db`` or ``postgresql+psycopg://...``."""
    parsed = _normalise(make_url(url))
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed)
    if backend == "postgresql":
        return create_engine(parsed, pool_pre_ping=True)
    raise ValueError(f"unsupported store database {backend!r}: use sqlite or postgresql")


def _normalise(url: URL) -> URL:
    """Bare ``postgresql://`` (and ``postgres://``) mean psycopg 3, the driver we ship."""
    if url.drivername in ("postgresql", "postgres"):
        return url.set(drivername="postgresql+psycopg")
    return url


def _sqlite_engine(url: URL) -> Engine:
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        path = Path(database).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        url = url.set(database=str(path))
    engine = create_engine(url)
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (_sqlite_on_begin)
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    write = conn.get_execution_options().get(WRITE_OPTION, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def write_connection(engine: Engine) -> Connection:
    """A connection whose transactions take SQLite's write lock up front."""
    return engine.connect().execution_options(**{WRITE_OPTION: True})


@contextmanager
def begin_write(engine: Engine, lock: str | None = None) -> Iterator[Connection]:
    """One committed-on-success write transaction, optionally under a named lock."""
    with write_connection(engine) as conn, conn.begin():
        if lock:
            advisory_lock(conn, lock)
        yield conn


def advisory_lock(conn: Connection, name: str) -> None:
    """Serialise a transaction against others taking the same name (until it ends).

    PostgreSQL takes a transaction-scoped advisory lock; SQLite's write lock already does it.
    """
    if conn.dialect.name != "postgresql":
        return
    key = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), signed=True)
    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def upsert_insert(conn: Connection, table: Table) -> sqlite.Insert | postgresql.Insert:
    """The dialect's INSERT with ``on_conflict_do_update`` (same signature on both)."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    if conn.dialect.name == "sqlite":
        return sqlite.insert(table)
    raise ValueError(f"no upsert for {conn.dialect.name!r}")


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration without an ini file; ``env.py`` runs on ``connection``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to ``revision``; a no-op when already there."""
    with begin_write(engine, lock=MIGRATIONS_LOCK) as conn:
        command.upgrade(alembic_config(conn), revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, ``None`` before the first upgrade."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    """The newest revision this code ships."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
