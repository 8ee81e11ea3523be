"""``cs-connector run``: the schedule's jobs, each a cycle (or the Id sweep), on one store.

The scheduler takes each job's store lock; this module turns a job spec into the same step
functions the CLI runs, so a scheduled cycle and ``sync --once`` do exactly the same work.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from connector.bootstrap import Deps
from connector.errors import ApiError
from connector.pull import sweep_ids
from connector.schedule import JobSpec
from connector.sync import run_cycle, summary

log = logging.getLogger(__name__)


def job_runner(deps: Deps) -> Callable[[JobSpec, threading.Event], None]:
    """``run_job(spec, stop)`` for the scheduler: the spec's steps, stoppable between batches."""

    def run_job(spec: JobSpec, stop: threading.Event) -> None:
        steps = [s for s in spec.steps if s != "sweep"]
        try:
            if "sweep" in spec.steps:
                marked = sweep_ids(deps.engine, deps.sources, deps.specs, clock=deps.clock)
                log.info("job %s: Id sweep marked %s", spec.name, marked)
            if steps:
                report = run_cycle(
                    deps,
                    job=spec.name,
                    steps=steps,
                    rules=spec.rules,
                    exclude_rules=spec.exclude_rules,
                    should_stop=stop.is_set,
                )
                log.info("job %s: %s", spec.name, _short(summary(report)))
        except ApiError as exc:  # recorded in the run history; the next firing tries again
            log.error("job %s: %s", spec.name, exc)

    return run_job


def _short(data: dict[str, Any]) -> str:
    done = {
        target: {
            k: v for k, v in row.items() if k in ("created", "updated", "closed", "failed") and v
        }
        for target, row in data["objects"].items()
    }
    written = {t: row for t, row in done.items() if row}
    return (
        f"{data['status']}; writes {written or 'none'}; API calls Salesforce "
        f"{data['salesforce_calls']}, Zendesk {data['zendesk_calls']}; {data['seconds']} s"
    )
