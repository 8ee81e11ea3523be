"""Bulk API 2.0 ingest jobs in the outbox: submitted in one cycle, polled in the next ones.

A big plan (an initial load) goes to Salesforce as ingest jobs whose rows sit in the outbox as
``sent`` with ``job_id = bulk:<id>``. Each push first polls those jobs once (never a blocking
wait): finished ones update the ledger; running ones keep their records (and those records'
children) out of the new plan's writes, so nothing is sent twice.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from connector.errors import ApiError
from connector.push import ledger as book
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
    """Poll every open job once; returns what is still in flight and per-target counts done."""
    from connector.push.bulk import BulkJob

    with engine.connect() as conn:
        rows = conn.execute(
            select(outbox)
            .where(outbox.c.status == "sent", outbox.c.job_id.like(f"{PREFIX}%"))
            .order_by(outbox.c.id)
        ).all()
    by_job: dict[str, list[Any]] = {}
    for r in rows:
        by_job.setdefault(r.job_id, []).append(r)
    in_flight: InFlight = set()
    done: dict[str, int] = {}
    for job_id, group in by_job.items():
        writes = [book.write_from_json(r.write) for r in group]
        target = targets[writes[0].target]
        job = BulkJob(
            job_id=job_id.removeprefix(PREFIX),
            target=target.output,
            external_ids=tuple(w.external_id for w in writes),
            operation=kind(writes[0], target),
            crm_ids=tuple(w.crm_id or "" for w in writes)
            if target.by_id or writes[0].op == "delete"
            else (),
        )
        try:
            results = writer.poll(job)
        except ApiError as exc:
            log.warning("Bulk job %s: poll failed, polled again next cycle: %s", job_id, exc)
            results = None
        if results is None:
            in_flight.update((w.target, w.external_id) for w in writes)
            continue
        by_ext = {r.external_id: r for r in results}
        with UnitOfWork(engine) as uow:
            landed: list[tuple[Write, str | None, int]] = []
            for row, w in zip(group, writes, strict=True):
                res = by_ext.get(w.external_id)
                if res is not None and res.ok:
                    landed.append((w, res.crm_id, row.id))
                    done[w.target] = done.get(w.target, 0) + 1
                else:
                    code = res.code if res is not None else "NO_RESULT"
                    message = res.message if res is not None else "no result for this record"
                    transient = code in ("UNPROCESSED", "BULK_JOB_FAILED", "NO_RESULT")
                    book.failed(uow.conn, row.run_id, w, code, message, now, transient=transient)
                    book.mark(uow.conn, [row.id], "failed", now, code, message)
            book.landed(uow.conn, landed, now)
            uow.commit()
    return in_flight, done


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
