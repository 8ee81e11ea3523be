"""The answer key's shared measures: ticket conditions, usage weeks, NPS and the scorecard."""

from __future__ import annotations

import math
from datetime import timedelta
from fractions import Fraction

from connector.sandbox.seed.core import monday
from connector.sandbox.seed.expect import FEATURES, OPEN, Ctx, Rec, kind, ticket_age

POINTS = {"Green": 100, "Yellow": 66, "Orange": 33, "Red": 0}
WEIGHTS = {"support": 20, "bug": 15, "deployment": 20, "adoption": 20, "nps": 15, "engagement": 10}


def open_tickets(ctx: Ctx, a: str, k: str) -> list[Rec]:
    return [t for t in ctx.tickets[a] if kind(t) == k and t["status"] in OPEN]


def support_limit(ctx: Ctx, a: str) -> int:
    return int(ctx.accounts[a].get("Support_Volume_Threshold__c") or 20)


def bug_limit(ctx: Ctx, a: str) -> int:
    acct = ctx.accounts[a]
    if acct.get("Bug_Volume_Threshold__c"):
        return int(acct["Bug_Volume_Threshold__c"])
    lic = acct.get("Licenses_Purchased__c")
    return 5 if lic is None else max(5, math.ceil(Fraction(int(lic), 100)))


def support_condition(ctx: Ctx, a: str) -> bool:
    recent = [
        t
        for t in ctx.tickets[a]
        if kind(t) == "support" and ticket_age(ctx, t) <= timedelta(days=30)
    ]
    old = [t for t in open_tickets(ctx, a, "support") if ticket_age(ctx, t) > timedelta(days=21)]
    urgent = [
        t
        for t in open_tickets(ctx, a, "support")
        if t["priority"] in ("high", "urgent") and ticket_age(ctx, t) > timedelta(hours=48)
    ]
    return len(recent) >= support_limit(ctx, a) or bool(old) or bool(urgent)


def bug_condition(ctx: Ctx, a: str) -> bool:
    bugs = open_tickets(ctx, a, "bug")
    old = [
        t
        for t in bugs
        if t["priority"] in ("high", "urgent") and ticket_age(ctx, t) > timedelta(days=30)
    ]
    return len(bugs) >= bug_limit(ctx, a) or bool(old)


def week_row(ctx: Ctx, a: str, weeks_back: int) -> Rec | None:
    return ctx.usage[a].get(monday(ctx.today) - timedelta(weeks=weeks_back))


def greens(row: Rec) -> int:
    return sum(1 for f in FEATURES if row.get(f) is not None and row[f] >= 10)


def deployment(ctx: Ctx, a: str) -> str | None:
    acct = ctx.accounts[a]
    bought, active = acct.get("Licenses_Purchased__c"), acct.get("Licenses_Active__c")
    if bought is None or active is None or not bought:
        return None
    ratio = Fraction(int(active), int(bought))
    return next(
        c
        for lim, c in (
            (Fraction(8, 10), "Green"),
            (Fraction(6, 10), "Yellow"),
            (Fraction(4, 10), "Orange"),
            (0, "Red"),
        )
        if ratio >= lim
    )


def nps(scores: list[int]) -> int:
    """% promoters - % detractors, rounded half away from zero."""
    value = Fraction(100 * (sum(s >= 9 for s in scores) - sum(s <= 6 for s in scores)), len(scores))
    return int(math.copysign(math.floor(abs(value) + Fraction(1, 2)), value))


def responses(ctx: Ctx, a: str, days: int) -> list[Rec]:
    return [
        s
        for s in ctx.answers[a]
        if s["Score__c"] is not None and ctx.within(s["Answer_Date__c"], days)
    ]


def since_activity(ctx: Ctx, a: str) -> float:
    last = ctx.activity.get(a)
    return math.inf if last is None else ctx.days_since(last)


def colours(ctx: Ctx, a: str) -> dict[str, str | None]:
    """Each scorecard measure's colour (None: no data)."""

    def band(ratio: Fraction) -> str:
        return (
            "Green" if ratio < Fraction(1, 2) else "Yellow" if ratio < Fraction(3, 4) else "Orange"
        )

    last = week_row(ctx, a, 1)
    g = None if last is None else greens(last)
    scores = [int(s["Score__c"]) for s in responses(ctx, a, 180)]
    n = nps(scores) if scores else None
    days = since_activity(ctx, a)
    return {
        "support": "Red"
        if support_condition(ctx, a)
        else band(Fraction(len(open_tickets(ctx, a, "support")), support_limit(ctx, a))),
        "bug": "Red"
        if bug_condition(ctx, a)
        else band(Fraction(len(open_tickets(ctx, a, "bug")), bug_limit(ctx, a))),
        "deployment": deployment(ctx, a),
        "adoption": None
        if g is None
        else "Green"
        if g >= 5
        else "Yellow"
        if g == 4
        else "Orange"
        if g >= 2
        else "Red",
        "nps": None
        if n is None
        else "Green"
        if n >= 30
        else "Yellow"
        if n >= 0
        else "Orange"
        if n >= -30
        else "Red",
        "engagement": "Green"
        if days <= 7
        else "Yellow"
        if days <= 14
        else "Orange"
        if days <= 30
        else "Red",
    }


def overall(ctx: Ctx, a: str) -> Fraction:
    """The exact weighted mean of the points of the measures with data."""
    have = {m: c for m, c in colours(ctx, a).items() if c is not None}
    return Fraction(
        sum(WEIGHTS[m] * POINTS[c] for m, c in have.items()), sum(WEIGHTS[m] for m in have)
    )
