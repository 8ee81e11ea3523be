"""``cs-connector check``: every problem in the configuration, mappings, rules and templates.

It reads everything an admin edits and reports each problem as ``file:key: what is wrong`` in
one pass, so a broken setup is fixed in one round rather than one error per run. It also lists
the rules the current mappings disable (a rule whose inputs are unmapped is skipped, not fatal).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connector.config import load_settings
from connector.errors import ConfigError, ConfigErrors
from connector.evaluate import OWNER_ROLES
from connector.mappings import MappingSet, load_mappings
from connector.rules import all_rules
from connector.rules.params import load_params
from connector.rules.persona import load_personas
from connector.rules.templates import Templates
from connector.schedule import check_schedule
from connector.targets import Target, load_targets


@dataclass
class CheckReport:
    """Problems (each ``file:key: reason``) and the rules the mappings leave disabled."""

    problems: list[str] = field(default_factory=list)
    disabled_rules: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def run_check(config: Path | None) -> CheckReport:
    """Load settings, mappings, rules.toml, personas.toml and templates; collect every problem."""
    report = CheckReport()
    settings = _collect(report, lambda: load_settings(config))
    mappings_dir = settings.mappings_dir if settings else _mappings_dir(config)
    mappings = _collect(report, lambda: load_mappings(mappings_dir))
    _collect(report, lambda: load_params(mappings_dir / "rules.toml", "mappings/rules.toml"))
    _collect(
        report, lambda: load_personas(mappings_dir / "personas.toml", "mappings/personas.toml")
    )
    if mappings_dir.is_dir():
        report.problems.extend(p.line() for p in Templates(mappings_dir / "templates").check())
    origin = config.name if config is not None else "config.toml"
    report.problems.extend(_owners(settings.owners if settings else _raw(config, "owners"), origin))
    targets = _collect(report, lambda: load_targets(mappings_dir))
    if targets is not None and mappings is not None:
        report.problems.extend(e.line() for e in targets_against_pull(targets, mappings))
    schedule = schedule_path(config)
    if schedule.is_file():
        report.problems.extend(e.line() for e in check_schedule(schedule))
    if mappings is not None:
        report.disabled_rules = disabled_by_mappings(mappings)
    return report


def schedule_path(config: Path | None) -> Path:
    """``jobs/schedule.toml`` beside the config (or the working directory)."""
    base = config.parent if config is not None else Path(".")
    return base / "jobs" / "schedule.toml"


def targets_against_pull(targets: Mapping[str, Target], mappings: MappingSet) -> list[ConfigError]:
    """Reconcile sees what people did only through the pull: each output's stream must map the
    fields it reads (External Id, hash, status, snooze, the persona guard)."""
    problems: list[ConfigError] = []
    for t in targets.values():
        if t.stream is None:
            continue
        stream = mappings.stream(t.stream)
        if stream is None:
            problems.append(
                ConfigError(t.origin, "stream", f"no enabled mapping pulls a stream {t.stream!r}")
            )
            continue
        needed = {
            "external_id": t.external_id,
            "status.field": t.status.field if t.status else None,
            "status.closed_flag": t.status.closed_flag if t.status else None,
            "status.snooze_field": t.status.snooze_field if t.status else None,
            "guard": t.crm_field(t.guard) if t.guard else None,
        }
        for key, crm_field in needed.items():
            if crm_field and stream.column_for(crm_field) is None:
                problems.append(
                    ConfigError(
                        t.origin,
                        key,
                        f"{crm_field} is not pulled by {stream.origin}: reconcile "
                        "could not see what people change",
                    )
                )
    return problems


def _raw(config: Path | None, key: str) -> Any:
    """One top-level value of the config file, read leniently when it has other problems."""
    import tomllib

    path = config or Path("config.toml")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8")).get(key)
    except (OSError, ValueError):  # unreadable, not UTF-8, not TOML: reported elsewhere
        return None


def _mappings_dir(config: Path | None) -> Path:
    """The mappings folder a config names, even when the config has other problems."""
    return Path(str(_raw(config, "mappings_dir") or "mappings"))


def _collect(report: CheckReport, load: Callable[[], Any]) -> Any:
    try:
        return load()
    except ConfigErrors as exc:
        report.problems.extend(e.line() for e in exc.errors)
    except ConfigError as exc:
        report.problems.append(exc.line())
    return None


def _owners(owners: Any, origin: str = "config.toml") -> list[str]:
    """Owners named in config (resolving them to users needs the store; the run does that)."""
    owners = owners if isinstance(owners, dict) else {}
    return [
        ConfigError(
            origin, f"owners.{role}", "missing: an email of an active Salesforce user"
        ).line()
        for role in OWNER_ROLES
        if not owners.get(role)
    ]


def disabled_by_mappings(mappings: MappingSet) -> dict[str, list[str]]:
    """Rules whose input streams or columns the mappings do not provide, with what is missing."""
    columns = {m.stream: set(m.columns) for m in mappings.streams}
    disabled: dict[str, list[str]] = {}
    for rule in all_rules():
        missing: list[str] = []
        for stream, needed in rule.requires.items():
            if stream not in columns:
                missing.append(stream)
            else:
                missing.extend(f"{stream}.{c}" for c in needed if c not in columns[stream])
        if missing:
            disabled[rule.id] = missing
    return disabled
