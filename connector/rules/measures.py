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
from functools import lru_cache
from typing import Any

from sqlalchemy.engine import RowMapping

from connector.rules import outputs as out
from connector.rules.bands import COLOURS, Bands, Colour, DayBands, RatioBands, WholeBands
from connector.rules.deployment import bands_text
from connector.rules.model import RuleContext
from connector.rules.params import exact
from connector.rules.scope import days_before
from connector.rules.sqlfn import split_list
from connector.rules.usage_weeks import adoption_colour

# The table's order: ties of weight keep it (Get Well objectives).
MEASURES = ("support", "bug", "deployment", "adoption", "nps", "engagement")


@dataclass(frozen=True)
class Measure:
    """One measure's reading: ``colour`` None means no data (left out of the overall)."""

    name: str
    colour: Colour | None
    figure: float | None
    evidence: str
    current: str  # the current figure, in words (objectives)
    target: str  # what to bring back (objectives)


# -- bands (pure; the bounds are ``rules.toml``'s, compared exactly as written) ----------------
# A config number as an exact Fraction, once per value: the bounds and weights are the same few
# numbers for every scorecard row (``exact`` parses a string into a Fraction each call).
exact_bound = lru_cache(maxsize=256, typed=True)(exact)


def colour_at_least(value: Fraction | int, bands: Bands) -> Colour:
    """The first colour whose lower bound ``value`` reaches (NPS, overall score), else Red."""
    return next((c for bound, c in bands.bounds() if value >= exact_bound(bound)), "Red")


def colour_of_ratio(ratio: Fraction, bands: RatioBands) -> Colour:
    """Open tickets / threshold below a bound (defaults 0.5 Green, 0.75 Yellow), else Orange;
    Red is the rule's condition, decided by the caller."""
    return next((c for bound, c in bands.bounds() if ratio < exact_bound(bound)), "Orange")


def engagement_colour(days: int | None, bands: DayBands) -> Colour:
    """Days since the last activity at most a bound (defaults 7, 14, 30); none at all: Red."""
    if days is None:
        return "Red"
    return next((c for bound, c in bands.bounds() if days <= bound), "Red")


@lru_cache(maxsize=64)  # constant per params: written into every scorecard's evidence
def _ratio_text(bands: RatioBands, rule: str) -> str:
    below = ", ".join(f"{c} < {out.number(b)}" for b, c in bands.bounds())
    return f"{below}, else Orange; Red while the {rule} condition holds"


@lru_cache(maxsize=64)
def _counts_text(bands: WholeBands) -> str:
    """``Green >= 5, Yellow 4, Orange 2-3, Red <= 1``: whole-number bands as ranges."""

    def span(low: int, high: int) -> str:
        return str(low) if low == high else f"{low}-{high}" if low < high else "none"

    g, y, o = bands.green, bands.yellow, bands.orange
    return f"Green >= {g}, Yellow {span(y, g - 1)}, Orange {span(o, y - 1)}, Red <= {o - 1}"


def _colour(value: str | None) -> Colour | None:
    """A colour name from another family's builder, typed."""
    return next((c for c in COLOURS if c == value), None)


def _ticket_ratio(
    row: RowMapping, measure: str, bands: RatioBands
) -> tuple[int, int, Fraction | None, Colour]:
    """Open tickets, the threshold, their ratio and the colour: Red while the rule's condition
    holds (``<measure>_condition``), else the ratio's band."""
    n_open, threshold = int(row[f"{measure}_open"]), int(row[f"{measure}_threshold"])
    ratio = Fraction(n_open, threshold) if threshold > 0 else None
    if row[f"{measure}_condition"] or ratio is None:
        return n_open, threshold, ratio, "Red"
    return n_open, threshold, ratio, colour_of_ratio(ratio, bands)


def _num(value: Fraction | None) -> str:
    return "n/a" if value is None else f"{float(value):.4g}"


def _figure(value: Fraction | None) -> float | None:
    return None if value is None else round(float(value), 4)


@lru_cache(maxsize=64, typed=True)
def _percent(share: float) -> str:
    return out.number(exact(share) * 100)


# -- the six colours alone (the readers below take theirs from the same functions) ---------------
def _support_colour(row: RowMapping, ctx: RuleContext) -> Colour | None:
    return _ticket_ratio(row, "support", ctx.params.scorecard.ratio_bands)[3]


def _bug_colour(row: RowMapping, ctx: RuleContext) -> Colour | None:
    return _ticket_ratio(row, "bug", ctx.params.scorecard.ratio_bands)[3]


def _deployment_colour(row: RowMapping, ctx: RuleContext) -> Colour | None:
    colour: Colour | None = row["dep_colour"]
    return colour


def _adoption_colour(row: RowMapping, ctx: RuleContext) -> Colour | None:
    tracked, green = len(ctx.params.features), int(row["features_green"] or 0)
    b = ctx.params.scorecard.adoption_bands
    return _colour(adoption_colour(green, tracked, b, bool(row["usage_has_row"])))


def _nps_colour(row: RowMapping, ctx: RuleContext) -> Colour | None:
    value, responses = row["nps"], int(row["nps_responses"] or 0)
    if value is None or not responses:
        return None
    return colour_at_least(int(value), ctx.params.scorecard.nps_bands)


def _days_since_activity(row: RowMapping, ctx: RuleContext) -> tuple[date | None, int | None]:
    last = _as_date(row["last_activity"])
    return last, None if last is None else (ctx.today - last).days


def _engagement_colour(row: RowMapping, ctx: RuleContext) -> Colour | None:
    _, days = _days_since_activity(row, ctx)
    return engagement_colour(days, ctx.params.scorecard.engagement_bands)


COLOUR_READERS: dict[str, Callable[[RowMapping, RuleContext], Colour | None]] = {
    "support": _support_colour,
    "bug": _bug_colour,
    "deployment": _deployment_colour,
    "adoption": _adoption_colour,
    "nps": _nps_colour,
    "engagement": _engagement_colour,
}


def read_colours(row: RowMapping, ctx: RuleContext) -> dict[str, Colour | None]:
    """Each measure's colour of one scorecard row, as ``read_measures`` gives it, without the
    evidence text: what the overall colour needs (Get Well reads it for every customer and
    writes text for the few Red ones)."""
    return {name: COLOUR_READERS[name](row, ctx) for name in MEASURES}


# -- the six measures ---------------------------------------------------------------------------
def support(row: RowMapping, ctx: RuleContext) -> Measure:
    """Red while support_risk's condition holds, else open support tickets / threshold."""
    p, bands = ctx.params.support, ctx.params.scorecard.ratio_bands
    n_open, threshold, ratio, colour = _ticket_ratio(row, "support", bands)
    source = "account override" if row["support_override"] is not None else "default"
    old = split_list(row["support_old_ids"], numeric=True)
    high = split_list(row["support_high_ids"], numeric=True)
    condition = (
        f"support_risk condition {'holds' if row['support_condition'] else 'does not hold'}: "
        f"{row['support_volume']} support tickets created in the last {p.volume_days} days "
        f"(threshold {threshold}); "
        f"open older than {p.max_age_days} days: {out.tickets(old) or 'none'}; "
        f"open high/urgent older than {p.priority_hours} hours: {out.tickets(high) or 'none'}"
    )
    current = f"{n_open} open support tickets / threshold {threshold} ({source}) = {_num(ratio)}"
    evidence = f"support {colour}: {current} ({_ratio_text(bands, 'support_risk')}); {condition}"
    target = (
        f"Clear the support risk and bring open support tickets below "
        f"{_percent(bands.green)} % of the threshold ({threshold})"
    )
    return Measure("support", colour, _figure(ratio), evidence, current, target)


def bug(row: RowMapping, ctx: RuleContext) -> Measure:
    """Red while bug_risk's condition holds, else open bug tickets / bug threshold."""
    p, bands = ctx.params.bug, ctx.params.scorecard.ratio_bands
    n_open, threshold, ratio, colour = _ticket_ratio(row, "bug", bands)
    source = "account override" if row["bug_override"] is not None else "computed"
    high = split_list(row["bug_high_ids"], numeric=True)
    current = f"{n_open} open bug tickets / bug threshold {threshold} ({source}) = {_num(ratio)}"
    evidence = (
        f"bug {colour}: {current} ({_ratio_text(bands, 'bug_risk')}); bug_risk condition "
        f"{'holds' if row['bug_condition'] else 'does not hold'}: open high/urgent bug tickets "
        f"older than {p.max_age_days} days: {out.tickets(high) or 'none'}"
    )
    target = (
        f"Clear the bug risk and bring open bug tickets below {_percent(bands.green)} % of the "
        f"bug threshold ({threshold})"
    )
    return Measure("bug", colour, _figure(ratio), evidence, current, target)


def deployment(row: RowMapping, ctx: RuleContext) -> Measure:
    """The deployment colour as ``deployment.py`` computes it (no data: blank or 0 purchased)."""
    active, purchased, colour = row["licenses_active"], row["licenses_purchased"], row["dep_colour"]
    ratio = None if colour is None else Fraction(int(active), int(purchased))
    current = f"{active} active of {purchased} licenses purchased = {_num(ratio)}"
    bands = ctx.params.deployment.bands
    evidence = (
        f"deployment {colour}: {current} ({bands_text(bands)})"
        if colour
        else f"deployment no data: {current}"
    )
    target = f"Bring active licenses to at least {_percent(bands.green)} % of licenses purchased"
    return Measure("deployment", colour, _figure(ratio), evidence, current, target)


def adoption(row: RowMapping, ctx: RuleContext) -> Measure:
    """Features green in the last complete week; no data without a usage row for it."""
    tracked, green = len(ctx.params.features), row["features_green"]
    monday = row["usage_week"]
    b = ctx.params.scorecard.adoption_bands
    colour = _adoption_colour(row, ctx)
    current = f"{green} of {tracked} tracked features green in the week of {monday}"
    bands = f"{_counts_text(b)}, of 7 scaled to {tracked}"
    evidence = (
        f"adoption {colour}: {current} ({bands})"
        if colour
        else f"adoption no data: no usage row for the week of {monday}"
    )
    target = (
        f"Bring at least {b.green} of 7 tracked features (scaled to {tracked}) to green in a "
        "complete week"
    )
    figure = None if colour is None else float(green)
    return Measure("adoption", colour, figure, evidence, current, target)


def nps(row: RowMapping, ctx: RuleContext) -> Measure:
    """Account NPS over every NPS response dated in the last ``scorecard.nps_days`` days; no
    data without one."""
    p = ctx.params.scorecard
    value, responses = row["nps"], int(row["nps_responses"] or 0)
    colour = _nps_colour(row, ctx)
    since = days_before(ctx, p.nps_days)
    current = (
        f"NPS {value} from {responses} responses dated {since} to {ctx.today} "
        f"({row['nps_promoters']} promoters, {row['nps_detractors']} detractors)"
    )
    evidence = (
        f"nps {colour}: {current} ({out.bands_text(p.nps_bands)})"
        if colour
        else f"nps no data: no NPS response dated {since} to {ctx.today}"
    )
    target = f"Bring the account NPS (last {p.nps_days} days) to {p.nps_bands.green} or more"
    figure = None if colour is None else float(value)
    return Measure("nps", colour, figure, evidence, current, target)


def engagement(row: RowMapping, ctx: RuleContext) -> Measure:
    """Days since the last activity (none at all: Red, figure blank)."""
    last, days = _days_since_activity(row, ctx)
    b = ctx.params.scorecard.engagement_bands
    colour = engagement_colour(days, b)
    current = (
        f"last activity {last}: {days} days before {ctx.today}" if last else "no activity recorded"
    )
    bands = f"Green <= {b.green} days, Yellow <= {b.yellow}, Orange <= {b.orange}, else Red"
    evidence = f"engagement {colour}: {current} ({bands}; no activity at all: Red)"
    target = f"Log an activity with the account at least every {b.green} days"
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
