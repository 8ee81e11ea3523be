"""The rule set's thresholds and cadences: ``mappings/rules.toml`` over RULES.md's defaults.

Every number in RULES.md is a default an admin can change here; a wrong key or type is a
``file:key`` error before anything runs. ``mappings/rules.toml`` lists every key with its default
(``tests/rules/test_params.py`` keeps the two equal).
"""

from __future__ import annotations

import tomllib
from fractions import Fraction
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, ValidationError, field_validator

from connector.errors import ConfigError, ConfigErrors
from connector.rules.bands import Bands, DayBands, Points, RatioBands, Section, WholeBands


def exact(value: float) -> Fraction:
    """A config number as the decimal an admin wrote: ``0.7`` is exactly 7/10, not a float."""
    return Fraction(str(value))


# -- the sections, in RULES.md's order ------------------------------------------------------


class SupportParams(Section):
    volume_threshold: int = Field(default=20, ge=1)
    volume_days: int = Field(default=30, ge=1)
    max_age_days: int = Field(default=21, ge=0)
    priority_hours: int = Field(default=48, ge=0)
    due_days: int = 2


class BugParams(Section):
    tags: tuple[str, ...] = ("bug",)
    min_volume: int = Field(default=5, ge=1)
    per_license: float = Field(default=0.01, ge=0)
    max_age_days: int = Field(default=30, ge=0)
    due_days: int = 2


class ProductParams(Section):
    tags: tuple[str, ...] = ("feature_request",)
    days: int = Field(default=90, ge=1)
    min_count: int = Field(default=3, ge=1)
    due_days: int = 7


class UsageParams(Section):
    drop_ratio: float = Field(default=0.70, gt=0, le=1)
    min_mean: float = Field(default=5, ge=0)
    weeks_before: int = Field(default=4, ge=1)
    due_days: int = 5


class DeploymentParams(Section):
    # licences active / licences purchased (above 1 is Green; blank or 0 purchased: no data)
    bands: Bands = Bands(green=0.80, yellow=0.60, orange=0.40)
    due_days: int = 14
    expansion_due_days: int = 30


class NpsParams(Section):
    kinds: tuple[str, ...] = ()  # empty: every kind
    relationship_kinds: tuple[str, ...] = ("Relationship",)
    detractor_days: int = 30
    detractor_due_days: int = 2
    gap_days: int = 180
    gap_end_user_min: int = 30
    gap_exec_max: int = 0
    gap_due_days: int = 14
    survey_days: int = 180
    survey_due_days: int = 14


class RelationshipParams(Section):
    sponsor_missing_due_days: int = 14
    turnover_due_days: int = 7


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class RiskParams(Section):
    update_days: int = 7
    update_weekday: str = "Wednesday"
    review_weekday: str = "Friday"

    @field_validator("update_weekday", "review_weekday")
    @classmethod
    def _weekday(cls, value: str) -> str:
        if value.lower() not in WEEKDAYS:
            raise ValueError(f'expected a day such as "Wednesday", got "{value}"')
        return value


class TimelineParams(Section):
    days: int = 7
    due_days: int = 3


class CadenceParams(Section):
    every_days: int
    due_days: int


class SalesHandoffParams(Section):
    days: int = 30
    new_business_types: tuple[str, ...] = ("New Business",)
    due_days: int = 7


class RenewalParams(Section):
    within_days: int = 120
    renewal_types: tuple[str, ...] = ("Renewal",)
    due_days: int = 14
    review_due_days: int = 7
    email_before_days: int = 90


class IvmParams(Section):
    onboarding_stages: tuple[str, ...] = ("Welcome", "Deploy")
    tactical_fields: tuple[str, ...] = (
        "ivm_kickoff_done",
        "ivm_integration_live",
        "ivm_training_done",
    )
    pilot_share: float = 0.10
    users_share: float = 0.80
    features_green: int = 5
    due_days: int = 7


class ExpansionParams(Section):
    catalog: tuple[str, ...] = ("Analytics", "Automation", "Journeys", "Integrations", "Mobile")
    healthy_features: int = 5
    healthy_due_days: int = 14


class ScorecardParams(Section):
    weights: dict[str, float] = Field(
        default_factory=lambda: {
            "support": 20.0,
            "bug": 15.0,
            "deployment": 20.0,
            "adoption": 20.0,
            "nps": 15.0,
            "engagement": 10.0,
        }
    )
    points: Points = Points()
    overall_bands: WholeBands = WholeBands(green=75, yellow=50, orange=25)
    ratio_bands: RatioBands = RatioBands()  # support and bug measures
    adoption_bands: WholeBands = WholeBands(green=5, yellow=4, orange=2)  # of 7, scaled
    nps_days: int = Field(default=180, ge=1)
    nps_bands: WholeBands = WholeBands(green=30, yellow=0, orange=-30)
    engagement_bands: DayBands = DayBands(green=7, yellow=14, orange=30)
    keep_weeks: int = 104
    max_objectives: int = Field(default=4, ge=1)  # get_well_plan


class RuleParams(Section):
    """Every rule's parameters, with RULES.md's defaults."""

    timezone: str = "UTC"
    high_touch_segments: tuple[str, ...] = ("Enterprise", "Strategic")
    # Tracked feature metrics: usage_week column -> the weekly value that counts as green.
    features: dict[str, float] = Field(
        default_factory=lambda: {
            "feature_dashboards": 10.0,
            "feature_reports": 10.0,
            "feature_alerts": 10.0,
            "feature_integrations": 10.0,
            "feature_automations": 10.0,
            "feature_mobile": 10.0,
            "feature_api": 10.0,
        }
    )
    cool_down_days: int = 14
    cool_down: dict[str, int] = Field(default_factory=dict)  # per rule id
    disabled: tuple[str, ...] = ()  # rule ids the admin switched off
    support: SupportParams = SupportParams()
    bug: BugParams = BugParams()
    product: ProductParams = ProductParams()
    usage: UsageParams = UsageParams()
    deployment: DeploymentParams = DeploymentParams()
    nps: NpsParams = NpsParams()
    relationship: RelationshipParams = RelationshipParams()
    risk: RiskParams = RiskParams()
    timeline_hygiene: TimelineParams = TimelineParams()
    exec_checkin: CadenceParams = CadenceParams(every_days=90, due_days=14)
    ebr: CadenceParams = CadenceParams(every_days=180, due_days=30)
    sales_handoff: SalesHandoffParams = SalesHandoffParams()
    renewal: RenewalParams = RenewalParams()
    ivm: IvmParams = IvmParams()
    expansion: ExpansionParams = ExpansionParams()
    scorecard: ScorecardParams = ScorecardParams()

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f'unknown timezone "{value}": use an IANA name such as "Europe/Paris" or "UTC"'
            ) from None
        return value

    def cool_down_for(self, rule_id: str) -> int:
        return self.cool_down.get(rule_id, self.cool_down_days)


def load_params(path: Path, origin: str | None = None) -> RuleParams:
    """``rules.toml`` (absent: every default); problems as ``file:key: reason``, all at once."""
    params = load_toml(path, RuleParams, origin)
    problems = unknown_rule_ids(params, origin or str(path))
    if problems:
        raise ConfigErrors(problems)
    return params


def unknown_rule_ids(params: RuleParams, name: str) -> list[ConfigError]:
    """A misspelt rule id in ``disabled`` or ``[cool_down]`` would silently do nothing."""
    from difflib import get_close_matches

    from connector.rules import by_id  # the registry imports this module

    known = sorted(by_id())

    def problem(key: str, rule_id: str) -> ConfigError:
        near = get_close_matches(rule_id, known, n=1)
        hint = f" (did you mean '{near[0]}'?)" if near else ""
        return ConfigError(name, key, f"no rule '{rule_id}'{hint}")

    problems = [problem("disabled", r) for r in params.disabled if r not in known]
    problems += [problem(f"cool_down.{r}", r) for r in params.cool_down if r not in known]
    return problems


M = TypeVar("M", bound=BaseModel)


def load_toml(path: Path, model: type[M], origin: str | None = None) -> M:
    """A TOML file validated into ``model`` (absent: the model's defaults); every problem at once
    as ``file:key: reason``, ``origin`` naming the file."""
    name = origin or str(path)
    if not path.is_file():
        return model()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigErrors([ConfigError(name, "", f"not valid TOML: {exc}")]) from None
    except UnicodeDecodeError:
        raise ConfigErrors([ConfigError(name, "", "not UTF-8 text")]) from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [
            ConfigError(name, ".".join(str(p) for p in e["loc"]), _reason(e["msg"]))
            for e in exc.errors()
        ]
        raise ConfigErrors(problems) from None


def _reason(message: str) -> str:
    """Pydantic's message as a reason: ``Value error, `` dropped, lower-case first letter."""
    message = message.removeprefix("Value error, ")
    return message[:1].lower() + message[1:]
