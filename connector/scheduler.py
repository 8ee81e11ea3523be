"""``cs-connector run``: APScheduler running the jobs of ``jobs/schedule.toml``.

Three guards keep a job from running twice at once:

- in one process, APScheduler's ``max_instances=1`` (a firing while the job runs is dropped) and
  ``coalesce=True`` (firings missed while busy run once, not once each), and a single worker
  thread, so the jobs of one process run one after another;
- across processes sharing the store, each firing takes the job's lock in the store
  (``connector.store.locks``) and skips, with a log line, when another process holds it.

Stopping: ``run_forever`` turns SIGTERM and SIGINT into ``stop_event``; the running job sees it
between pages or batches, commits what it has and returns; the scheduler then shuts down, waiting
for it. A second signal stops the process at once.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from types import FrameType
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_RUNNING, BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import Engine

from connector.schedule import JobSpec, Schedule
from connector.store import locks

log = logging.getLogger(__name__)

RunJob = Callable[[JobSpec, threading.Event], object]
LOCK_TTL = timedelta(minutes=5)  # a crashed process's lock frees itself within this
CRON_GRACE = timedelta(hours=12)  # a cron job delayed by a busy worker still runs, late


def build_scheduler(
    jobs: Schedule | Iterable[JobSpec],
    run_job: RunJob,
    engine: Engine,
    *,
    holder: str | None = None,
    blocking: bool = True,
    stop_event: threading.Event | None = None,
    lock_ttl: timedelta = LOCK_TTL,
    run_interval_jobs_at_start: bool = True,
) -> BaseScheduler:
    """A scheduler (not started) with one APScheduler job per ``JobSpec``.

    Each firing takes the store lock named after the job (``holder`` defaults to
    ``hostname:pid:uuid``, one per scheduler) and calls ``run_job(spec, stop_event)``; pass the
    ``stop_event`` you give ``run_forever``. Interval jobs first run at start-up, not one
    interval later. ``misfire_grace_time`` is the interval for interval jobs (a later firing
    supersedes a missed one) and ``CRON_GRACE`` for cron jobs.
    """
    specs = list(jobs.jobs if isinstance(jobs, Schedule) else jobs)
    stop = stop_event if stop_event is not None else threading.Event()
    me = holder or locks.default_holder()
    timezone = ZoneInfo(specs[0].timezone) if specs else ZoneInfo("UTC")
    executors = {"default": ThreadPoolExecutor(max_workers=1)}
    scheduler: BaseScheduler
    if blocking:
        scheduler = BlockingScheduler(executors=executors, timezone=timezone)
    else:
        scheduler = BackgroundScheduler(executors=executors, timezone=timezone, daemon=True)
    for spec in specs:
        extra: dict[str, Any] = {}
        if spec.interval is not None and run_interval_jobs_at_start:
            extra["next_run_time"] = datetime.now(timezone)
        scheduler.add_job(
            _fire,
            trigger=spec.trigger(),
            args=(spec, run_job, engine, me, stop, lock_ttl),
            id=spec.name,
            name=spec.name,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=_grace(spec),
            **extra,
        )
    return scheduler


def _grace(spec: JobSpec) -> int:
    if spec.interval is not None:
        return max(1, int(spec.interval.total_seconds()))
    return int(CRON_GRACE.total_seconds())


def _fire(
    spec: JobSpec,
    run_job: RunJob,
    engine: Engine,
    holder: str,
    stop: threading.Event,
    ttl: timedelta,
) -> None:
    """One firing: take the job's store lock, run the job, let the lock go."""
    if stop.is_set():
        log.info("stopping: job %s not started", spec.name)
        return
    try:
        with locks.held(engine, spec.name, holder, ttl) as mine:
            if not mine:
                log.info("job %s is running in another process; skipped", spec.name)
                return
            _run(spec, run_job, stop)
    except Exception:  # the store could not be reached for the lock
        log.exception("job %s: could not take its lock in the store; skipped", spec.name)


def _run(spec: JobSpec, run_job: RunJob, stop: threading.Event) -> None:
    log.info("job %s started (%s; steps %s)", spec.name, spec.describe, ", ".join(spec.steps))
    try:
        run_job(spec, stop)
    except Exception:
        log.exception("job %s failed", spec.name)
    else:
        log.info("job %s %s", spec.name, "stopped" if stop.is_set() else "finished")


def run_forever(
    scheduler: BaseScheduler,
    stop_event: threading.Event,
    *,
    signals: Iterable[signal.Signals] = (signal.SIGTERM, signal.SIGINT),
) -> None:
    """Run ``scheduler`` until ``stop_event`` is set (by SIGTERM or SIGINT, or by the caller).

    Then no new job starts, the running one finishes its current page or batch, the scheduler
    shuts down (waiting for it) and this returns. Signal handlers are installed only from the
    main thread; the previous ones are put back on return.
    """
    previous = _install(signals, stop_event)
    try:
        if isinstance(scheduler, BlockingScheduler):
            watcher = threading.Thread(
                target=_stop_when_set,
                args=(scheduler, stop_event),
                name="scheduler-stop",
                daemon=True,
            )
            watcher.start()
            try:
                scheduler.start()  # returns once the watcher has shut it down
            finally:
                stop_event.set()
                watcher.join()
        else:
            if scheduler.state != STATE_RUNNING:
                scheduler.start()
            _stop_when_set(scheduler, stop_event)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _stop_when_set(scheduler: BaseScheduler, stop_event: threading.Event) -> None:
    stop_event.wait()
    if scheduler.state == STATE_RUNNING:
        log.info("stopping: waiting for the running job to finish its batch")
        scheduler.pause()  # no new firings while the running job winds down
    if scheduler.running:
        scheduler.shutdown(wait=True)
    log.info("scheduler stopped")


def _install(signals: Iterable[signal.Signals], stop_event: threading.Event) -> dict[int, Any]:
    if threading.current_thread() is not threading.main_thread():
        return {}
    previous: dict[int, Any] = {}

    def handle(signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if stop_event.is_set():
            log.warning("%s again: exiting now, mid-batch (the batch rolls back)", name)
            logging.shutdown()
            os._exit(128 + signum)
        log.info("%s received: finishing the current batch, then exiting", name)
        stop_event.set()

    for signum in signals:
        previous[signum] = signal.signal(signum, handle)
    return previous
