"""Unit of work: one connection, one transaction, rolled back unless committed.

Used per page (its rows and its sync state commit together) and per push batch, so a crash at
any point leaves the store as of the last commit.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy import Connection, Engine

from connector.store.engine import advisory_lock, write_connection


class UnitOfWork:
    """``with UnitOfWork(engine) as uow: ...; uow.commit()`` — anything uncommitted is undone.

    The transaction is a write transaction (SQLite takes its write lock at BEGIN), and after
    ``commit()`` the next statement opens a new one, which is again undone unless committed.
    ``lock`` names an advisory lock (PostgreSQL) held until that first transaction ends.
    """

    def __init__(self, engine: Engine, lock: str | None = None) -> None:
        self._engine = engine
        self._lock = lock
        self._conn: Connection | None = None

    def __enter__(self) -> Self:
        conn = write_connection(self._engine)
        try:
            conn.begin()
            if self._lock:
                advisory_lock(conn, self._lock)
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                self._rollback(conn)
            finally:
                conn.close()

    @property
    def conn(self) -> Connection:
        """The connection inside the transaction (only while the ``with`` block runs)."""
        if self._conn is None:
            raise RuntimeError("UnitOfWork used outside its with block")
        return self._conn

    def commit(self) -> None:
        """Make everything done so far permanent."""
        self.conn.commit()

    def rollback(self) -> None:
        """Undo everything since the last commit."""
        self._rollback(self.conn)

    @staticmethod
    def _rollback(conn: Connection) -> None:
        if conn.in_transaction():
            conn.rollback()
