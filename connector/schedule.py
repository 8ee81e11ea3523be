"""``jobs/schedule.toml``: the jobs the scheduler runs, each with its trigger, steps and rules.

The file is read strictly (unknown keys, wrong types, unknown steps and rule ids are errors, each
reported as ``jobs/schedule.toml:<key>: what is wrong``, all at once); the result is a
``Schedule`` of ``JobSpec`` values the scheduler and the CLI use. See the file itself for every
key and its default.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from connector.errors import ConfigError, ConfigErrors
from connector.mapping_schema import did_you_mean, pydantic_problems, read_toml

ORIGIN = "jobs/schedule.toml"
Step = Literal["pull", "sweep", "evaluate", "reconcile", "push"]
STEPS: tuple[Step, ...] = ("pull", "sweep", "evaluate", "reconcile", "push")  # run order
JOB_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class JobFile(_Strict):
    """One ``[jobs.<name>]`` table."""

    every_minutes: int | None = Field(default=None, gt=0)
    cron: str | None = None
    steps: list[Step] = Field(min_length=1)
    rules: list[str] | None = None
    exclude_rules: list[str] | None = None


class ScheduleFile(_Strict):
    """The whole file."""

    timezone: str | None = None
    jobs: dict[str, JobFile] = Field(min_length=1)


@dataclass(frozen=True)
class JobSpec:
    """A job as the scheduler runs it.

    Exactly one of ``interval`` and ``cron`` is set. ``rules`` is None for "every rule"
    (less ``exclude_rules``); both matter only to a job that evaluates.
    """

    name: str
    steps: tuple[Step, ...]
    interval: timedelta | None = None
    cron: str | None = None
    rules: tuple[str, ...] | None = None
    exclude_rules: tuple[str, ...] = ()
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        if (self.interval is None) == (self.cron is None):
            raise ValueError(f"job {self.name}: give exactly one of interval and cron")

    def trigger(self) -> BaseTrigger:
        """The APScheduler trigger: an interval, or the crontab in the job's timezone."""
        tz = ZoneInfo(self.timezone)
        if self.interval is not None:
            return IntervalTrigger(seconds=self.interval.total_seconds(), timezone=tz)
        assert self.cron is not None
        return crontab_trigger(self.cron, tz)

    def period(self, now: datetime | None = None) -> timedelta:
        """The time between firings: the interval, or the gap after a crontab's next firing."""
        if self.interval is not None:
            return self.interval
        trigger = self.trigger()
        start = now or datetime.now(UTC)
        first: datetime | None = trigger.get_next_fire_time(None, start)
        second: datetime | None = (
            trigger.get_next_fire_time(first, first + timedelta(seconds=1)) if first else None
        )
        if first is None or second is None:
            raise ValueError(f"job {self.name}: its crontab never fires twice")
        return second - first

    @property
    def describe(self) -> str:
        """``every 15 min`` or ``cron "0 8 * * mon" (Europe/Paris)``, for logs and status."""
        if self.interval is not None:
            seconds = self.interval.total_seconds()
            return f"every {seconds / 60:g} min" if seconds >= 60 else f"every {seconds:g} s"
        return f'cron "{self.cron}" ({self.timezone})'


@dataclass(frozen=True)
class Schedule:
    """Every job of the file, in file order, and the timezone of their crontabs."""

    timezone: str
    jobs: tuple[JobSpec, ...]

    def job(self, name: str) -> JobSpec:
        for spec in self.jobs:
            if spec.name == name:
                return spec
        raise KeyError(name)


def load_schedule(
    path: Path,
    *,
    default_timezone: str = "UTC",
    known_rules: Iterable[str] | None = None,
    origin: str = ORIGIN,
) -> Schedule:
    """The schedule in ``path``; raises ``ConfigErrors`` listing every problem.

    ``default_timezone`` applies when the file sets none (pass rules.toml's ``timezone``);
    ``known_rules`` defaults to the ids of ``connector.rules.all_rules()``.
    """
    errs: list[tuple[str, str]] = []
    data = read_toml(path, errs)
    if data is None:
        raise ConfigErrors([ConfigError(origin, k, r) for k, r in errs])
    return parse_schedule(
        data, default_timezone=default_timezone, known_rules=known_rules, origin=origin
    )


def parse_schedule(
    data: dict[str, object],
    *,
    default_timezone: str = "UTC",
    known_rules: Iterable[str] | None = None,
    origin: str = ORIGIN,
) -> Schedule:
    """The schedule from the parsed TOML ``data`` (see ``load_schedule``)."""
    try:
        parsed = ScheduleFile.model_validate(data)
    except ValidationError as exc:
        problems = [ConfigError(origin, k, r) for k, r in pydantic_problems(exc, ScheduleFile)]
        raise ConfigErrors(problems) from None
    if known_rules is None:
        from connector.rules import all_rules

        known_rules = [rule.id for rule in all_rules()]
    rule_ids = list(known_rules)
    timezone = parsed.timezone or default_timezone
    tz_key = "timezone" if parsed.timezone else ""
    problems = [ConfigError(origin, k, r) for k, r in _timezone_problems(timezone, tz_key)]
    tz_ok = not problems
    jobs: list[JobSpec] = []
    for name, job in parsed.jobs.items():
        found = _job_problems(name, job, rule_ids, timezone if tz_ok else "UTC")
        problems.extend(ConfigError(origin, k, r) for k, r in found)
        if found:
            continue
        jobs.append(
            JobSpec(
                name=name,
                steps=tuple(job.steps),
                interval=timedelta(minutes=job.every_minutes) if job.every_minutes else None,
                cron=job.cron,
                rules=tuple(job.rules) if job.rules is not None else None,
                exclude_rules=tuple(job.exclude_rules or ()),
                timezone=timezone,
            )
        )
    if problems:
        raise ConfigErrors(problems)
    return Schedule(timezone=timezone, jobs=tuple(jobs))


def check_schedule(path: Path, **kwargs: object) -> list[ConfigError]:
    """Every problem of the file (for ``cs-connector check``); empty when it loads."""
    try:
        load_schedule(path, **kwargs)  # type: ignore[arg-type]
    except ConfigErrors as exc:
        return exc.errors
    return []


def crontab_trigger(expr: str, timezone: ZoneInfo) -> CronTrigger:
    """A trigger for a standard 5-field crontab, ``ValueError`` saying what is wrong.

    APScheduler 3's ``from_crontab`` numbers weekdays from Monday (0 = Monday); cron numbers
    them from Sunday (0 or 7 = Sunday, 1 = Monday). The day-of-week field is translated to
    names first, so "0 8 * * 1" means Monday as it does in any crontab. Cron runs a job when
    *either* a restricted day of month or a restricted day of week matches, APScheduler when
    both do: restricting both is refused rather than read one way or the other.
    """
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(
            f"expected 5 fields (minute hour day-of-month month day-of-week), got {len(fields)}"
        )
    if fields[2] != "*" and fields[4] != "*":
        raise ValueError("restrict the day of month or the day of week, not both")
    fields[4] = _weekdays(fields[4])
    return CronTrigger.from_crontab(" ".join(fields), timezone=timezone)


_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # cron's numbering: 0 = Sunday


def _weekdays(field: str) -> str:
    """A cron day-of-week field as APScheduler names (``*`` when every day)."""
    days: set[int] = set()
    for item in field.lower().split(","):
        base, slash, step_text = item.partition("/")
        if slash and not (step_text.isdigit() and int(step_text) > 0):
            raise ValueError(f"day of week: bad step in {item!r}")
        step = int(step_text) if slash else 1
        if base == "*":
            low, high = 0, 6
        elif "-" in base:
            first, _, last = base.partition("-")
            low, high = _weekday(first), _weekday(last)
            if low > high:
                raise ValueError(f"day of week: range {item!r} runs backwards")
        else:
            low = _weekday(base)
            high = 6 if slash else low
        days.update(day % 7 for day in range(low, high + 1, step))
    if days == set(range(7)):
        return "*"
    return ",".join(_WEEKDAYS[d] for d in sorted(days, key=lambda d: (d + 6) % 7))


def _weekday(token: str) -> int:
    if token.isdigit() and int(token) <= 7:
        return int(token)
    if token in _WEEKDAYS:
        return _WEEKDAYS.index(token)
    raise ValueError(f"day of week: {token!r} is not 0-7 (0 and 7 = Sunday) or sun..sat")


def _timezone_problems(timezone: str, key: str) -> list[tuple[str, str]]:
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        where = "" if key else " (from rules.toml; set timezone here to override)"
        return [
            (
                key,
                f'unknown timezone "{timezone}"{where}: use an IANA name such as '
                '"Europe/Paris" or "UTC"',
            )
        ]
    return []


def _job_problems(
    name: str, job: JobFile, rule_ids: list[str], timezone: str
) -> list[tuple[str, str]]:
    at = f"jobs.{name}"
    out: list[tuple[str, str]] = []
    if not JOB_NAME.match(name):
        out.append(
            (
                at,
                "a job name is lower-case letters, digits, _ and - (it names the lock "
                "and the metrics)",
            )
        )
    if job.every_minutes is None and job.cron is None:
        out.append((at, 'missing: every_minutes = N or cron = "m h dom mon dow"'))
    elif job.every_minutes is not None and job.cron is not None:
        out.append((f"{at}.cron", "give either every_minutes or cron, not both"))
    elif job.cron is not None:
        try:
            crontab_trigger(job.cron, ZoneInfo(timezone))
        except ValueError as exc:
            out.append((f"{at}.cron", f'"{job.cron}": {exc}'))
    out.extend(_steps_problems(at, job.steps))
    if job.rules is not None and job.exclude_rules is not None:
        out.append((f"{at}.exclude_rules", "give either rules or exclude_rules, not both"))
    for key in ("rules", "exclude_rules"):
        chosen: list[str] | None = getattr(job, key)
        if chosen is None:
            continue
        if "evaluate" not in job.steps:
            out.append((f"{at}.{key}", 'only a job whose steps include "evaluate" runs rules'))
        for i, rule in enumerate(chosen):
            if rule not in rule_ids:
                hint = did_you_mean(rule, rule_ids) or " (cs-connector explain lists the rules)"
                out.append((f"{at}.{key}.{i}", f'unknown rule "{rule}"{hint}'))
        if key == "rules" and not chosen:
            out.append((f"{at}.rules", "must not be empty (leave it out to run every rule)"))
    return out


def _steps_problems(at: str, steps: list[Step]) -> list[tuple[str, str]]:
    if len(set(steps)) != len(steps):
        twice = sorted({s for s in steps if steps.count(s) > 1})
        return [(f"{at}.steps", f"each step once: {', '.join(twice)} given twice")]
    if list(steps) != sorted(steps, key=STEPS.index):
        order = ", ".join(s for s in STEPS)
        return [(f"{at}.steps", f"steps run in the order {order}: write them in that order")]
    return []
