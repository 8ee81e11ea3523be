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

    Job by job, and a finished job's rows read back a thousand at a time: a cycle at scale M
    lands 55,000 records, whose outbox rows and writes read all at once peaked at ~430 MB.
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


@dataclass(frozen=True, slots=True)
class _Row:
    """What polling needs of one outbox row before its job's results are in."""

    id: int
    external_id: str
    crm_id: str


def _job_of(
    engine: Engine, targets: Mapping[str, Target], job_id: str
) -> tuple[Target, Any, list[_Row]]:
    """The job as submitted (``BulkJob``), rebuilt from its outbox rows (one decoded at a time)."""
    from connector.push.bulk import BulkJob

    rows: list[_Row] = []
    first: Write | None = None
    with engine.connect() as conn:
        query = (
            select(outbox.c.id, outbox.c.external_id, outbox.c.write)
            .where(outbox.c.job_id == job_id, outbox.c.status == "sent")
            .order_by(outbox.c.id)
        )
        by_id = False
        for r in conn.execute(query):
            if first is None:
                first = book.write_from_json(r.write)
                by_id = targets[first.target].by_id or first.op == "delete"
            # Updates by Id and deletes are matched to their results by Id.
            crm_id = (book.write_from_json(r.write).crm_id or "") if by_id else ""
            rows.append(_Row(r.id, r.external_id, crm_id))
    assert first is not None
    target = targets[first.target]
    job = BulkJob(
        job_id=job_id.removeprefix(PREFIX),
        target=target.output,
        external_ids=tuple(r.external_id for r in rows),
        operation=kind(first, target),
        crm_ids=tuple(r.crm_id for r in rows) if by_id else (),
    )
    return target, job, rows


def _poll_one(
    engine: Engine,
    writer: Any,
    targets: Mapping[str, Target],
    now: datetime,
    job_id: str,
    in_flight: InFlight,
    done: dict[str, int],
) -> None:
    target, job, rows = _job_of(engine, targets, job_id)
    try:
        results = writer.poll(job)
    except ApiError as exc:
        log.warning("Bulk job %s: poll failed, polled again next cycle: %s", job_id, exc)
        results = None
    if results is None:
        in_flight.update((target.output, r.external_id) for r in rows)
        return
    by_ext = {r.external_id: r for r in results}
    del results
    for start in range(0, len(rows), LANDED_CHUNK):
        chunk = rows[start : start + LANDED_CHUNK]
        landed = _record_chunk(engine, chunk, by_ext, now)
        done[target.output] = done.get(target.output, 0) + landed


def _record_chunk(
    engine: Engine, chunk: Sequence[_Row], by_ext: Mapping[str, Any], now: datetime
) -> int:
    """A thousand rows of a finished job into the ledger and outbox; how many landed."""
    with UnitOfWork(engine) as uow:
        query = select(outbox.c.id, outbox.c.run_id, outbox.c.write).where(
            outbox.c.id.in_([r.id for r in chunk])
        )
        stored = {r.id: r for r in uow.conn.execute(query)}
        landed: list[tuple[Write, str | None, int]] = []
        for row in chunk:
            w = book.write_from_json(stored[row.id].write)
            res = by_ext.get(row.external_id)
            if res is not None and res.ok:
                landed.append((w, res.crm_id, row.id))
                continue
            code = res.code if res is not None else "NO_RESULT"
            message = res.message if res is not None else "no result for this record"
            transient = code in ("UNPROCESSED", "BULK_JOB_FAILED", "NO_RESULT")
            run_id = stored[row.id].run_id
            book.failed(uow.conn, run_id, w, code, message, now, transient=transient)
            book.mark(uow.conn, [row.id], "failed", now, code, message)
        book.landed(uow.conn, landed, now)
        uow.commit()
    return len(landed)


def submit(
    engine: Engine,
    writer: Any,
    target: Target,
    writes: Sequence[Write],
    outbox_id: Mapping[int, int],
    now: datetime,
) -> int:
    """Send ``writes`` as ingest jobs and mark their outbox rows as in flight; jobs made."""
    jobs = writer.submit(target, writes, now)
    by_ext = {w.external_id: w for w in writes}
    with UnitOfWork(engine) as uow:
        for job in jobs:
            rows = [outbox_id[id(by_ext[e])] for e in job.external_ids]
            book.mark(uow.conn, rows, "sent", now, job_id=f"{PREFIX}{job.job_id}")
        uow.commit()
    return len(jobs)
