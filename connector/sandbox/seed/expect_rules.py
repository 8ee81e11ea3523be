"""The answer key's rules: every output key RULES.md asks for, per customer account."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, timedelta
from fractions import Fraction

from connector.sandbox.demo_data import DemoData
from connector.sandbox.seed.core import half_year, iso_week
from connector.sandbox.seed.expect import (
    EXEC,
    HIGH_TOUCH,
    Ctx,
    Rec,
    apply_acts,
    build,
    kind,
    ticket_age,
)
from connector.sandbox.seed.expect_health import (
    bug_condition,
    deployment,
    greens,
    nps,
    overall,
    responses,
    since_activity,
    support_condition,
    week_row,
)


def expected_outputs(demo: DemoData, act: int = 0) -> dict[str, set[str]]:
    """Output keys per customer account id, after the edits of acts 1..``act``."""
    state = apply_acts(demo, act) if act else demo
    ctx = build(state, state.anchor)
    out = {a: set(_account_keys(ctx, a)) for a in ctx.accounts}
    if act:
        _turnover(demo, ctx, out)
    return out


def _account_keys(ctx: Ctx, a: str) -> list[str]:
    keys: list[str] = []
    for rule, fires in RULES.items():
        keys += [f"{rule}:{subject}" for subject in fires(ctx, a)]
    return keys


def _product(ctx: Ctx, a: str) -> list[str]:
    n = sum(
        1
        for t in ctx.tickets[a]
        if kind(t) == "product" and ticket_age(ctx, t) <= timedelta(days=90)
    )
    return [a] if n >= 3 else []


def _usage_drop(ctx: Ctx, a: str) -> list[str]:
    last = week_row(ctx, a, 1)
    before = [r for r in (week_row(ctx, a, w) for w in (2, 3, 4, 5)) if r is not None]
    if last is None or not before:
        return []
    mean = Fraction(sum(int(r["Active_Users__c"]) for r in before), len(before))
    return [a] if mean >= 5 and int(last["Active_Users__c"]) <= mean * Fraction(7, 10) else []


def _gap(ctx: Ctx, a: str) -> list[str]:
    latest: dict[str, Rec] = {}
    for s in responses(ctx, a, 180):
        c = s["Contact__c"]
        if c and (c not in latest or _newer(s, latest[c])):
            latest[c] = s
    users = [int(s["Score__c"]) for c, s in latest.items() if ctx.effective.get(c) == "End User"]
    execs = [int(s["Score__c"]) for c, s in latest.items() if ctx.effective.get(c) in EXEC]
    return [a] if users and execs and nps(users) >= 30 and nps(execs) <= 0 else []


def _newer(s: Rec, t: Rec) -> bool:
    return (s["Answer_Date__c"], s["CreatedDate"], s["Id"]) > (
        t["Answer_Date__c"],
        t["CreatedDate"],
        t["Id"],
    )


def active_people(ctx: Ctx, a: str) -> list[Rec]:
    return [c for c in ctx.contacts[a] if not c.get("Left_Company__c")]


def _milestone_within(ctx: Ctx, a: str, mtype: str, days: int) -> bool:
    return any(
        m["Milestone_Type__c"] == mtype and ctx.within(m["Milestone_Date__c"], days)
        for m in ctx.milestones[a]
    )


def _ht(ctx: Ctx, a: str) -> bool:
    return ctx.accounts[a].get("Segment__c") in HIGH_TOUCH


def _sales(ctx: Ctx, a: str) -> list[str]:
    out = []
    for o in ctx.opps[a]:
        handed = any(
            m["Milestone_Type__c"] == "Sales Handoff" and m["Milestone_Date__c"] >= o["CloseDate"]
            for m in ctx.milestones[a]
        )
        if (
            o["Type"] == "New Business"
            and o["IsWon"]
            and ctx.within(o["CloseDate"], 30)
            and (not handed)
        ):
            out.append(o["Id"])
    return out


def _renewal(ctx: Ctx, a: str) -> list[str]:
    today = ctx.today.isoformat()
    field_date = ctx.accounts[a].get("Renewal_Date__c")
    if field_date and field_date >= today:
        renewal = field_date
    else:
        dates = [
            o["CloseDate"]
            for o in ctx.opps[a]
            if o["Type"] == "Renewal" and not o["IsClosed"] and o["CloseDate"] >= today
        ]
        renewal = min(dates, default=None)
    if renewal and (date.fromisoformat(renewal) - ctx.today).days <= 120:
        return [f"{a}:{renewal}"]
    return []


def _ivm(ctx: Ctx, a: str) -> list[str]:
    acct = ctx.accounts[a]
    lic = acct.get("Licenses_Purchased__c")
    if acct.get("Lifecycle_Stage__c") not in ("Welcome", "Deploy") or lic is None:
        return []
    if any(m["Milestone_Type__c"] == "IVM Reached" for m in ctx.milestones[a]):
        return []
    pilot = math.ceil(Fraction(int(lic), 10))
    rows = [week_row(ctx, a, 1), week_row(ctx, a, 2)]
    ok = all(
        r is not None and 10 * int(r["Active_Users__c"]) >= 8 * pilot and greens(r) >= 5
        for r in rows
    )
    boxes = all(
        acct.get(f) is True
        for f in ("IVM_Kickoff_Done__c", "IVM_Integration_Live__c", "IVM_Training_Done__c")
    )
    return [a] if ok and boxes else []


def _healthy(ctx: Ctx, a: str) -> list[str]:
    last, before = week_row(ctx, a, 1), week_row(ctx, a, 2)
    if last is None or before is None:
        return []
    return [a] if greens(last) >= 5 > greens(before) else []


def _survey_due(ctx: Ctx, a: str) -> list[str]:
    lapsed = [
        c
        for c in active_people(ctx, a)
        if not ctx.within(_iso(ctx.last_relationship.get(c["Id"])), 180)
    ]
    return [f"{a}:{half_year(ctx.today)}"] if lapsed else []


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def _risk_ctas(ctx: Ctx, a: str) -> list[Rec]:
    return [
        c
        for c in ctx.ctas
        if c["Account__c"] == a
        and c["Type__c"] == "Risk"
        and c["Status__c"] in ("New", "In Progress")
    ]


def _weekly(ctx: Ctx, a: str) -> list[str]:
    return [
        f"{c['Id']}:{iso_week(ctx.today)}"
        for c in _risk_ctas(ctx, a)
        if not ctx.within(_iso(ctx.linked.get(c["Id"])), 7)
    ]


def _escalated(ctx: Ctx, a: str) -> list[Rec]:
    return [
        c for c in ctx.ctas if c["Account__c"] == a and c.get("Escalation__c") == "Escalated to CCO"
    ]


def _lifecycle(ctx: Ctx, a: str) -> list[str]:
    return [
        c["Id"]
        for c in ctx.ctas
        if c["Account__c"] == a
        and c["Type__c"] == "Lifecycle"
        and c.get("Sync_Key__c")
        and c["Status__c"] == "Closed - Success"
    ]


def _turnover(demo: DemoData, ctx: Ctx, out: dict[str, set[str]]) -> None:
    """sponsor_turnover: a sponsor at the previous cycle (act 0) inactive or deleted now."""
    before = build(demo, demo.anchor)
    now_active = {
        c["Id"] for cs in ctx.contacts.values() for c in cs if not c.get("Left_Company__c")
    }
    for a, people in before.contacts.items():
        for c in people:
            was = before.effective[c["Id"]] in EXEC and not c.get("Left_Company__c")
            if was and c["Id"] not in now_active and a in out:
                out[a].add(f"sponsor_turnover:{c['Id']}")


Rule = Callable[[Ctx, str], list[str]]
RULES: dict[str, Rule] = {
    "support_risk": lambda ctx, a: [a] if support_condition(ctx, a) else [],
    "bug_risk": lambda ctx, a: [a] if bug_condition(ctx, a) else [],
    "product_risk": _product,
    "usage_drop": _usage_drop,
    "deployment_risk": lambda ctx, a: [a] if deployment(ctx, a) in ("Orange", "Red") else [],
    "nps_detractor": lambda ctx, a: [
        s["Id"] for s in responses(ctx, a, 30) if int(s["Score__c"]) <= 6
    ],
    "nps_persona_gap": _gap,
    "exec_sponsor_missing": lambda ctx, a: (
        [a]
        if _ht(ctx, a) and not any(ctx.effective[c["Id"]] in EXEC for c in active_people(ctx, a))
        else []
    ),
    "risk_weekly_update": _weekly,
    "risk_escalation": lambda ctx, a: [c["Id"] for c in _escalated(ctx, a)],
    "risk_escalation_review": lambda ctx, a: [
        f"{c['Id']}:{iso_week(ctx.today)}" for c in _escalated(ctx, a)
    ],
    "timeline_hygiene": lambda ctx, a: [a] if _ht(ctx, a) and since_activity(ctx, a) > 7 else [],
    "exec_checkin": lambda ctx, a: (
        [a] if _ht(ctx, a) and not _milestone_within(ctx, a, "Exec Check-in", 90) else []
    ),
    "ebr_due": lambda ctx, a: (
        [a] if _ht(ctx, a) and not _milestone_within(ctx, a, "EBR", 180) else []
    ),
    "sales_handoff": _sales,
    "renewal_upcoming": _renewal,
    "ivm_handoff": _ivm,
    "lifecycle_milestones": _lifecycle,
    "persona_assignment": lambda ctx, a: [c["Id"] for c in ctx.contacts[a]],
    "nps_survey_due": _survey_due,
    "deployment_expansion": lambda ctx, a: [a] if deployment(ctx, a) == "Green" else [],
    "healthy_usage_expansion": _healthy,
    "health_scorecard": lambda ctx, a: [f"{a}:{iso_week(ctx.today)}"],
    "get_well_plan": lambda ctx, a: [a] if overall(ctx, a) < 25 else [],
}
