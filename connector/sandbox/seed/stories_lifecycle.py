"""Stories of the lifecycle rules: timeline_hygiene, exec_checkin, ebr_due, sales_handoff,
renewal_upcoming and lifecycle_milestones.

Day thresholds count calendar days back from the anchor's date, so these stories hold for the
whole of that date (a neighbour "just below" a day threshold flips at the next midnight UTC).
"""

from __future__ import annotations

from datetime import timedelta

from connector.sandbox.seed.accounts import (
    account,
    event,
    milestone,
    opportunity,
    task,
    timeline,
)
from connector.sandbox.seed.core import Org
from connector.sandbox.seed.kit import csm_owner, cta, key, story, week
from connector.sandbox.seed.quiet import Quiet, quiet


def add_hygiene_stories(org: Org) -> None:
    """timeline_hygiene, exec_checkin and ebr_due on high-touch accounts."""
    a = account(org, "Falcon Security", segment="Enterprise", owner="ae3")
    people = quiet(org, a, Quiet(ht=True, activity_days=None))
    task(org, a, "Renewal prep call", 8, who=people[0])
    task(org, a, "Send usage report", 1, sync_key=f"usage_drop:{a.id}/email")
    task(org, a, "Book onsite visit", 1, status="Not Started")
    event(org, a, "Onsite visit", org.anchor + timedelta(days=2), who=people[0])
    story(
        org,
        a,
        "timeline_hygiene",
        True,
        "last activity: a call completed 8 days ago > 7; not "
        "counted: the connector's own task yesterday, an open task, a meeting in 2 days",
        [key("timeline_hygiene", a.id)],
        owner=csm_owner(a),
    )
    a = account(org, "Golden Gate Insurance", segment="Strategic", type_="Customer - Channel")
    people = quiet(org, a, Quiet(ht=True, activity_days=None))
    task(org, a, "Steering committee prep", 12, who=people[0])
    event(org, a, "Steering committee", org.at_day(7, hour=10), who=people[0])
    story(
        org,
        a,
        "timeline_hygiene",
        False,
        "last activity: a meeting that started 7 days ago (counts by its start date; 7 is not > 7)",
    )
    a = account(org, "Highland Clinics", segment="Enterprise")
    quiet(org, a, Quiet(ht=True, checkin_days=91))
    story(
        org,
        a,
        "exec_checkin",
        True,
        "last Exec Check-in milestone 91 days ago; the task is addressed to the Executive Sponsor",
        [key("exec_checkin", a.id)],
        owner="vp_cs",
    )
    a = account(org, "Jade Pharmacy", segment="Enterprise")
    quiet(org, a, Quiet(ht=True, checkin_days=90))
    story(org, a, "exec_checkin", False, "Exec Check-in milestone exactly 90 days ago")
    a = account(org, "Keystone Builders", segment="Strategic")
    quiet(org, a, Quiet(ht=True, ebr_days=181))
    story(
        org,
        a,
        "ebr_due",
        True,
        "last EBR milestone 181 days ago",
        [key("ebr_due", a.id)],
        owner=csm_owner(a),
    )
    a = account(org, "Lighthouse Learning", segment="Strategic")
    quiet(org, a, Quiet(ht=True, ebr_days=180))
    story(org, a, "ebr_due", False, "EBR milestone exactly 180 days ago")


def add_deal_stories(org: Org) -> None:
    """sales_handoff and renewal_upcoming (account field, then open Renewal opportunities)."""
    a = account(org, "Orchid Cosmetics")
    people = quiet(org, a)
    won = opportunity(
        org,
        a,
        "Platform expansion",
        type_="New Business",
        stage="Closed Won",
        close_in=-10,
        amount=60000.0,
        roles=((people[0], "Executive Sponsor"),),
    )
    story(
        org,
        a,
        "sales_handoff",
        True,
        "New Business opportunity won 10 days ago, no Sales Handoff milestone since",
        [key("sales_handoff", won["Id"])],
        owner=csm_owner(a),
    )
    a = account(org, "Pioneer Agritech")
    quiet(org, a)
    opportunity(org, a, "Second region", type_="New Business", stage="Closed Won", close_in=-31)
    handed = opportunity(
        org, a, "Field sensors", type_="New Business", stage="Closed Won", close_in=-12
    )
    milestone(org, a, "Sales Handoff", 12, opp=handed)
    opportunity(org, a, "Extra seats", type_="Upsell", stage="Closed Won", close_in=-5)
    opportunity(org, a, "Drone module", type_="New Business", stage="Closed Lost", close_in=-3)
    story(
        org,
        a,
        "sales_handoff",
        False,
        "New Business won 31 days ago (outside 30); one won "
        "12 days ago already has a Sales Handoff milestone on its close date; an Upsell won "
        "5 days ago is not New Business; a New Business lost 3 days ago is not won",
    )
    _renewal_stories(org)


def _renewal_stories(org: Org) -> None:
    a = account(org, "Quartz Semiconductors", renewal_in=120)
    quiet(org, a)
    story(
        org,
        a,
        "renewal_upcoming",
        True,
        "Renewal_Date__c = today + 120 (within 120, inclusive)",
        [key("renewal_upcoming", a.id, org.day(-120).isoformat())],
        case="account field",
        owner=csm_owner(a),
    )
    a = account(org, "Starling Airlines", renewal_in=121)
    quiet(org, a)
    story(org, a, "renewal_upcoming", False, "Renewal_Date__c = today + 121", case="account field")
    a = account(org, "Tidewater Shipping", renewal_in=-5)
    quiet(org, a)
    for name, type_, days in (
        ("Renewal 2", "Renewal", 60),
        ("Renewal 3", "Renewal", 90),
        ("Late renewal", "Renewal", -3),
        ("Add-on", "Upsell", 20),
    ):
        opportunity(org, a, name, type_=type_, stage="Negotiation/Review", close_in=days)
    story(
        org,
        a,
        "renewal_upcoming",
        True,
        "Renewal_Date__c passed 5 days ago, so the earliest "
        "open Renewal opportunity closing today or later counts: today + 60 (not the one "
        "overdue by 3 days, not the Upsell)",
        [key("renewal_upcoming", a.id, org.day(-60).isoformat())],
        case="opportunity",
        owner=csm_owner(a),
    )
    a = account(org, "Unity Health", renewal_in=None)
    quiet(org, a)
    opportunity(org, a, "Renewal", type_="Renewal", stage="Prospecting", close_in=121)
    opportunity(org, a, "Add-on", type_="Upsell", stage="Prospecting", close_in=30)
    story(
        org,
        a,
        "renewal_upcoming",
        False,
        "no Renewal_Date__c; the open Renewal opportunity "
        "closes at today + 121 (the Upsell at + 30 is not a Renewal)",
        case="opportunity",
    )


def add_process_stories(org: Org) -> None:
    """lifecycle_milestones, risk_weekly_update and risk_escalation on CTAs already in the CRM."""
    a = account(org, "Yellowstone Parks", segment="Strategic")
    quiet(org, a, Quiet(ht=True, ebr_days=30))
    done = cta(
        org,
        a,
        "Schedule EBR",
        type_="Lifecycle",
        status="Closed - Success",
        sync_key=key("ebr_due", a.id),
        priority="Medium",
        created_days=200,
        closed_days=1,
    )
    story(
        org,
        a,
        "lifecycle_milestones",
        True,
        "the connector's earlier 'Schedule EBR' CTA was "
        "closed as Closed - Success yesterday: an EBR milestone dated at the close",
        [key("lifecycle_milestones", done["Id"])],
    )
    a = account(org, "Zephyr Wind", segment="Enterprise")
    quiet(org, a, Quiet(ht=True))
    cta(
        org,
        a,
        "Exec Check-in",
        type_="Lifecycle",
        status="Closed - No Action",
        owner="vp_cs",
        sync_key=key("exec_checkin", a.id),
        priority="Medium",
        created_days=100,
        closed_days=2,
    )
    cta(
        org,
        a,
        "Kick-off workshop",
        type_="Lifecycle",
        status="Closed - Success",
        priority="Medium",
        created_days=60,
        closed_days=3,
    )
    story(
        org,
        a,
        "lifecycle_milestones",
        False,
        "the connector's Exec Check-in CTA was closed "
        "as No Action (not successful); a person's own Lifecycle CTA closed successfully is "
        "not the connector's",
    )
    _risk_process(org)


def _risk_process(org: Org) -> None:
    a = account(org, "Crescent Hotels")
    quiet(org, a)
    risk = cta(org, a, "Champion leaving: rebuild relationships", reason="Relationship")
    timeline(org, a, "Met the new operations lead", 8, cta=risk)
    story(
        org,
        a,
        "risk_weekly_update",
        True,
        "a person's open Risk CTA whose last linked update (a timeline entry) is 8 days old > 7",
        [key("risk_weekly_update", risk["Id"], week(org))],
        owner=csm_owner(a),
    )
    a = account(org, "Bluebird Logistics")
    quiet(org, a)
    risk = cta(org, a, "Budget freeze: protect the renewal", reason="Other")
    task(org, a, "Weekly risk call", 7, what=risk)
    story(
        org,
        a,
        "risk_weekly_update",
        False,
        "a person's open Risk CTA with a completed task "
        "linked to it 7 days ago (in the last 7 days)",
    )
    a = account(org, "Redwood Realty")
    quiet(org, a)
    risk = cta(org, a, "Outage fallout", reason="Support", escalation="Escalated to CCO")
    task(org, a, "Call with the CIO", 3, what=risk)
    story(
        org,
        a,
        "risk_escalation",
        True,
        "a person escalated the open Risk CTA to the CCO: a "
        "timeline note once, and a review task for the CCO this week",
        [key("risk_escalation", risk["Id"]), key("risk_escalation_review", risk["Id"], week(org))],
        owner="cco",
    )
    a = account(org, "Silverline Telecom")
    quiet(org, a)
    risk = cta(org, a, "Key user churn", reason="Adoption")
    timeline(org, a, "Training plan agreed", 1, cta=risk)
    story(org, a, "risk_escalation", False, "the open Risk CTA is Not Escalated")
