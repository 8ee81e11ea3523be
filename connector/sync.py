"""One cycle: pull → evaluate → reconcile → push, each a plain function over the store.

The CLI (``sync --once``), the scheduler and tests call this. A dry run pulls (reads only),
evaluates and plans, then puts the rules' own state back, so its plan is what the next real
cycle does; it writes nothing to the CRM, the ledger or the outbox.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, insert, select

from connector.bootstrap import Deps
from connector.evaluate import EvaluationReport, build_context, evaluate, parse_as_of
from connector.pull import PullReport, pull
from connector.push.runner import PushReport, PushSession
from connector.reconcile.model import Plan, PlanRecord, Policy
from connector.reconcile.plan import ZENDESK
from connector.reconcile.stages import stages
from connector.rules import all_rules
from connector.rules.model import Rule, RuleContext
from connector.rules.params import RuleParams, load_params
from connector.store import mirror, runs
from connector.store.schema import desired_outputs, evaluation_state, persona_state
from connector.store.uow import UnitOfWork
from connector.targets import Target, load_targets, with_lengths

log = logging.getLogger(__name__)
STEPS = ("pull", "evaluate", "reconcile", "push")


@dataclass
class CycleReport:
    """What one cycle did, step by step."""

    job: str
    dry_run: bool
    status: str = "completed"
    run_id: int | None = None
    pull: PullReport | None = None
    evaluation: EvaluationReport | None = None
    plan: PlanRecord | None = None
    follow_up: PlanRecord | None = None  # CTA updates after Zendesk jobs finished (ticket ids)
    push: PushReport | None = None
    salesforce_calls: int = 0
    zendesk_calls: int = 0
    client_retries: dict[str, int] = field(default_factory=dict)  # calls sent again, per API
    seconds: float = 0.0
    error: str | None = None
    steps: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # step -> seconds


def rule_context(deps: Deps, as_of: str | None = None) -> tuple[RuleContext, RuleParams]:
    """The rule context for ``deps``: rules.toml, owners, templates, the evaluation instant."""
    mappings_dir = deps.settings.mappings_dir
    params = load_params(mappings_dir / "rules.toml", "mappings/rules.toml")
    now = parse_as_of(as_of, params.timezone) if as_of else deps.clock()
    ctx = build_context(
        deps.engine,
        deps.specs,
        deps.mappings,
        params,
        deps.settings.owners,
        now,
        mappings_dir / "templates",
        owner_origin=lambda role: deps.settings.origin("owners", role),
    )
    return ctx, params


def select_rules(rules: Sequence[str] | None = None, exclude: Sequence[str] = ()) -> list[Rule]:
    """The rules a job runs: the named ones, or all but ``exclude``."""
    chosen = [r for r in all_rules() if (rules is None or r.id in rules) and r.id not in exclude]
    return chosen


def policy_for(params: RuleParams, ctx: RuleContext, evaluated: Sequence[str] | None) -> Policy:
    return Policy(
        now=ctx.now,
        today=ctx.today,
        cool_down_days=dict(params.cool_down),
        default_cool_down=params.cool_down_days,
        evaluated=frozenset(evaluated) if evaluated is not None else None,
        keep_weeks=params.scorecard.keep_weeks,
    )


# What the follow-up after Zendesk jobs reads: the CTAs, and their tickets' ids (the CTAs'
# stage reads those from the ledger, ``Planner.tickets``); it writes the CTAs alone.
FOLLOW_UP = ("cta", ZENDESK)


def _stages(
    deps: Deps, targets: dict[str, Target], policy: Policy, only: Collection[str] | None = None
) -> Iterator[Plan]:
    """Each object's plan in write order, read from the store as its turn comes."""
    tables = {s.name: mirror.table(s) for s in deps.specs}
    return stages(deps.engine, targets, deps.mappings, tables, policy, only)


def reconcile(
    deps: Deps, targets: dict[str, Target], policy: Policy, only: Collection[str] | None = None
) -> PlanRecord:
    """The plan for the desired outputs in the store, against the ledger and the mirror, with
    nothing pushed (a dry run); with ``only``, those objects' plan alone."""
    record = PlanRecord()
    for part in _stages(deps, targets, policy, only):
        record.add(part)
    return record


def reconcile_and_push(
    deps: Deps,
    report: CycleReport,
    session: PushSession,
    targets: dict[str, Target],
    policy: Policy,
    clock: _Stopwatch,
) -> None:
    """Plan one object, push it, forget it, then the next (parents first): only one object's
    outputs, ledger rows and writes are in memory at a time (the whole plan at once took
    1.3-1.8 GB at scale L). Each object is planned from the ledger as the push of the ones
    before it left it; the report keeps the plan's counts and listing (``PlanRecord``)."""
    report.plan = PlanRecord()
    parts = _stages(deps, targets, policy)
    while session.going:
        if session.should_stop():
            session.report.status = "stopped"
            break
        clock.start("reconcile")
        part = next(parts, None)
        if part is None:
            break
        report.plan.add(part)
        clock.start("push")
        session.send(part.writes, part.observations, more=part.more)
        del part  # before the next object's (or part's) inputs are read
    clock.start("push")


def follow_up(
    deps: Deps, report: CycleReport, targets: dict[str, Target], policy: Policy, now: datetime
) -> PushReport:
    """Tickets created in this cycle: their ids go onto their CTAs now (the CTAs' plan again,
    read after the Zendesk poll put the ids in the ledger)."""
    session = PushSession(
        deps.engine, salesforce=deps.salesforce, targets=targets, now=now, run_id=report.run_id
    )
    session.begin()
    report.follow_up = PlanRecord()
    for part in _stages(deps, targets, policy, only={"cta"}):
        report.follow_up.add(part)
        session.send(part.writes, more=part.more)  # not its observations: pushed already
        del part
    return session.report


def run_cycle(
    deps: Deps,
    *,
    job: str = "sync",
    steps: Sequence[str] = STEPS,
    rules: Sequence[str] | None = None,
    exclude_rules: Sequence[str] = (),
    dry_run: bool = False,
    as_of: str | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    pull_progress: Any = None,
    push_progress: Any = None,
) -> CycleReport:
    """Run the steps of one cycle; a stop request ends it after the current page or batch."""
    started = time.perf_counter()
    report = CycleReport(job=job, dry_run=dry_run, steps=list(steps))
    targets = with_lengths(load_targets(deps.settings.mappings_dir), deps.describe)
    sf_before = deps.salesforce.api_calls
    sf_retries_before = getattr(deps.salesforce, "retries", 0)
    if deps.zendesk is not None:
        deps.zendesk.new_run()  # each cycle gets its own Zendesk wait budget (and counters)
    zd_before = deps.zendesk.stats.api_calls if deps.zendesk is not None else 0
    with UnitOfWork(deps.engine) as uow:
        report.run_id = runs.start(uow.conn, job, started_at=deps.clock())
        uow.commit()
    try:
        _steps(
            deps,
            report,
            targets,
            steps,
            rules,
            exclude_rules,
            dry_run,
            as_of,
            should_stop,
            pull_progress,
            push_progress,
        )
    except Exception as exc:
        report.status, report.error = "failed", str(exc)
        _finish(deps, report, (sf_before, sf_retries_before, zd_before), started)
        raise
    _finish(deps, report, (sf_before, sf_retries_before, zd_before), started)
    return report


def _steps(
    deps: Deps,
    report: CycleReport,
    targets: dict[str, Target],
    steps: Sequence[str],
    rules: Sequence[str] | None,
    exclude_rules: Sequence[str],
    dry_run: bool,
    as_of: str | None,
    should_stop: Callable[[], bool],
    pull_progress: Any,
    push_progress: Any,
) -> None:
    clock = _Stopwatch(report.timings)
    landed: dict[str, int] = {}  # records of Bulk jobs that finished since the last cycle
    if "pull" in steps:
        clock.start("pull")
        report.pull = pull(
            deps.engine,
            deps.sources,
            deps.specs,
            clock=deps.clock,
            progress=pull_progress,
            should_stop=should_stop,
            job=f"{report.job}:pull",
            api_usage=deps.api_usage,
        )
        clock.stop()
        if report.pull.status != "completed":
            report.status = report.pull.status
            return
    if should_stop():
        report.status = "stopped"
        return
    ctx, params = rule_context(deps, as_of)
    if not dry_run and "push" in steps and "reconcile" in steps:
        # Bulk jobs that finished since the last cycle reach the ledger before the plan, so
        # their children go out in this cycle rather than the next.
        from connector.push import inflight

        _, landed = inflight.poll(deps.engine, _bulk_writer(deps, targets), targets, ctx.now)
    chosen = select_rules(rules, exclude_rules)
    evaluated: list[str] | None = None
    pushing = not dry_run and "reconcile" in steps and "push" in steps
    if "evaluate" in steps:
        saved = _save_rule_state(deps.engine) if dry_run else None
        try:
            clock.start("evaluate")
            report.evaluation, _ = evaluate(
                deps.engine, ctx, chosen, incremental=True, clock=deps.clock
            )
            evaluated = list(report.evaluation.outputs)
            if "reconcile" in steps and not pushing:
                clock.start("reconcile")
                report.plan = reconcile(deps, targets, policy_for(params, ctx, evaluated))
            clock.stop()
        finally:
            if saved is not None:
                _restore_rule_state(deps.engine, saved)
    elif "reconcile" in steps and not pushing:
        report.plan = reconcile(deps, targets, policy_for(params, ctx, None))
    if not pushing or should_stop():
        if should_stop():
            report.status = "stopped"
        return
    # Planned and pushed one object at a time (``reconcile_and_push``).
    session = PushSession(
        deps.engine,
        salesforce=deps.salesforce,
        targets=targets,
        now=ctx.now,
        run_id=report.run_id,
        zendesk=_zendesk_writer(deps),
        cta_url=_cta_url(deps),
        should_stop=should_stop,
        progress=push_progress,
        bulk=_bulk_writer(deps, targets),
        bulk_threshold=deps.settings.push.bulk_threshold,
    )
    clock.start("push")
    session.begin()
    report.push = session.report
    reconcile_and_push(deps, report, session, targets, policy_for(params, ctx, evaluated), clock)
    for target, n in landed.items():  # written by this cycle's poll, before the plan
        report.push.count(target).created += n
    if report.push.status != "completed":
        report.status = report.push.status
        report.error = report.push.error
        clock.stop()
        return
    if report.push.zendesk_done:
        follow = follow_up(deps, report, targets, policy_for(params, ctx, evaluated), ctx.now)
        for target, counts in follow.counts.items():
            mine = report.push.count(target)
            mine.updated += counts.updated
            mine.failed += counts.failed
        report.push.salesforce_calls += follow.salesforce_calls
    clock.stop()


class _Stopwatch:
    """Seconds per step into ``timings``, summed over the step's turns (reconcile and push
    take turns, an object at a time); ``start`` ends the step before it."""

    def __init__(self, timings: dict[str, float]) -> None:
        self.timings, self.step, self.began = timings, "", 0.0

    def start(self, step: str) -> None:
        self.stop()
        self.step, self.began = step, time.perf_counter()

    def stop(self) -> None:
        if self.step:
            spent = self.timings.get(self.step, 0.0) + time.perf_counter() - self.began
            self.timings[self.step] = round(spent, 3)
            self.step = ""


def _bulk_writer(deps: Deps, targets: dict[str, Target]) -> Any:
    from connector.push.bulk import BulkWriter

    return BulkWriter(deps.salesforce, targets)


def _zendesk_writer(deps: Deps) -> Any:
    settings = deps.settings.zendesk
    if deps.zendesk is None or settings is None:
        return None
    from connector.push.zendesk import ZendeskTicketWriter

    client, group = deps.zendesk, settings.support_managers_group
    return _Lazy(lambda: ZendeskTicketWriter.connect(client, group))


class _Lazy:
    """Connects the Zendesk writer (group and field lookups: two calls) on first use only, so
    a cycle with no ticket to write or poll spends nothing on it."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make, self._made = make, None

    def __getattr__(self, name: str) -> Any:
        if self._made is None:
            self._made = self._make()
        return getattr(self._made, name)


def _cta_url(deps: Deps) -> Callable[[str], str] | None:
    base = getattr(deps.salesforce, "instance_url", None)
    if not base:
        return None
    return lambda record_id: f"{base.rstrip('/')}/{record_id}"


def _finish(deps: Deps, report: CycleReport, before: tuple[int, int, int], started: float) -> None:
    sf_before, sf_retries_before, zd_before = before
    report.salesforce_calls = deps.salesforce.api_calls - sf_before
    report.client_retries["salesforce"] = getattr(deps.salesforce, "retries", 0) - sf_retries_before
    if deps.zendesk is not None:
        report.zendesk_calls = deps.zendesk.stats.api_calls - zd_before
        report.client_retries["zendesk"] = deps.zendesk.stats.retries  # restarted by new_run()
    report.seconds = round(time.perf_counter() - started, 3)
    if report.run_id is None:
        return
    status = report.status if report.status in ("completed", "stopped", "failed") else "failed"
    with UnitOfWork(deps.engine) as uow:
        runs.finish(
            uow.conn,
            report.run_id,
            status=status,  # type: ignore[arg-type]
            summary=summary(report),
            api_calls=report.salesforce_calls + report.zendesk_calls,
            api_usage=deps.api_usage(),
            error=report.error,
            ended_at=deps.clock(),
        )
        uow.commit()


def summary(report: CycleReport) -> dict[str, Any]:
    """The cycle as JSON: per object created, updated, closed, skipped, failed."""
    objects: dict[str, dict[str, int]] = {}
    if report.plan is not None:
        for target, c in report.plan.counts().items():
            objects[target] = {
                "planned_create": c["create"],
                "planned_update": c["update"],
                "planned_close": c["close"] + c["delete"],
                "skipped": c["skip"],
            }
    if report.push is not None:
        for target, pc in report.push.counts.items():
            row = objects.setdefault(target, {})
            row.update(
                created=pc.created,
                updated=pc.updated,
                closed=pc.closed + pc.deleted,
                failed=pc.failed,
                pending=pc.pending,
            )
    return {
        "job": report.job,
        "dry_run": report.dry_run,
        "status": report.status,
        "objects": objects,
        "pulled": report.pull.records if report.pull else None,
        "outputs": report.evaluation.total if report.evaluation else None,
        # every customer, or how many accounts changed (``connector.evaluation_scope``)
        "evaluated": report.evaluation.scope if report.evaluation else None,
        "retried": dict(report.push.retried) if report.push else {},  # records sent again
        "client_retries": dict(report.client_retries),  # calls sent again after a fault
        "waiting_on_jobs": report.plan.waiting_on_jobs if report.plan else 0,
        "salesforce_calls": report.salesforce_calls,
        "zendesk_calls": report.zendesk_calls,
        "seconds": report.seconds,
        "timings": report.timings,
    }


# -- a dry run leaves the rules' own state as it found it ----------------------------------
# The evaluation's bookmark too: a dry run that moved it would hide this cycle's changes from
# the next real evaluation.
RULE_STATE = (desired_outputs, persona_state, evaluation_state)


def _save_rule_state(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    with engine.connect() as conn:
        return {t.name: [dict(r._mapping) for r in conn.execute(select(t))] for t in RULE_STATE}


def _restore_rule_state(engine: Engine, saved: dict[str, list[dict[str, Any]]]) -> None:
    with UnitOfWork(engine) as uow:
        for table in RULE_STATE:
            uow.conn.execute(delete(table))
            rows = saved[table.name]
            for start in range(0, len(rows), 5000):
                uow.conn.execute(insert(table), rows[start : start + 5000])
        uow.commit()


def now_of(report: CycleReport) -> datetime | None:
    return report.evaluation.now if report.evaluation else None
