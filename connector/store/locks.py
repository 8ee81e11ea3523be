"""Job locks in the store: two processes never run the same job at once.

A lock is one ``job_locks`` row (job, holder, acquired_at, expires_at). Taking it is one
statement — ``INSERT ... ON CONFLICT (job) DO UPDATE ... WHERE expires_at < now OR holder = me``
— inside a write transaction, so of two processes racing for a free or expired lock exactly one
wins (PostgreSQL re-checks the WHERE against the row the other committed; SQLite's write lock,
taken at BEGIN, serialises the two). A holder that dies leaves its row to expire; a live holder
keeps it alive with ``refresh`` (``held`` does so from a heartbeat thread).

Times come from this machine's clock (aware UTC): hosts sharing a store need their clocks in
step to within a small fraction of the TTL, which NTP gives.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, and_, delete, or_, select, update

from connector.store.engine import upsert_insert
from connector.store.schema import job_locks
from connector.store.uow import UnitOfWork

log = logging.getLogger(__name__)

Ttl = timedelta | float  # a timedelta, or seconds


def default_holder() -> str:
    """``hostname:pid:uuid`` — unique per call, readable in ``status``."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}"


def acquire(
    engine: Engine, job: str, holder: str, ttl: Ttl, *, now: datetime | None = None
) -> bool:
    """Take the lock of ``job`` for ``ttl``; True when ``holder`` now has it.

    Succeeds when nobody holds it, when the last holder's lock has expired, or when ``holder``
    already holds it (its expiry is then pushed out, as ``refresh`` does).
    """
    at = now or _now()
    expires = at + _ttl(ttl)
    with UnitOfWork(engine) as uow:
        conn = uow.conn
        stmt = upsert_insert(conn, job_locks).values(
            job=job, holder=holder, acquired_at=at, expires_at=expires
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[job_locks.c.job],
            set_={
                "holder": stmt.excluded.holder,
                "acquired_at": stmt.excluded.acquired_at,
                "expires_at": stmt.excluded.expires_at,
            },
            where=or_(job_locks.c.expires_at < at, job_locks.c.holder == holder),
        )
        conn.execute(stmt)
        owner = conn.execute(select(job_locks.c.holder).where(job_locks.c.job == job)).scalar()
        uow.commit()
    return owner == holder


def refresh(
    engine: Engine, job: str, holder: str, ttl: Ttl, *, now: datetime | None = None
) -> bool:
    """Extend ``holder``'s lock to ``ttl`` from now; False when it no longer holds it."""
    at = now or _now()
    with UnitOfWork(engine) as uow:
        result = uow.conn.execute(
            update(job_locks)
            .where(and_(job_locks.c.job == job, job_locks.c.holder == holder))
            .values(expires_at=at + _ttl(ttl))
        )
        uow.commit()
    return result.rowcount == 1


def release(engine: Engine, job: str, holder: str) -> None:
    """Give the lock up; a no-op unless ``holder`` holds it."""
    with UnitOfWork(engine) as uow:
        uow.conn.execute(
            delete(job_locks).where(and_(job_locks.c.job == job, job_locks.c.holder == holder))
        )
        uow.commit()


def holder_of(engine: Engine, job: str, *, now: datetime | None = None) -> str | None:
    """Who holds ``job``'s lock now (None when free or expired)."""
    at = now or _now()
    with engine.connect() as conn:
        row = conn.execute(
            select(job_locks.c.holder).where(
                and_(job_locks.c.job == job, job_locks.c.expires_at >= at)
            )
        ).first()
    return None if row is None else str(row[0])


@contextmanager
def held(
    engine: Engine,
    job: str,
    holder: str,
    ttl: Ttl,
    *,
    heartbeat: float | None = None,
    on_lost: Callable[[], None] | None = None,
) -> Iterator[bool]:
    """``with held(engine, "cycle", me, 300) as mine:`` — ``mine`` says whether we got it.

    While the block runs, a heartbeat thread refreshes the lock every ``heartbeat`` seconds
    (default a third of the TTL), so a job may run far longer than the TTL and a crashed one
    frees it within a TTL. Should a refresh find the lock taken over (this process stalled past
    the TTL), ``on_lost`` is called. The lock is released on the way out.
    """
    if not acquire(engine, job, holder, ttl):
        yield False
        return
    seconds = _ttl(ttl).total_seconds()
    beat = _Heartbeat(engine, job, holder, ttl, heartbeat or seconds / 3, on_lost)
    beat.start()
    try:
        yield True
    finally:
        beat.stop()
        try:
            release(engine, job, holder)
        except Exception:
            log.exception("could not release the lock of job %s (it expires by itself)", job)


class _Heartbeat(threading.Thread):
    def __init__(
        self,
        engine: Engine,
        job: str,
        holder: str,
        ttl: Ttl,
        every: float,
        on_lost: Callable[[], None] | None,
    ) -> None:
        super().__init__(name=f"lock-heartbeat-{job}", daemon=True)
        self._engine, self._job, self._holder, self._ttl = engine, job, holder, ttl
        self._every, self._on_lost = every, on_lost
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(self._every):
            try:
                mine = refresh(self._engine, self._job, self._holder, self._ttl)
            except Exception:
                log.warning(
                    "could not refresh the lock of job %s; retrying", self._job, exc_info=True
                )
                continue
            if not mine:
                log.error("the lock of job %s was taken over by another process", self._job)
                if self._on_lost is not None:
                    self._on_lost()
                return

    def stop(self) -> None:
        self._done.set()
        self.join()


def _ttl(ttl: Ttl) -> timedelta:
    value = ttl if isinstance(ttl, timedelta) else timedelta(seconds=ttl)
    if value <= timedelta(0):
        raise ValueError(f"lock TTL must be positive, got {value}")
    return value


def _now() -> datetime:
    return datetime.now(UTC)
