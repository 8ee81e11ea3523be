"""The six health measures of RULES.md ("Scorecards and health"), read from one scorecard row.

Pure Python over the figures the scorecard statement fetched: each measure's colour (``None``
when it has no data), its figure, the evidence (figure against the bands) and, for the Get Well
plan, what to bring back. Ratios are compared exactly (``Fraction``), never as rounded floats.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any, Literal

from sqlalchemy.engine import RowMapping

from connector.rules import outputs as out
from connector.rules.model import RuleContext
from connector.rules.nps import SCORECARD_NPS_DAYS
from connector.rules.scope import days_before, instant_before
from connector.rules.sqlfn import split_list
from connector.rules.usage import adoption_colour

Colour = Literal["Green", "Yellow", "Orange", "Red"]
POINTS: dict[Colour, int] = {"Green": 100, "Yellow": 66, "Orange": 33, "Red": 0}
# The table's order: ties of weight keep it (Get Well objectives).
MEASURES = ("support", "bug", "deployment", "adoption", "nps", "engagement")

# Bands of RULES.md, best first: a ratio below the bound (else Orange); an NPS at or above
# the bound, days at most the bound (else Red). Adoption's bands are ``usage.py``'s.
Bands = tuple[tuple[int, Colour], ...]
RATIO_BANDS: tuple[tuple[Fraction, Colour], ...] = (
    (Fraction(1, 2), "Green"),
    (Fraction(3, 4), "Yellow"),
)
NPS_BANDS: Bands = ((30, "Green"), (0, "Yellow"), (-30, "Orange"))
ENGAGEMENT_BANDS: Bands = ((7, "Green"), (14, "Yellow"), (30, "Orange"))


@dataclass(frozen=True)
class Measure:
    """One measure's reading: ``colour`` None means no data (left out of the overall)."""

    name: str
    colour: Colour | None
    figure: float | None
    evidence: str
    current: str  # the current figure, in words (objectives)
    target: str  # what to bring back (objectives)


# -- bands (pure) -------------------------------------------------------------------------------
def colour_of_ratio(ratio: Fraction) -> Colour:
    """Open tickets / threshold: < 0.5 Green, < 0.75 Yellow, else Orange (Red is the condition)."""
    for bound, colour in RATIO_BANDS:
        if ratio < bound:
            return colour
    return "Orange"


def nps_colour(nps: int) -> Colour:
    """The (already rounded) account NPS: >= 30 Green, >= 0 Yellow, >= -30 Orange, else Red."""
    for bound, colour in NPS_BANDS:
        if nps >= bound:
            return colour
    return "Red"


def engagement_colour(days: int | None) -> Colour:
    """Days since the last activity: <= 7 Green, <= 14 Yellow, <= 30 Orange; none at all Red."""
    if days is None:
        return "Red"
    for bound, colour in ENGAGEMENT_BANDS:
        if days <= bound:
            return colour
    return "Red"


def _colour(value: str | None) -> Colour | None:
    """A colour name from another family's builder, typed."""
    return next((c for c in POINTS if c == value), None)


def _ratio(count: int, threshold: int | None) -> Fraction | None:
    return Fraction(count, threshold) if threshold is not None and threshold > 0 else None


def _num(value: Fraction | None) -> str:
    return "n/a" if value is None else f"{float(value):.4g}"


def _figure(value: Fraction | None) -> float | None:
    return None if value is None else round(float(value), 4)


# -- the six measures ---------------------------------------------------------------------------
def support(row: RowMapping, ctx: RuleContext) -> Measure:
    """Red while support_risk's condition holds, else open support tickets / threshold."""
    p = ctx.params.support
    n_open, threshold = int(row["support_open"]), int(row["support_threshold"])
    ratio = _ratio(n_open, threshold)
    colour: Colour = "Red" if row["support_condition"] or ratio is None else colour_of_ratio(ratio)
    source = "account override" if row["support_override"] is not None else "default"
    old = split_list(row["support_old_ids"], numeric=True)
    high = split_list(row["support_high_ids"], numeric=True)
    condition = (
        f"support_risk condition {'holds' if row['support_condition'] else 'does not hold'}: "
        f"{row['support_volume']} support tickets created since "
        f"{out.when(instant_before(ctx, days=p.volume_days))} (threshold {threshold}); "
        f"open older than {p.max_age_days} days: {out.tickets(old) or 'none'}; "
        f"open high/urgent older than {p.priority_hours} hours: {out.tickets(high) or 'none'}"
    )
    current = f"{n_open} open support tickets / threshold {threshold} ({source}) = {_num(ratio)}"
    evidence = (
        f"support {colour}: {current} (Green < 0.5, Yellow < 0.75, else Orange; "
        f"Red while the support_risk condition holds); {condition}"
    )
    target = (
        f"Clear the support risk and bring open support tickets below 50 % of the "
        f"threshold ({threshold})"
    )
    return Measure("support", colour, _figure(ratio), evidence, current, target)


def bug(row: RowMapping, ctx: RuleContext) -> Measure:
    """Red while bug_risk's condition holds, else open bug tickets / bug threshold."""
    p = ctx.params.bug
    n_open, threshold = int(row["bug_open"]), int(row["bug_threshold"])
    ratio = _ratio(n_open, threshold)
    colour: Colour = "Red" if row["bug_condition"] or ratio is None else colour_of_ratio(ratio)
    source = "account override" if row["bug_override"] is not None else "computed"
    high = split_list(row["bug_high_ids"], numeric=True)
    current = f"{n_open} open bug tickets / bug threshold {threshold} ({source}) = {_num(ratio)}"
    evidence = (
        f"bug {colour}: {current} (Green < 0.5, Yellow < 0.75, else Orange; Red while the "
        f"bug_risk condition holds); bug_risk condition "
        f"{'holds' if row['bug_condition'] else 'does not hold'}: open high/urgent bug tickets "
        f"older than {p.max_age_days} days: {out.tickets(high) or 'none'}"
    )
    target = (
        f"Clear the bug risk and bring open bug tickets below 50 % of the bug threshold "
        f"({threshold})"
    )
    return Measure("bug", colour, _figure(ratio), evidence, current, target)


def deployment(row: RowMapping, ctx: RuleContext) -> Measure:
    """The deployment colour as ``deployment.py`` computes it (no data: blank or 0 purchased)."""
    active, purchased, colour = row["licenses_active"], row["licenses_purchased"], row["dep_colour"]
    ratio = None if colour is None else Fraction(int(active), int(purchased))
    current = f"{active} active of {purchased} licenses purchased = {_num(ratio)}"
    bands = "Green >= 0.80, Yellow >= 0.60, Orange >= 0.40, else Red"
    evidence = (
        f"deployment {colour}: {current} ({bands})" if colour else f"deployment no data: {current}"
    )
    target = "Bring active licenses to at least 80 % of licenses purchased"
    return Measure("deployment", colour, _figure(ratio), evidence, current, target)


def adoption(row: RowMapping, ctx: RuleContext) -> Measure:
    """Features green in the last complete week; no data without a usage row for it."""
    tracked, green = len(ctx.params.features), row["features_green"]
    monday = row["usage_week"]
    colour = _colour(adoption_colour(int(green or 0), tracked, bool(row["usage_has_row"])))
    current = f"{green} of {tracked} tracked features green in the week of {monday}"
    bands = f"Green >= 5, Yellow 4, Orange 2-3, Red <= 1, of 7 scaled to {tracked}"
    evidence = (
        f"adoption {colour}: {current} ({bands})"
        if colour
        else f"adoption no data: no usage row for the week of {monday}"
    )
    target = (
        f"Bring at least 5 of 7 tracked features (scaled to {tracked}) to green in a complete week"
    )
    figure = None if colour is None else float(green)
    return Measure("adoption", colour, figure, evidence, current, target)


def nps(row: RowMapping, ctx: RuleContext) -> Measure:
    """Account NPS over every NPS response dated in the last 180 days; no data without one."""
    value, responses = row["nps"], int(row["nps_responses"] or 0)
    colour = None if value is None or not responses else nps_colour(int(value))
    since = days_before(ctx, SCORECARD_NPS_DAYS)
    current = (
        f"NPS {value} from {responses} responses dated {since} to {ctx.today} "
        f"({row['nps_promoters']} promoters, {row['nps_detractors']} detractors)"
    )
    bands = "Green >= 30, Yellow >= 0, Orange >= -30, else Red"
    evidence = (
        f"nps {colour}: {current} ({bands})"
        if colour
        else f"nps no data: no NPS response dated {since} to {ctx.today}"
    )
    target = "Bring the account NPS (last 180 days) to 30 or more"
    figure = None if colour is None else float(value)
    return Measure("nps", colour, figure, evidence, current, target)


def engagement(row: RowMapping, ctx: RuleContext) -> Measure:
    """Days since the last activity (none at all: Red, figure blank)."""
    last = _as_date(row["last_activity"])
    days = None if last is None else (ctx.today - last).days
    colour = engagement_colour(days)
    current = (
        f"last activity {last}: {days} days before {ctx.today}" if last else "no activity recorded"
    )
    bands = "Green <= 7 days, Yellow <= 14, Orange <= 30, else Red"
    evidence = f"engagement {colour}: {current} ({bands}; no activity at all: Red)"
    target = "Log an activity with the account at least every 7 days"
    return Measure(
        "engagement", colour, None if days is None else float(days), evidence, current, target
    )


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


READERS: dict[str, Callable[[RowMapping, RuleContext], Measure]] = {
    "support": support,
    "bug": bug,
    "deployment": deployment,
    "adoption": adoption,
    "nps": nps,
    "engagement": engagement,
}


def read_measures(row: RowMapping, ctx: RuleContext) -> list[Measure]:
    """The six measures of one scorecard row, in the table's order."""
    return [READERS[name](row, ctx) for name in MEASURES]
