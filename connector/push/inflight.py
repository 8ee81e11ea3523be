"""Bulk API 2.0 ingest jobs in the outbox: submitted in one cycle, polled in the next ones.

A big plan (an initial load) goes to Salesforce as ingest jobs whose rows sit in the outbox as
``sent`` with ``job_id = bulk:<id>``. Each push first polls those jobs once (never a blocking
wait): finished ones update the ledger; running ones keep their records (and those records'
children) out of the new plan's writes, so nothing is sent twice.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select

from connector.errors import ApiError
from connector.push import ledger as book
from connector.push.ledger import LANDED_CHUNK
from connector.push.salesforce import kind
from connector.reconcile.model import Write
from connector.store.schema import outbox
from connector.store.uow import UnitOfWork
from connector.targets import Target

log = logging.getLogger(__name__)
PREFIX = "bulk:"
InFlight = set[tuple[str, str]]  # (target, External Id)


def poll(
    engine: Engine, writer: Any, targets: Mapping[str, Target], now: datetime
) -> tuple[InFlight, dict[str, int]]:
    """Poll every open job once; returns what is still in flight and per-target counts done.

    Job by job, and a finished job's results read from its result files a row at a time and
    recorded a thousand at a time: a cycle at scale M lands 55,000 records, whose outbox
    rows, writes and results read all at once peaked at ~430 MB.
    """
    with engine.connect() as conn:
        job_ids = [
            r.job_id
            for r in conn.execute(
                select(outbox.c.job_id, func.min(outbox.c.id).label("first"))
                .where(outbox.c.status == "sent", outbox.c.job_id.like(f"{PREFIX}%"))
                .group_by(outbox.c.job_id)
                .order_by("first")
            )
        ]
    in_flight: InFlight = set()
    done: dict[str, int] = {}
    for job_id in job_ids:
        _poll_one(engine, writer, targets, now, job_id, in_flight, done)
    return in_flight, done


def _job_of(engine: Engine, targets: Mapping[str, Target], job_id: str) -> tuple[Target, str, int]:
    """The job's object, operation and size, from its outbox rows (the first one decoded)."""
    with engine.connect() as conn:
        base = select(outbox.c.write).where(outbox.c.job_id == job_id, outbox.c.status == "sent")
        first = book.write_from_json(conn.execute(base.order_by(outbox.c.id).limit(1)).scalar_one())
        size = conn.execute(
            select(func.count()).where(outbox.c.job_id == job_id, outbox.c.status == "sent")
        ).scalar_one()
    target = targets[first.target]
    return target, kind(first, target), int(size)


def _rows_by_key(engine: Engine, job_id: str, by_id: bool) -> dict[str, int]:
    """The job's results' key (External Id; Id for updates by Id and deletes) -> outbox row."""
    keys: dict[str, int] = {}
    with engine.connect() as conn:
        column = outbox.c.write if by_id else outbox.c.external_id
        query = select(outbox.c.id, column).where(
            outbox.c.job_id == job_id, outbox.c.status == "sent"
        )
        for row_id, value in conn.execute(query):
            key = (book.write_from_json(value).crm_id or "") if by_id else value
            keys[key] = row_id
    return keys


def _poll_one(
    engine: Engine,
    writer: Any,
    targets: Mapping[str, Target],
    now: datetime,
    job_id: str,
    in_flight: InFlight,
    done: dict[str, int],
) -> None:
    target, operation, size = _job_of(engine, targets, job_id)
    try:
        finished = writer.finished(job_id.removeprefix(PREFIX), target.output, operation, size)
    except ApiError as exc:
        log.warning("Bulk job %s: poll failed, polled again next cycle: %s", job_id, exc)
        finished = None
    if finished is None:
        with engine.connect() as conn:
            query = select(outbox.c.external_id).where(
                outbox.c.job_id == job_id, outbox.c.status == "sent"
            )
            in_flight.update((target.output, e) for e in conn.execute(query).scalars())
        return
    rows = _rows_by_key(engine, job_id, by_id=operation != "upsert")
    landed = 0
    chunk: list[tuple[int, Any]] = []
    for key, result in finished.rows:
        row_id = rows.pop(key, None)  # a key seen twice: its first result counts
        if row_id is None:
            continue
        chunk.append((row_id, result))
        if len(chunk) == LANDED_CHUNK:
            landed += _record_chunk(engine, chunk, now)
            chunk = []
    code, message = finished.leftover
    no_result = _NoResult(code, message)
    chunk.extend((row_id, no_result) for row_id in rows.values())  # rows no result named
    del rows
    for start in range(0, len(chunk), LANDED_CHUNK):
        landed += _record_chunk(engine, chunk[start : start + LANDED_CHUNK], now)
    done[target.output] = done.get(target.output, 0) + landed


@dataclass(frozen=True, slots=True)
class _NoResult:
    """A record no result of its finished job names, recorded like a failed ``BulkResult``."""

    code: str
    message: str
    ok: bool = False
    crm_id: str | None = None


def _record_chunk(engine: Engine, chunk: Sequence[tuple[int, Any]], now: datetime) -> int:
    """A thousand rows of a finished job (outbox row, its result) into the ledger and outbox;
    how many landed."""
    with UnitOfWork(engine) as uow:
        stored = book.sent_writes(uow.conn, [row_id for row_id, _ in chunk])
        landed: list[tuple[Write, str | None, int]] = []
        for row_id, res in chunk:
            w, run_id = stored[row_id]
            if res.ok:
                landed.append((w, res.crm_id, row_id))
                continue
            transient = res.code in ("UNPROCESSED", "BULK_JOB_FAILED", "NO_RESULT")
            book.failed(uow.conn, run_id, w, res.code, res.message, now, transient=transient)
            book.mark(uow.conn, [row_id], "failed", now, res.code, res.message)
        book.landed(uow.conn, landed, now)
        uow.commit()
    return len(landed)


def submit(engine: Engine, writer: Any, spool: Any, now: datetime) -> int:
    """Send a spool's writes (``bulk.Spool``, tagged with their outbox rows) as ingest jobs
    and mark those rows as in flight; jobs made."""
    jobs = writer.submit_spool(spool)
    with UnitOfWork(engine) as uow:
        for job in jobs:
            for start in range(0, len(job.tags), LANDED_CHUNK):
                rows = job.tags[start : start + LANDED_CHUNK]
                book.mark(uow.conn, rows, "sent", now, job_id=f"{PREFIX}{job.job_id}")
        uow.commit()
    return len(jobs)
