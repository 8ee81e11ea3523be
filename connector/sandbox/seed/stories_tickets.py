"""Stories of the ticket rules: support_risk (a)/(b)/(c), bug_risk (a)/(b), product_risk.

Sub-day margins: the 48-hour neighbour is 44 h old and the firing ticket 52 h old, so both hold
for four hours after the anchor; day-scale ticket ages keep at least a day of margin.
"""

from __future__ import annotations

from connector.sandbox.seed.accounts import Acct, account, timeline
from connector.sandbox.seed.core import Org
from connector.sandbox.seed.kit import cta, key, story, tickets
from connector.sandbox.seed.quiet import Quiet, quiet

NO_TICKETS = Quiet(tickets=False)
SPREAD_28 = [1 + i * 1.4 for i in range(20)]  # 1.0 .. 27.6 days old


def _acct(org: Org, name: str, **kw: object) -> Acct:
    a = account(org, name, **kw)  # type: ignore[arg-type]
    quiet(org, a, NO_TICKETS)
    return a


def add_support_stories(org: Org) -> None:
    """support_risk: volume (with and without an override), age, high-priority age."""
    a = _acct(org, "Northwind Traders")
    tickets(org, a, SPREAD_28)
    story(
        org,
        a,
        "support_risk",
        True,
        "20 support tickets created in the last 30 days "
        "(1-28 days ago, all solved) >= volume threshold 20",
        [key("support_risk", a.id)],
        case="(a) volume",
        owner="support_manager",
    )
    a = _acct(org, "Contoso Pharma")
    tickets(org, a, SPREAD_28[:19])
    tickets(org, a, [31, 33, 40])
    tickets(org, a, [3, 5], status="deleted")
    tickets(org, a, [4], kind="bug")
    tickets(org, a, [6], kind="product")
    tickets(org, a, [2], status="open", ttype="task")
    story(
        org,
        a,
        "support_risk",
        False,
        "19 support tickets in the last 30 days < 20; not "
        "counted: 3 created 31-40 days ago, 2 deleted, 1 bug, 1 feature request, 1 task",
        case="(a) volume",
    )
    a = _acct(org, "Proseware", support_limit=10)
    tickets(org, a, SPREAD_28[:10])
    story(
        org,
        a,
        "support_risk",
        True,
        "10 support tickets in 30 days >= the account's "
        "override Support_Volume_Threshold__c = 10 (default 20 would stay silent)",
        [key("support_risk", a.id)],
        case="(a) override",
        owner="support_manager",
    )
    a = _acct(org, "Adatum", support_limit=30)
    tickets(org, a, [1 + i * 1.1 for i in range(25)])
    story(
        org,
        a,
        "support_risk",
        False,
        "25 support tickets in 30 days < the account's override 30 (the default 20 would fire)",
        case="(a) override",
    )
    _age_stories(org)


def _age_stories(org: Org) -> None:
    a = _acct(org, "Fabrikam Foods", zendesk="short")
    tickets(org, a, [22], status="pending")
    tickets(org, a, [9, 35, 60])
    story(
        org,
        a,
        "support_risk",
        True,
        "open (pending) support ticket created 22 days ago > 21 "
        "days; the Zendesk organization's external_id is the 15-character Account Id",
        [key("support_risk", a.id)],
        case="(b) age",
        owner="support_manager",
    )
    a = _acct(org, "Tailspin Toys")
    tickets(org, a, [20], status="hold")
    story(
        org,
        a,
        "support_risk",
        False,
        "open (hold) support ticket created exactly 20 days "
        "before the anchor: not older than 21 days (silent for 24 h after the anchor)",
        case="(b) age",
    )
    a = _acct(org, "Wingtip Air")
    tickets(org, a, [52 / 24], status="open", priority="urgent")
    story(
        org,
        a,
        "support_risk",
        True,
        "open urgent support ticket created 52 h before the anchor > 48 h",
        [key("support_risk", a.id)],
        case="(c) priority age",
        owner="support_manager",
    )
    a = _acct(org, "Litware Labs")
    tickets(org, a, [44 / 24], status="open", priority="high")
    tickets(org, a, [60 / 24], status="open", priority="low")
    tickets(org, a, [5], priority="urgent")
    story(
        org,
        a,
        "support_risk",
        False,
        "open high ticket created 44 h before the anchor "
        "(silent for 4 h); an open low ticket of 60 h is not high priority; an urgent one "
        "is solved",
        case="(c) priority age",
    )
    a = account(org, "Initech", zendesk="unlinked")
    quiet(org, a, NO_TICKETS)
    tickets(org, a, SPREAD_28 + [4, 5, 6, 7, 8])
    tickets(org, a, [25, 40], status="open", priority="urgent")
    story(
        org,
        a,
        "support_risk",
        False,
        "27 tickets (2 open, urgent, 25-40 days old) but the "
        "Zendesk organization has no external_id: its tickets belong to no account",
        case="unlinked organization",
    )


def add_bug_stories(org: Org) -> None:
    """bug_risk: open volume (default, licence-scaled, override) and high-priority age."""
    lic = (300, 210)
    a = _acct(org, "Blue Yonder Airlines", licenses=lic)
    tickets(org, a, [3, 4, 6, 8, 10], kind="bug", status="open")
    story(
        org,
        a,
        "bug_risk",
        True,
        "5 open bug tickets >= threshold max(5, ceil(300 x 0.01)) = 5",
        [key("bug_risk", a.id)],
        case="(a) volume",
        owner="support_manager",
    )
    a = _acct(org, "Coho Winery", licenses=lic)
    tickets(org, a, [3, 4, 6, 8], kind="bug", status="open")
    tickets(org, a, [5, 12, 20], kind="bug")
    story(
        org, a, "bug_risk", False, "4 open bug tickets < 5 (3 more are solved)", case="(a) volume"
    )
    a = _acct(org, "Lucerne Publishing", licenses=(1150, 805))
    tickets(org, a, [2 + i for i in range(11)], kind="bug", status="open")
    story(
        org,
        a,
        "bug_risk",
        False,
        "11 open bug tickets < threshold max(5, ceil(1150 x 0.01)) = 12",
        case="(a) licence-scaled",
    )
    a = _acct(org, "Fourth Coffee", licenses=lic, bug_limit=3)
    tickets(org, a, [3, 5, 7], kind="bug", status="open")
    story(
        org,
        a,
        "bug_risk",
        True,
        "3 open bug tickets >= the account's override "
        "Bug_Volume_Threshold__c = 3 (the computed 5 would stay silent)",
        [key("bug_risk", a.id)],
        case="(a) override",
        owner="support_manager",
    )
    a = _acct(org, "Humongous Insurance", licenses=lic, bug_limit=8)
    tickets(org, a, [2, 3, 4, 5, 6, 7, 9], kind="bug", status="open")
    story(
        org,
        a,
        "bug_risk",
        False,
        "7 open bug tickets < the account's override 8 (the computed 5 would fire)",
        case="(a) override",
    )
    a = _acct(org, "Trey Research")
    tickets(org, a, [32], kind="bug", status="open", priority="high")
    story(
        org,
        a,
        "bug_risk",
        True,
        "open high-priority bug ticket created 32 days ago > 30 "
        "days (a bug, so not a support ticket: support_risk stays silent)",
        [key("bug_risk", a.id)],
        case="(b) priority age",
        owner="support_manager",
    )
    a = _acct(org, "Graphic Design Institute")
    tickets(org, a, [29], kind="bug", status="open", priority="high")
    tickets(org, a, [40], kind="bug", status="open")
    story(
        org,
        a,
        "bug_risk",
        False,
        "open high bug created 29 days ago (silent for a day); "
        "the 40-day-old open bug is normal priority",
        case="(b) priority age",
    )
    _cooldown_stories(org)


def _cooldown_stories(org: Org) -> None:
    for name, closed in (("Tailwind Traders", 5), ("Southridge Video", 15)):
        a = _acct(org, name)
        tickets(org, a, [2, 3, 5, 6, 9], kind="bug", status="open")
        cta(
            org,
            a,
            f"Bug risk: {name}",
            reason="Bug",
            status="Closed - No Action",
            sync_key=key("bug_risk", a.id),
            owner="support_manager",
            created_days=30,
            closed_days=closed,
        )
        plan = (
            "is within the 14-day cool-down: reconcile creates nothing"
            if closed < 14
            else "is past the 14-day cool-down: reconcile creates `bug_risk:<account>#2`"
        )
        story(
            org,
            a,
            "bug_risk",
            True,
            f"5 open bug tickets >= 5; the connector's earlier "
            f"bug_risk CTA was closed (No Action) {closed} days ago, which {plan}",
            [key("bug_risk", a.id)],
            case=f"cool-down, closed {closed} d ago",
            owner="support_manager",
        )


def add_product_stories(org: Org) -> None:
    """product_risk: three product tickets in 90 days, any status or type; and a snoozed CTA."""
    a = _acct(org, "Alpine Ski House")
    tickets(org, a, [10], kind="product", status="open")
    tickets(org, a, [40], kind="product", ttype="problem")
    tickets(org, a, [85], kind="product", status="closed")
    story(
        org,
        a,
        "product_risk",
        True,
        "3 feature_request tickets created 10, 40 and 85 days "
        "ago (open, solved problem, closed) >= 3",
        [key("product_risk", a.id)],
        owner="product_manager",
    )
    a = _acct(org, "Bellows College")
    tickets(org, a, [20, 60], kind="product")
    tickets(org, a, [91], kind="product", status="closed")
    story(
        org,
        a,
        "product_risk",
        False,
        "2 feature_request tickets in the last 90 days < 3; a third was created 91 days ago",
    )
    a = _acct(org, "Wide World Importers")
    tickets(org, a, [15, 30, 50], kind="product")
    snoozed = cta(
        org,
        a,
        "Product risk: Wide World Importers",
        reason="Product",
        priority="Medium",
        sync_key=key("product_risk", a.id),
        owner="product_manager",
        created_days=40,
        snooze_days_ahead=10,
    )
    timeline(org, a, "Roadmap call about the requests", 2, cta=snoozed)
    story(
        org,
        a,
        "product_risk",
        True,
        "3 feature_request tickets in 90 days >= 3; the "
        "connector's open CTA from an earlier run is snoozed until today+10, so reconcile "
        "leaves it untouched (an update logged 2 days ago keeps risk_weekly_update silent)",
        [key("product_risk", a.id)],
        case="snoozed CTA",
        owner="product_manager",
    )
