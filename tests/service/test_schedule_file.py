"""``jobs/schedule.toml``: the shipped defaults, and every mistake reported as file:key."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connector.errors import ConfigErrors
from connector.rules import all_rules
from connector.schedule import check_schedule, load_schedule

SHIPPED = Path(__file__).resolve().parents[2] / "jobs" / "schedule.toml"
WEEKLY = ("risk_weekly_update", "nps_survey_due")
WEDNESDAY = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "schedule.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems(tmp_path: Path, text: str, **kwargs) -> list[str]:
    with pytest.raises(ConfigErrors) as caught:
        load_schedule(write(tmp_path, text), **kwargs)
    return [e.line() for e in caught.value.errors]


def next_fire(spec, after=WEDNESDAY):
    return spec.trigger().get_next_fire_time(None, after)


# -- the shipped file ----------------------------------------------------------------------
def test_the_shipped_schedule_loads_cleanly():
    assert check_schedule(SHIPPED) == []
    assert [j.name for j in load_schedule(SHIPPED).jobs] == ["cycle", "weekly", "sweep"]


def test_the_shipped_cycle_runs_every_15_minutes_all_steps_but_the_weekly_rules():
    cycle = load_schedule(SHIPPED).job("cycle")

    assert cycle.interval == timedelta(minutes=15)
    assert cycle.steps == ("pull", "evaluate", "reconcile", "push")
    assert (cycle.rules, set(cycle.exclude_rules)) == (None, set(WEEKLY))


def test_the_shipped_weekly_job_runs_the_weekly_rules_on_monday_at_8():
    weekly = load_schedule(SHIPPED, default_timezone="Europe/Paris").job("weekly")

    fire = next_fire(weekly)
    assert (fire.strftime("%a %Y-%m-%d %H:%M"), str(fire.tzinfo)) == (
        "Mon 2025-01-06 08:00",
        "Europe/Paris",
    )
    assert weekly.steps == ("pull", "evaluate", "reconcile", "push")
    assert set(weekly.rules or ()) == set(WEEKLY)


def test_the_shipped_sweep_runs_nightly_at_2_30():
    sweep = load_schedule(SHIPPED).job("sweep")

    assert next_fire(sweep).strftime("%a %H:%M") == "Thu 02:30"
    assert sweep.steps == ("sweep",)


def test_the_weekly_rules_exist():
    assert set(WEEKLY) <= {rule.id for rule in all_rules()}


# -- timezone ------------------------------------------------------------------------------
JOB = """
[jobs.cycle]
every_minutes = 15
steps = ["pull"]
"""


def test_the_timezone_defaults_to_utc(tmp_path):
    assert load_schedule(write(tmp_path, JOB)).timezone == "UTC"


def test_the_timezone_defaults_to_the_one_given_by_rules_toml(tmp_path):
    assert load_schedule(write(tmp_path, JOB), default_timezone="Asia/Tokyo").timezone == (
        "Asia/Tokyo"
    )


def test_a_timezone_in_the_file_wins(tmp_path):
    schedule = load_schedule(
        write(tmp_path, 'timezone = "America/New_York"\n' + JOB), default_timezone="Asia/Tokyo"
    )
    assert schedule.timezone == "America/New_York"


def test_an_unknown_timezone_is_reported(tmp_path):
    assert problems(tmp_path, 'timezone = "Mars/Olympus"\n' + JOB) == [
        'jobs/schedule.toml:timezone: unknown timezone "Mars/Olympus": use an IANA name such '
        'as "Europe/Paris" or "UTC"'
    ]


# -- triggers ------------------------------------------------------------------------------
def test_cron_weekdays_count_from_sunday_as_in_any_crontab(tmp_path):
    schedule = load_schedule(
        write(
            tmp_path,
            """
        [jobs.monday]
        cron = "0 8 * * 1"
        steps = ["pull"]
        """,
        )
    )

    assert next_fire(schedule.job("monday")).strftime("%a %H:%M") == "Mon 08:00"


def test_a_job_needs_a_trigger(tmp_path):
    assert problems(
        tmp_path,
        """
        [jobs.cycle]
        steps = ["pull"]
        """,
    ) == ['jobs/schedule.toml:jobs.cycle: missing: every_minutes = N or cron = "m h dom mon dow"']


def test_a_job_has_one_trigger_only(tmp_path):
    assert problems(
        tmp_path,
        """
        [jobs.cycle]
        every_minutes = 15
        cron = "0 * * * *"
        steps = ["pull"]
        """,
    ) == ["jobs/schedule.toml:jobs.cycle.cron: give either every_minutes or cron, not both"]


def test_an_interval_must_be_positive(tmp_path):
    assert problems(
        tmp_path,
        """
        [jobs.cycle]
        every_minutes = 0
        steps = ["pull"]
        """,
    ) == ["jobs/schedule.toml:jobs.cycle.every_minutes: must be more than 0, got 0"]


def test_an_interval_must_be_a_whole_number(tmp_path):
    assert problems(
        tmp_path,
        """
        [jobs.cycle]
        every_minutes = "15"
        steps = ["pull"]
        """,
    ) == ['jobs/schedule.toml:jobs.cycle.every_minutes: expected a whole number, got "15"']


@pytest.mark.parametrize(
    ("cron", "reason"),
    [
        ("0 8 * *", "expected 5 fields"),
        ("61 8 * * *", "higher than the maximum value (59)"),
        ("0 8 * * 8", "'8' is not 0-7"),
        ("0 8 1 * mon", "restrict the day of month or the day of week, not both"),
    ],
)
def test_a_bad_crontab_is_reported_with_the_reason(tmp_path, cron, reason):
    (line,) = problems(
        tmp_path,
        f"""
        [jobs.weekly]
        cron = "{cron}"
        steps = ["pull"]
        """,
    )
    assert line.startswith(f'jobs/schedule.toml:jobs.weekly.cron: "{cron}": ')
    assert reason in line


# -- steps ---------------------------------------------------------------------------------
def test_an_unknown_step_is_reported_with_the_known_ones(tmp_path):
    (line,) = problems(
        tmp_path,
        """
        [jobs.cycle]
        every_minutes = 15
        steps = ["pull", "evalute"]
        """,
    )
    assert line.startswith("jobs/schedule.toml:jobs.cycle.steps.1: expected one of 'pull', ")
    assert "(did you mean 'evaluate'?)" in line


def test_steps_must_be_in_run_order(tmp_path):
    assert problems(
        tmp_path,
        """
        [jobs.cycle]
        every_minutes = 15
        steps = ["push", "pull"]
        """,
    ) == [
        "jobs/schedule.toml:jobs.cycle.steps: steps run in the order pull, sweep, "
        "evaluate, reconcile, push: write them in that order"
    ]


def test_a_step_is_listed_once(tmp_path):
    assert problems(
        tmp_path,
        """
        [jobs.cycle]
        every_minutes = 15
        steps = ["pull", "pull"]
        """,
    ) == ["jobs/schedule.toml:jobs.cycle.steps: each step once: pull given twice"]


def test_a_job_has_steps(tmp_path):
    assert problems(
        tmp_path,
        """
        [jobs.cycle]
        every_minutes = 15
        steps = []
        """,
    ) == ["jobs/schedule.toml:jobs.cycle.steps: must not be empty"]


# -- rules ---------------------------------------------------------------------------------
def test_an_unknown_rule_is_reported_with_a_suggestion(tmp_path):
    assert problems(
        tmp_path,
        """
        [jobs.weekly]
        cron = "0 8 * * mon"
        steps = ["evaluate"]
        rules = ["risk_weekly_updat"]
        """,
    ) == [
        'jobs/schedule.toml:jobs.weekly.rules.0: unknown rule "risk_weekly_updat" '
        "(did you mean 'risk_weekly_update'?)"
    ]


def test_an_unknown_excluded_rule_is_reported(tmp_path):
    (line,) = problems(
        tmp_path,
        """
        [jobs.cycle]
        every_minutes = 15
        steps = ["evaluate"]
        exclude_rules = ["risk_weekly_update", "no_such_rule_at_all"]
        """,
    )
    assert line.startswith(
        'jobs/schedule.toml:jobs.cycle.exclude_rules.1: unknown rule "no_such_rule_at_all"'
    )


def test_rules_and_exclude_rules_are_exclusive(tmp_path):
    assert problems(
        tmp_path,
        """
        [jobs.cycle]
        every_minutes = 15
        steps = ["evaluate"]
        rules = ["risk_weekly_update"]
        exclude_rules = ["nps_survey_due"]
        """,
    ) == [
        "jobs/schedule.toml:jobs.cycle.exclude_rules: give either rules or exclude_rules, not both"
    ]


def test_rules_need_a_job_that_evaluates(tmp_path):
    assert problems(
        tmp_path,
        """
        [jobs.sweep]
        cron = "30 2 * * *"
        steps = ["sweep"]
        rules = ["risk_weekly_update"]
        """,
    ) == [
        'jobs/schedule.toml:jobs.sweep.rules: only a job whose steps include "evaluate" runs rules'
    ]


def test_known_rules_can_be_given(tmp_path):
    schedule = load_schedule(
        write(
            tmp_path,
            """
        [jobs.cycle]
        every_minutes = 15
        steps = ["evaluate"]
        rules = ["a"]
        """,
        ),
        known_rules=["a", "b"],
    )
    assert schedule.job("cycle").rules == ("a",)


# -- the file as a whole -------------------------------------------------------------------
def test_an_unknown_key_is_reported_with_a_suggestion(tmp_path):
    assert problems(
        tmp_path,
        """
        [jobs.cycle]
        every_minute = 15
        steps = ["pull"]
        """,
    ) == ["jobs/schedule.toml:jobs.cycle.every_minute: unknown key (did you mean 'every_minutes'?)"]


def test_a_bad_job_name_is_reported(tmp_path):
    assert problems(
        tmp_path,
        """
        [jobs.Cycle]
        every_minutes = 15
        steps = ["pull"]
        """,
    ) == [
        "jobs/schedule.toml:jobs.Cycle: a job name is lower-case letters, digits, _ and "
        "- (it names the lock and the metrics)"
    ]


def test_a_file_without_jobs_is_reported(tmp_path):
    assert problems(tmp_path, 'timezone = "UTC"\n') == [
        "jobs/schedule.toml:jobs: missing (required)"
    ]


def test_invalid_toml_is_reported_with_its_line(tmp_path):
    (line,) = problems(tmp_path, "[jobs.cycle\nsteps = 1\n")
    assert line.startswith("jobs/schedule.toml: invalid TOML at line 1")


def test_a_missing_file_is_reported(tmp_path):
    (line,) = [e.line() for e in check_schedule(tmp_path / "nope.toml")]
    assert line.startswith("jobs/schedule.toml: cannot read: ")


def test_every_problem_of_every_job_is_reported_at_once(tmp_path):
    lines = problems(
        tmp_path,
        """
        [jobs.cycle]
        every_minutes = 15
        steps = ["push", "pull"]
        exclude_rules = ["nope"]

        [jobs.weekly]
        cron = "0 25 * * mon"
        steps = ["evaluate"]
        rules = ["risk_weekly_update"]
        """,
    )
    keys = [line.split(": ", 1)[0] for line in lines]
    assert keys == [
        "jobs/schedule.toml:jobs.cycle.steps",
        "jobs/schedule.toml:jobs.cycle.exclude_rules",
        "jobs/schedule.toml:jobs.cycle.exclude_rules.0",
        "jobs/schedule.toml:jobs.weekly.cron",
    ]
