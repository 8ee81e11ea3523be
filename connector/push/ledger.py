"""The outbox and the ledger in the store: what push is about to write, and what it wrote.

The plan goes into the outbox before any call; each batch's results update the ledger and mark
its outbox rows in one transaction, so a crash leaves either the batch recorded or the batch
still pending (and an upsert by External Id repeats harmlessly).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, select, update

from connector.reconcile.model import Observation, Write
from connector.store.engine import upsert_insert
from connector.store.schema import ledger, outbox, record_errors

FREE_RETRIES = 3
RETRY_BASE = timedelta(minutes=15)
RETRY_MAX = timedelta(hours=6)


OUTBOX_CHUNK = 1_000  # rows a statement: one multi-row INSERT ... RETURNING each


def write_outbox(
    conn: Connection, run_id: int | None, writes: Sequence[Write], now: datetime
) -> list[int]:
    """The plan's writes as pending outbox rows; their ids in plan order.

    A thousand rows a statement (``RETURNING`` the ids in the rows' order): an initial load's
    90,000 writes took ~90,000 round trips one row at a time.
    """
    stmt = outbox.insert().returning(outbox.c.id, sort_by_parameter_order=True)
    ids: list[int] = []
    for start in range(0, len(writes), OUTBOX_CHUNK):
        rows = [
            {
                "run_id": run_id,
                "target": w.target,
                "external_id": w.external_id,
                "op": w.op,
                "write": _jsonable(w),
                "status": "pending",
                "created_at": now,
            }
            for w in writes[start : start + OUTBOX_CHUNK]
        ]
        ids.extend(int(r[0]) for r in conn.execute(stmt, rows))
    return ids


def supersede_stale(conn: Connection, keep_targets: Iterable[str] = ()) -> int:
    """Outbox rows a crashed or stopped run left: the new plan covers them (Salesforce
    upserts repeat harmlessly); rows in a Bulk or Zendesk job are kept for polling."""
    keep = list(keep_targets)
    in_job = outbox.c.job_id.is_not(None) & (outbox.c.status == "sent")
    query = update(outbox).where(outbox.c.status.in_(("pending", "sent")), ~in_job)
    if keep:
        query = query.where(outbox.c.target.not_in(keep))
    return conn.execute(query.values(status="superseded")).rowcount or 0


def mark(
    conn: Connection,
    ids: Sequence[int],
    status: str,
    now: datetime,
    code: str | None = None,
    message: str | None = None,
    job_id: str | None = None,
) -> None:
    if not ids:
        return
    values: dict[str, Any] = {"status": status, "code": code, "message": message}
    if status in ("done", "failed", "superseded"):
        values["done_at"] = now
    if job_id is not None:
        values["job_id"] = job_id
    conn.execute(update(outbox).where(outbox.c.id.in_(list(ids))).values(**values))


def observe(conn: Connection, observations: Sequence[Observation]) -> None:
    """Records seen closed or deleted by a person: closed in the ledger, once."""
    for o in observations:
        if o.closed_at is None:  # reopened by a person
            conn.execute(
                update(ledger)
                .where(ledger.c.target == o.target, ledger.c.external_id == o.external_id)
                .values(closed_at=None, closed_by=None)
            )
            continue
        conn.execute(
            update(ledger)
            .where(
                and_(
                    ledger.c.target == o.target,
                    ledger.c.external_id == o.external_id,
                    ledger.c.closed_at.is_(None),
                )
            )
            .values(closed_at=o.closed_at, closed_by=o.closed_by, updated_at=o.closed_at)
        )
        if (
            conn.execute(
                select(ledger.c.key).where(
                    ledger.c.target == o.target, ledger.c.external_id == o.external_id
                )
            ).first()
            is None
        ):
            # Adopted from the CRM (a rebuilt store): keep the closing in the ledger.
            from connector.reconcile.plan import base_key, identity_of

            key = base_key(o.external_id)
            conn.execute(
                ledger.insert().values(
                    target=o.target,
                    external_id=o.external_id,
                    key=key,
                    identity=identity_of(o.target, key),
                    rule=key.split(":", 1)[0],
                    closed_at=o.closed_at,
                    closed_by=o.closed_by,
                    created_at=o.closed_at,
                    updated_at=o.closed_at,
                )
            )


def succeeded(conn: Connection, w: Write, crm_id: str | None, now: datetime) -> None:
    """The ledger after a successful write: the hash and values written, errors cleared."""
    succeeded_many(conn, [(w, crm_id)], now)


def succeeded_many(
    conn: Connection, done: Sequence[tuple[Write, str | None]], now: datetime
) -> None:
    """``succeeded`` for a whole batch in one statement (a push writes 200 records a call)."""
    if not done:
        return
    rows = [_ledger_row(w, crm_id, now) for w, crm_id in done]
    stmt = upsert_insert(conn, ledger)
    keep = ("target", "external_id", "created_at")
    changes: dict[str, Any] = {k: stmt.excluded[k] for k in rows[0] if k not in keep}
    # An update that sets no status keeps the one the connector set on create.
    changes["status_set"] = func.coalesce(stmt.excluded.status_set, ledger.c.status_set)
    # Only a close or delete closes; any other write keeps what the ledger knows (a person's
    # closing, observed before the write that records its closed date).
    changes["closed_at"] = func.coalesce(stmt.excluded.closed_at, ledger.c.closed_at)
    changes["closed_by"] = func.coalesce(stmt.excluded.closed_by, ledger.c.closed_by)
    conn.execute(
        stmt.on_conflict_do_update(index_elements=["target", "external_id"], set_=changes), rows
    )


LANDED_CHUNK = 1000  # rows per statement: under every backend's limit on bound parameters


def landed(conn: Connection, done: Sequence[tuple[Write, str | None, int]], now: datetime) -> None:
    """Records a polled job reports written — ``(write, crm id, outbox id)`` — into the ledger
    and their outbox rows ``done``, a thousand per statement: a Bulk job at scale M lands
    55,000 records, which one upsert and one update each took minutes to record."""
    for start in range(0, len(done), LANDED_CHUNK):
        chunk = done[start : start + LANDED_CHUNK]
        succeeded_many(conn, [(w, crm_id) for w, crm_id, _ in chunk], now)
        mark(conn, [row_id for _, _, row_id in chunk], "done", now)


def _ledger_row(w: Write, crm_id: str | None, now: datetime) -> dict[str, Any]:
    closing = w.op in ("close", "delete")
    return {
        "target": w.target,
        "external_id": w.external_id,
        "key": w.key,
        "identity": w.identity,
        "rule": w.rule,
        "account_id": w.account_id,
        "crm_id": crm_id or w.crm_id,
        "hash": w.hash or None,
        "written": dict(w.hashed) if w.op != "delete" else None,
        "status_set": w.status_set,
        "created_at": now,
        "updated_at": now,
        "error_code": None,
        "error_message": None,
        "error_hash": None,
        "attempts": 0,
        "retry_at": None,
        "closed_at": now if closing else None,
        "closed_by": "connector" if closing else None,
    }


def failed(
    conn: Connection,
    run_id: int | None,
    w: Write,
    code: str | None,
    message: str | None,
    now: datetime,
    *,
    transient: bool,
) -> None:
    """A failed write: transient ones retry after a growing pause, the rest wait for a change."""
    current = conn.execute(
        select(ledger.c.attempts).where(
            ledger.c.target == w.target, ledger.c.external_id == w.external_id
        )
    ).first()
    attempts = (current.attempts if current else 0) + 1
    retry_at = None  # the next cycle retries, up to FREE_RETRIES; then the pause grows
    if transient and attempts > FREE_RETRIES:
        retry_at = now + min(RETRY_MAX, RETRY_BASE * 2 ** (attempts - FREE_RETRIES - 1))
    errors = {
        "error_code": code,
        "error_message": message,
        "error_hash": None if transient else (w.wait_hash or w.hash),
        "attempts": attempts,
        "retry_at": retry_at,
        "updated_at": now,
    }
    if current is None:
        conn.execute(
            ledger.insert().values(
                target=w.target,
                external_id=w.external_id,
                key=w.key,
                identity=w.identity,
                rule=w.rule,
                account_id=w.account_id,
                crm_id=w.crm_id,
                created_at=now,
                **errors,
            )
        )
    else:
        conn.execute(
            update(ledger)
            .where(ledger.c.target == w.target, ledger.c.external_id == w.external_id)
            .values(**errors)
        )
    if run_id is not None:
        conn.execute(
            record_errors.insert().values(
                run_id=run_id,
                stream=f"push:{w.target}",
                record_id=w.external_id,
                code=code,
                message=message or "",
                at=now,
            )
        )


_WRITE_FIELDS = tuple(f.name for f in dataclasses.fields(Write))


def _jsonable(w: Write) -> dict[str, Any]:
    """The write as JSON-ready data: ``dataclasses.asdict`` without its deep copy (the values
    are plain JSON already, and the row is serialised at once)."""
    out = {name: getattr(w, name) for name in _WRITE_FIELDS}
    out.update(values=dict(w.values), hashed=dict(w.hashed), changed=list(w.changed))
    return out


def write_from_json(data: Mapping[str, Any]) -> Write:
    """A planned write as the outbox stored it (``_jsonable``), for jobs polled later."""
    fields = dict(data)
    fields["changed"] = tuple(fields.get("changed") or ())
    return Write(**fields)


def sent_writes(conn: Connection, row_ids: Sequence[int]) -> dict[int, tuple[Write, int | None]]:
    """Outbox rows by id: the write each carried (``write_from_json``) and its run."""
    query = select(outbox.c.id, outbox.c.run_id, outbox.c.write).where(outbox.c.id.in_(row_ids))
    return {r.id: (write_from_json(r.write), r.run_id) for r in conn.execute(query)}
