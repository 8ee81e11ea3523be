"""The push shell: outbox first, then Salesforce parents, children, then Zendesk, batch by batch.

Each batch is one API call and one store transaction (ledger + outbox). Zendesk jobs are
submitted and polled once per cycle, never waited on: their ticket ids reach the ledger when a
poll finds the job done, and the CTA gets its ticket id in the next plan.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select

from connector.errors import ApiError, FatalApiError, QuotaExhausted, TransientApiError
from connector.push import inflight
from connector.push import ledger as book
from connector.push import salesforce as sfw
from connector.reconcile.model import Observation, Plan, Write
from connector.reconcile.plan import ZENDESK
from connector.store.schema import desired_outputs, ledger, outbox
from connector.store.uow import UnitOfWork
from connector.targets import Target

log = logging.getLogger(__name__)
Progress = Callable[[str, int], None]  # (target, records done in this batch)


@dataclass
class _Failed:
    """What did not land in this push: records (their children wait) and, for each parent, that
    one of its children failed (an ``after_siblings`` record such as a milestone waits)."""

    records: set[tuple[str, str]] = field(default_factory=set)
    parents: set[tuple[str, str]] = field(default_factory=set)

    def add(self, w: Write, t: Target | None) -> None:
        self.records.add((w.target, w.external_id))
        if t is not None and t.parent is not None and w.parent_external_id:
            self.parents.add((t.parent.output, w.parent_external_id))

    def __bool__(self) -> bool:
        return bool(self.records)


@dataclass
class TargetCounts:
    created: int = 0
    updated: int = 0
    closed: int = 0
    deleted: int = 0
    failed: int = 0
    pending: int = 0  # in a Zendesk job not yet done

    def add(self, op: str) -> None:
        name = {"create": "created", "update": "updated", "close": "closed", "delete": "deleted"}
        setattr(self, name[op], getattr(self, name[op]) + 1)


@dataclass
class PushReport:
    """What one push did, per output object, and how many calls it made."""

    status: str = "completed"  # completed | stopped | failed
    counts: dict[str, TargetCounts] = field(default_factory=dict)
    salesforce_calls: int = 0
    zendesk_calls: int = 0
    zendesk_done: int = 0  # tickets whose job finished in this push
    bulk_jobs: int = 0  # Bulk API 2.0 ingest jobs submitted
    retried: dict[str, int] = field(default_factory=dict)  # error code -> records sent again
    error: str | None = None

    def count(self, target: str) -> TargetCounts:
        return self.counts.setdefault(target, TargetCounts())


def push(
    engine: Engine,
    plan: Plan,
    *,
    salesforce: sfw.CollectionsApi,
    targets: Mapping[str, Target],
    now: datetime,
    run_id: int | None = None,
    zendesk: Any | None = None,
    cta_url: Callable[[str], str] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    progress: Progress | None = None,
    only: set[str] | None = None,
    bulk: Any | None = None,
    bulk_threshold: int = 10_000,
) -> PushReport:
    """Write ``plan`` (or its ``only`` targets) and record every result."""
    session = PushSession(
        engine,
        salesforce=salesforce,
        targets=targets,
        now=now,
        run_id=run_id,
        zendesk=zendesk,
        cta_url=cta_url,
        should_stop=should_stop,
        progress=progress,
        bulk=bulk,
        bulk_threshold=bulk_threshold,
    )
    session.begin()
    writes = [w for w in plan.writes if only is None or w.target in only]
    session.send(writes, plan.observations if only is None else [])
    return session.report


@dataclass
class _BulkObject:
    """One object's writes on the Bulk path while its parts come (``send(more=True)``): in
    memory up to the threshold (they go by Collections at the object's end), past it on disk
    in a ``Spool`` (they go as jobs). Of the spooled writes it keeps only what a later object
    reads: parents' External Ids (children and tickets wait for a job) and, for a child, its
    parent's (a job that fails holds the parent's ``after_siblings`` record)."""

    writes: list[Write] = field(default_factory=list)
    ids: dict[int, int] = field(default_factory=dict)  # id(write) -> outbox row
    direct: bool = False  # cannot pass the threshold: by Collections as its parts come
    spool: Any = None  # a ``bulk.Spool`` once past the threshold
    count: int = 0
    keys: list[str] = field(default_factory=list)
    parents: set[str] = field(default_factory=set)


class PushSession:
    """One push, fed a plan a part at a time (``send``: one object's writes, in write order).

    A cycle plans and pushes one object at a time so that only that object's writes are in
    memory; what a later part needs of an earlier one stays here: records that failed (their
    children wait), records sent in a Bulk job (their children and tickets wait), and the
    Zendesk creates of unknown outcome. ``begin`` polls open jobs and settles what an earlier
    run left in the outbox, once, before the first part.

    An object planned in key ranges comes in several parts (``more``): a part's short last
    Collections batch waits for the next part (calls stay ⌈n/200⌉ for the object), and on the
    Bulk path the object's writes wait, spooled to disk past the threshold, for its last part.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        salesforce: sfw.CollectionsApi,
        targets: Mapping[str, Target],
        now: datetime,
        run_id: int | None = None,
        zendesk: Any | None = None,
        cta_url: Callable[[str], str] | None = None,
        should_stop: Callable[[], bool] = lambda: False,
        progress: Progress | None = None,
        bulk: Any | None = None,
        bulk_threshold: int = 10_000,
    ) -> None:
        self.engine, self.salesforce, self.targets, self.now = engine, salesforce, targets, now
        self.run_id, self.zendesk, self.cta_url = run_id, zendesk, cta_url
        self.should_stop, self.progress = should_stop, progress
        self.bulk, self.bulk_threshold = bulk, bulk_threshold
        self.report = PushReport()
        self.in_flight: inflight.InFlight = set()  # in Bulk jobs of earlier cycles, running
        self.in_bulk: set[tuple[str, str]] = set()  # sent in this push's Bulk jobs
        self.failed = _Failed()
        self.unknown: set[str] = set()
        # An object's parts not sent yet: Collections writes of a short batch, Bulk objects.
        self.carry: list[Write] = []
        self.carry_ids: dict[int, int] = {}
        self.bulk_objects: dict[str, _BulkObject] = {}
        # Objects a later object names as parent (children wait for a parent in a job), and the
        # CTAs (their tickets do): what ``in_bulk`` needs to hold.
        self.parents = {t.parent.output for t in targets.values() if t.parent is not None}
        self.parents.add("cta")

    def begin(self) -> None:
        """Poll the open Bulk jobs, supersede what an earlier run left pending, take Zendesk
        creates of unknown outcome aside (looked up before creating), poll Zendesk jobs."""
        if self.bulk is not None:
            running, finished = inflight.poll(self.engine, self.bulk, self.targets, self.now)
            self.in_flight = running
            for target, n in finished.items():
                self.report.count(target).created += n
        with UnitOfWork(self.engine) as uow:
            self.unknown = _unknown_creates(uow.conn, self.now)
            book.supersede_stale(uow.conn, keep_targets=[ZENDESK])
            uow.commit()
        if self.zendesk is not None:
            _poll_zendesk(self.engine, self.zendesk, self.report, self.now)

    @property
    def going(self) -> bool:
        """False once the push stopped or failed: the rest waits for the next cycle."""
        return self.report.status == "completed"

    def send(
        self, writes: Sequence[Write], observations: Sequence[Observation] = (), more: bool = False
    ) -> None:
        """One part of the plan: into the outbox, then Salesforce, then Zendesk. With ``more``,
        another part of the same object follows (see the class)."""
        if self.bulk is not None:
            writes = _not_in_flight(list(writes), self.in_flight, self.targets, self.report)
        with UnitOfWork(self.engine) as uow:
            book.observe(uow.conn, observations)
            ids = book.write_outbox(uow.conn, self.run_id, writes, self.now)
            uow.commit()
        outbox_id = {id(w): i for w, i in zip(writes, ids, strict=True)}
        if not self.going:
            return
        try:
            self._salesforce([w for w in writes if w.target != ZENDESK], outbox_id, more)
            self._zendesk([w for w in writes if w.target == ZENDESK], outbox_id)
        except QuotaExhausted as exc:
            self.report.status, self.report.error = "stopped", str(exc)
            log.warning("push stopped, state kept: %s", exc)
        except TransientApiError as exc:  # a Zendesk call (writer set-up, lookup) out of retries
            self.report.status, self.report.error = "stopped", str(exc)
            log.warning("push stopped, the rest next cycle: %s", exc)
        except FatalApiError as exc:
            self.report.status, self.report.error = "failed", str(exc)
            log.error("push failed: %s", exc)

    def _salesforce(self, writes: list[Write], outbox_id: dict[int, int], more: bool) -> None:
        engine, report, now = self.engine, self.report, self.now
        if self.bulk is not None:
            writes = self._bulk_parts(writes, outbox_id, more)
        if self.carry:  # the short batch an earlier part of this object left
            writes = [*self.carry, *writes]
            outbox_id.update(self.carry_ids)
            self.carry, self.carry_ids = [], {}
        batches = sfw.batches(writes, self.targets)
        if more:  # a short batch waits for the next part
            self.carry = [w for _, _, b in batches if len(b) < sfw.BATCH for w in b]
            self.carry_ids = {id(w): outbox_id[id(w)] for w in self.carry}
            batches = [b for b in batches if len(b[2]) == sfw.BATCH]
        for t, how, batch in batches:
            if self.should_stop():
                report.status = "stopped"
                break
            batch = _drop_orphans(engine, batch, t, self.failed, outbox_id, report, now)
            if not batch:
                continue
            outcomes = _send_batch(self.salesforce, t, how, batch, self.targets, now, report)
            _record(
                engine, self.run_id, outcomes, outbox_id, report, now, self.failed, self.targets
            )
            if self.progress is not None:
                self.progress(t.output, len(batch))

    def _bulk_parts(
        self, writes: list[Write], outbox_id: dict[int, int], more: bool
    ) -> list[Write]:
        """Objects with more writes than the threshold go as ingest jobs; a child of a record
        in a job waits for it (next cycle), since it names its parent by External Id. An
        object's writes are held until its last part (``more`` false); returns the writes for
        Collections now, in plan order (their outbox rows added to ``outbox_id``)."""
        per_target: dict[str, list[Write]] = {t: [] for t in self.bulk_objects}  # open ones
        for w in writes:
            per_target.setdefault(w.target, []).append(w)
        rest: list[Write] = []
        waiting: list[Write] = []
        for target, group in per_target.items():  # plan order: parents first
            ready = _not_in_flight(group, self.in_bulk, self.targets, self.report)
            if len(ready) < len(group):  # by identity: comparing Writes by value is quadratic
                kept = {id(w) for w in ready}
                waiting.extend(w for w in group if id(w) not in kept)
            held = self.bulk_objects.get(target)
            if held is None:
                direct = more and _most_writes(self.engine, target) <= self.bulk_threshold
                held = self.bulk_objects[target] = _BulkObject(direct=direct)
            if held.direct:
                rest.extend(ready)
            else:
                self._hold(held, self.targets[target], ready, outbox_id)
            if more:
                continue  # the object's next part follows
            del self.bulk_objects[target]
            if held.spool is None:
                rest.extend(held.writes)
                outbox_id.update(held.ids)
            else:
                self._submit_spool(self.targets[target], held)
        if waiting:
            ids = [outbox_id[id(w)] for w in waiting]
            _hold_for_bulk_parent(self.engine, ids, self.now, "its parent")
        return rest

    def _hold(
        self, held: _BulkObject, t: Target, ready: list[Write], outbox_id: Mapping[int, int]
    ) -> None:
        """``ready`` into the object's held writes; past the threshold, all of them spooled."""
        held.count += len(ready)
        if held.spool is None and held.count <= self.bulk_threshold:
            held.writes.extend(ready)
            held.ids.update((id(w), outbox_id[id(w)]) for w in ready)
            return
        if held.spool is None:
            assert self.bulk is not None
            held.spool = self.bulk.spool(t, self.now)
            ready, held.writes = [*held.writes, *ready], []
            outbox_id = {**held.ids, **outbox_id}
            held.ids = {}
        for w in ready:
            held.spool.add(w, outbox_id[id(w)])
            if t.output in self.parents:
                held.keys.append(w.external_id)
            if t.parent is not None and w.parent_external_id:
                held.parents.add(w.parent_external_id)

    def _submit_spool(self, t: Target, held: _BulkObject) -> None:
        """A spooled object's jobs; its outbox rows marked as in them (or, when the jobs could
        not be submitted, its records as failed in this push: their children wait)."""
        try:
            self.report.bulk_jobs += inflight.submit(self.engine, self.bulk, held.spool, self.now)
        except TransientApiError as exc:
            log.warning("Bulk job for %s not submitted, next cycle: %s", t.output, exc)
            self.failed.records.update((t.output, e) for e in held.keys)
            if t.parent is not None:
                self.failed.parents.update((t.parent.output, p) for p in held.parents)
            return
        finally:
            held.spool.close()
        self.in_bulk.update((t.output, e) for e in held.keys)
        self.report.count(t.output).pending += held.count

    def _zendesk(self, writes: list[Write], outbox_id: Mapping[int, int]) -> None:
        # A ticket links to its CTA by Id: one whose CTA is in a Bulk job waits for it, marked
        # so: a create left pending would count as "outcome unknown" next cycle and be looked
        # up by external_id first (one call each).
        zd_writes: list[Write] = []
        held: list[Write] = []
        for w in writes:
            (held if ("cta", w.external_id) in self.in_bulk else zd_writes).append(w)
        if held:
            ids = [outbox_id[id(w)] for w in held]
            _hold_for_bulk_parent(self.engine, ids, self.now, "its CTA")
            self.report.count(ZENDESK).pending += len(held)
        if self.zendesk is None or not zd_writes or not self.going:
            return
        _push_zendesk(
            self.engine,
            self.zendesk,
            zd_writes,
            outbox_id,
            self.report,
            self.now,
            self.cta_url,
            self.unknown,
        )
        _poll_zendesk(self.engine, self.zendesk, self.report, self.now)


def _not_in_flight(
    writes: list[Write],
    in_flight: inflight.InFlight,
    targets: Mapping[str, Target],
    report: PushReport,
) -> list[Write]:
    """Records in a running Bulk job (and their children) are not planned twice."""
    keep = []
    for w in writes:
        t = targets.get(w.target)
        parent = (t.parent.output, w.parent_external_id or "") if t and t.parent else None
        if (w.target, w.external_id) in in_flight or (parent is not None and parent in in_flight):
            report.count(w.target).pending += 1
            continue
        keep.append(w)
    return keep


def _most_writes(engine: Engine, target: str) -> int:
    """The most writes an object's plan can hold: one a desired output, two a ledger row (a
    person reopened it: its closed date cleared; then its update, or its rule went quiet)."""
    with engine.connect() as conn:
        desired = conn.execute(
            select(func.count()).where(desired_outputs.c.object == target)
        ).scalar_one()
        rows = conn.execute(select(func.count()).where(ledger.c.target == target)).scalar_one()
    return int(desired) + 2 * int(rows)


def _hold_for_bulk_parent(engine: Engine, ids: Sequence[int], now: datetime, whose: str) -> None:
    """Outbox rows whose parent (a Salesforce parent, or a ticket's CTA) is in a Bulk job still
    running: superseded, not left pending, so the next cycle plans them afresh (a pending
    create would count as "outcome unknown" and be looked up first)."""
    with UnitOfWork(engine) as uow:
        message = f"{whose} is in a Bulk job; sent next cycle"
        book.mark(uow.conn, ids, "superseded", now, "PARENT_IN_BULK_JOB", message)
        uow.commit()


def _send_batch(
    api: sfw.CollectionsApi,
    t: Target,
    how: str,
    batch: list[Write],
    targets: Mapping[str, Target],
    now: datetime,
    report: PushReport,
) -> list[sfw.Outcome]:
    report.salesforce_calls += 1
    try:
        outcomes = sfw.send(api, t, how, batch, targets, now)
    except TransientApiError as exc:  # retries spent: the whole batch waits for a later cycle
        return [
            sfw.Outcome(w, False, code=exc.code or "TRANSIENT", message=str(exc), retry=True)
            for w in batch
        ]
    # Row locks clear in seconds, and DUPLICATE_VALUE on an upsert means a concurrent create
    # won the race (the record exists now, so the upsert updates it): one more call, at once.
    again = [o.write for o in outcomes if o.transient and how != "delete"]
    for o in outcomes:
        if o.transient and how != "delete":
            code = o.code or "TRANSIENT"
            report.retried[code] = report.retried.get(code, 0) + 1
    if again:
        report.salesforce_calls += 1
        try:
            second = {id(o.write): o for o in sfw.send(api, t, how, again, targets, now)}
        except TransientApiError:
            return outcomes
        outcomes = [second.get(id(o.write), o) for o in outcomes]
    return outcomes


def _record(
    engine: Engine,
    run_id: int | None,
    outcomes: Sequence[sfw.Outcome],
    outbox_id: Mapping[int, int],
    report: PushReport,
    now: datetime,
    failed: _Failed,
    targets: Mapping[str, Target],
) -> None:
    with UnitOfWork(engine) as uow:
        done, bad = [], []
        book.succeeded_many(uow.conn, [(o.write, o.crm_id) for o in outcomes if o.ok], now)
        for o in outcomes:
            w = o.write
            if o.ok:
                report.count(w.target).add(w.op)
                done.append(outbox_id[id(w)])
            else:
                book.failed(uow.conn, run_id, w, o.code, o.message, now, transient=o.transient)
                report.count(w.target).failed += 1
                failed.add(w, targets.get(w.target))
                bad.append((outbox_id[id(w)], o.code, o.message))
                log.warning("%s %s failed: %s: %s", w.target, w.external_id, o.code, o.message)
        book.mark(uow.conn, done, "done", now)
        for i, code, message in bad:
            book.mark(uow.conn, [i], "failed", now, code, message)
        uow.commit()


def _drop_orphans(
    engine: Engine,
    batch: list[Write],
    t: Target,
    failed: _Failed,
    outbox_id: Mapping[int, int],
    report: PushReport,
    now: datetime,
) -> list[Write]:
    """Children of a parent that failed in this push wait for the parent (next cycle), and an
    ``after_siblings`` record waits while a sibling failed."""
    if t.parent is None or not failed:
        return batch
    keep: list[Write] = []
    held: dict[str, list[Write]] = {"PARENT_FAILED": [], "SIBLING_FAILED": []}
    for w in batch:
        parent = (t.parent.output, w.parent_external_id or "")
        if parent in failed.records:
            held["PARENT_FAILED"].append(w)
        elif t.parent.after_siblings and parent in failed.parents:
            held["SIBLING_FAILED"].append(w)
        else:
            keep.append(w)
    why = {
        "PARENT_FAILED": "its parent failed in this push; retried next cycle",
        "SIBLING_FAILED": "a sibling failed in this push; written after it, next cycle",
    }
    for code, waiting in held.items():
        if not waiting:
            continue
        with UnitOfWork(engine) as uow:
            book.mark(
                uow.conn, [outbox_id[id(w)] for w in waiting], "superseded", now, code, why[code]
            )
            uow.commit()
        for w in waiting:
            failed.add(w, t)
            report.count(w.target).failed += 1
    return keep


# -- Zendesk ---------------------------------------------------------------------------------
def _push_zendesk(
    engine: Engine,
    writer: Any,
    writes: Sequence[Write],
    outbox_id: Mapping[int, int],
    report: PushReport,
    now: datetime,
    cta_url: Callable[[str], str] | None,
    unknown: set[str],
) -> None:
    from connector.push.zendesk import TicketWrite

    with engine.connect() as conn:
        cta_ids = {
            r.external_id: r.crm_id
            for r in conn.execute(
                select(ledger.c.external_id, ledger.c.crm_id).where(ledger.c.target == "cta")
            )
        }
    tickets: list[TicketWrite] = []
    by_ext: dict[str, Write] = {}
    for w in writes:
        if w.op == "create" and w.external_id in unknown:
            found = writer.find_by_external_id(w.external_id)
            report.zendesk_calls += 1
            if found:  # an earlier create landed after all: adopt it, do not create twice
                with UnitOfWork(engine) as uow:
                    book.succeeded(uow.conn, w, str(found[0]["id"]), now)
                    book.mark(uow.conn, [outbox_id[id(w)]], "done", now)
                    uow.commit()
                report.count(ZENDESK).add("create")
                report.zendesk_done += 1  # its id goes onto the CTA in this cycle's follow-up
                continue
        cta_id = cta_ids.get(w.external_id)
        v = w.values
        tickets.append(
            TicketWrite(
                external_id=w.external_id,
                ticket_id=int(w.crm_id) if w.crm_id else None,
                subject=str(v.get("subject") or ""),
                description=str(v.get("description") or ""),
                risk_type=str(v.get("risk_type") or ""),
                account_id=v.get("account_id"),
                cta_id=cta_id,
                cta_url=cta_url(cta_id) if cta_url and cta_id else None,
                description_changed=w.op == "create" or "description" in w.changed,
            )
        )
        by_ext[w.external_id] = w
    if not tickets:
        return
    from connector.push.zendesk import SubmitError

    failure: SubmitError | None = None
    try:
        jobs = writer.submit(tickets)
    except SubmitError as exc:  # part-way: keep what was queued, look up what is unknown
        failure, jobs = exc, exc.jobs
    report.zendesk_calls += len(jobs)
    with UnitOfWork(engine) as uow:
        for job in jobs:
            rows = [outbox_id[id(by_ext[e])] for e in job.external_ids]
            book.mark(uow.conn, rows, "sent", now, job_id=job.job_id)
        if failure is not None:
            # ``unknown`` stays pending: the next cycle looks those up by external_id first.
            for e in failure.refused:
                w = by_ext[e]
                message = str(failure.cause)
                # A 5xx, 429 or timeout after the client's retries: not acted on, sent again
                # next cycle; only a rejection (4xx) waits for the desired ticket to change.
                transient = isinstance(failure.cause, TransientApiError)
                book.failed(uow.conn, None, w, failure.code, message, now, transient=transient)
                book.mark(uow.conn, [outbox_id[id(w)]], "failed", now, failure.code, message)
            for e in failure.unsent:
                book.mark(uow.conn, [outbox_id[id(by_ext[e])]], "superseded", now, "UNSENT")
        uow.commit()
    for job in jobs:
        report.count(ZENDESK).pending += len(job.external_ids)
    if failure is not None:
        log.warning("Zendesk submit stopped part-way: %s", failure)


def _unknown_creates(conn: Any, now: datetime) -> set[str]:
    """Zendesk creates an earlier run wrote to the outbox but never saw submitted (a crash
    between the call and its record): looked up by ``external_id`` before creating again."""
    rows = conn.execute(
        select(outbox.c.id, outbox.c.external_id).where(
            outbox.c.target == ZENDESK, outbox.c.op == "create", outbox.c.status == "pending"
        )
    ).all()
    book.mark(conn, [r.id for r in rows], "superseded", now, "UNKNOWN", "outcome unknown")
    return {r.external_id for r in rows}


def _poll_zendesk(engine: Engine, writer: Any, report: PushReport, now: datetime) -> None:
    """Poll every Zendesk job in flight once; record the tickets of the finished ones.

    The jobs are rebuilt from their outbox rows without the writes (16,500 tickets at scale L,
    each write carrying its evidence); a finished job's writes are read a thousand at a time.
    """
    from connector.push.zendesk import SubmittedJob

    with engine.connect() as conn:
        rows = conn.execute(
            select(outbox.c.id, outbox.c.job_id, outbox.c.op, outbox.c.external_id)
            .where(
                outbox.c.target == ZENDESK, outbox.c.status == "sent", outbox.c.job_id.is_not(None)
            )
            .order_by(outbox.c.id)
        ).all()
    if not rows:
        return
    jobs: dict[str, list[Any]] = {}
    for r in rows:
        jobs.setdefault(r.job_id, []).append(r)
    del rows
    submitted = [
        SubmittedJob(
            job_id, rs[0].op if rs[0].op == "create" else "update", tuple(r.external_id for r in rs)
        )
        for job_id, rs in jobs.items()
    ]
    try:
        results = writer.poll(submitted)
        report.zendesk_calls += max(1, (len(submitted) + 99) // 100)
    except ApiError as exc:
        log.warning("Zendesk job poll failed; polled again next cycle: %s", exc)
        return
    del submitted
    finished: list[tuple[int, Any]] = []  # (outbox row, its ticket's result)
    for job_id, outcome in results.items():
        if outcome is None:
            continue
        by_ext = {r.external_id: r for r in jobs[job_id]}
        for res in outcome:
            row = by_ext.get(res.external_id)
            if row is not None:
                finished.append((row.id, res))
    del jobs, results
    for start in range(0, len(finished), book.LANDED_CHUNK):
        _record_tickets(engine, finished[start : start + book.LANDED_CHUNK], report, now)


def _record_tickets(
    engine: Engine, finished: Sequence[tuple[int, Any]], report: PushReport, now: datetime
) -> None:
    """Finished jobs' tickets (outbox row, result) into the ledger and the outbox."""
    with UnitOfWork(engine) as uow:
        stored = book.sent_writes(uow.conn, [i for i, _ in finished])
        landed: list[tuple[Write, str | None, int]] = []
        for row_id, res in finished:
            w, run_id = stored[row_id]
            if res.ok:
                landed.append((w, str(res.ticket_id), row_id))
                counts = report.count(ZENDESK)
                counts.add(w.op)
                counts.pending = max(0, counts.pending - 1)
                report.zendesk_done += 1
            elif res.code == "JobNotFound" and w.op == "create":
                # The job expired before we saw it end: the outcome is unknown, so the
                # next cycle looks the ticket up by external_id before creating it again.
                book.mark(uow.conn, [row_id], "pending", now, res.code, res.message)
            else:
                book.failed(uow.conn, run_id, w, res.code, res.message, now, transient=False)
                book.mark(uow.conn, [row_id], "failed", now, res.code, res.message)
                report.count(ZENDESK).failed += 1
        book.landed(uow.conn, landed, now)
        uow.commit()
