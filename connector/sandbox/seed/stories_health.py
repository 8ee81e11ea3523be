"""Stories of the scorecard: health_scorecard (who gets one) and get_well_plan (overall Red).

The get_well pair differs only in the date of the last activity. With no deployment, adoption
or NPS data, overall = (20 x support + 15 x bug + 10 x engagement) / 45: support Orange (15 open
tickets / 20 = 0.75), bug Red (5 open bugs) and engagement Orange (15 days) give 22.0, Red;
engagement Yellow (14 days) gives 29.3, Orange.
"""

from __future__ import annotations

from connector.sandbox.seed.accounts import account
from connector.sandbox.seed.core import Org
from connector.sandbox.seed.kit import answer_all, csm_owner, key, story, tickets, week
from connector.sandbox.seed.quiet import Quiet, quiet


def add_health_stories(org: Org) -> None:
    """A churned customer still gets its snapshot; a partner gets nothing; get_well pair."""
    a = account(org, "Old Harbor Co", stage="Churned", renewal_in=None)
    quiet(org, a)
    story(
        org,
        a,
        "health_scorecard",
        True,
        "lifecycle stage Churned, but Type Customer - Direct "
        "passes the customer filter: one snapshot for this ISO week",
        [key("health_scorecard", a.id, week(org))],
    )
    a = account(org, "Riverbend Energy", type_="Channel Partner / Reseller")
    quiet(org, a)
    tickets(org, a, [1 + i for i in range(22)])
    story(
        org,
        a,
        "health_scorecard",
        False,
        "Type Channel Partner / Reseller is not a customer: "
        "no snapshot (and its 22 recent tickets are ignored)",
    )
    for name, days, fires in (("Vantage Motors", 15, True), ("Willow Insurance", 14, False)):
        a = account(org, name, licenses=(None, None))
        quiet(org, a, Quiet(activity_days=days, usage_weeks=0, surveys=False, tickets=False))
        answer_all(org, a, a.contacts, score=None)
        tickets(org, a, [1 + i * 1.2 for i in range(15)], status="open")
        tickets(org, a, [2, 4, 6, 8, 10], kind="bug", status="open")
        colour = "Orange (15-30 days)" if fires else "Yellow (8-14 days)"
        figure = "22.0 < 25: Red" if fires else "29.3 >= 25: Orange"
        story(
            org,
            a,
            "get_well_plan",
            fires,
            f"last activity {days} days ago: engagement "
            f"{colour}; support Orange, bug Red, no deployment/adoption/NPS data; overall "
            f"{figure} (bug_risk fires too)",
            [key("get_well_plan", a.id)],
            owner=csm_owner(a),
        )
