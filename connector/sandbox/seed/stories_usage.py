"""Stories of the usage and deployment rules: usage_drop, deployment_risk, deployment_expansion,
healthy_usage_expansion and ivm_handoff.

Weeks count back from the anchor's ISO week: week 1 is the last complete week, week 2 the week
before it, and so on. A usage row's first ``green`` features reach their threshold of 10.
"""

from __future__ import annotations

from connector.sandbox.seed.accounts import Acct, account, milestone, usage
from connector.sandbox.seed.core import Org
from connector.sandbox.seed.kit import csm_owner, key, story
from connector.sandbox.seed.quiet import Quiet, quiet

NO_USAGE = Quiet(usage_weeks=0)


def _acct(org: Org, name: str, rows: dict[int, tuple[int, int]], **kw: object) -> Acct:
    """An account whose usage rows are ``{weeks_back: (active users, green features)}``."""
    a = account(org, name, **kw)  # type: ignore[arg-type]
    quiet(org, a, NO_USAGE)
    for wb, (active, green) in sorted(rows.items(), reverse=True):
        usage(org, a, wb, active, green)
    return a


def add_usage_drop_stories(org: Org) -> None:
    """usage_drop: the 70 % boundary, the mean >= 5 guard, missing weeks."""
    steady = {wb: (100, 7) for wb in (2, 3, 4, 5)}
    a = _acct(org, "Consolidated Messenger", steady | {1: (70, 7)})
    story(
        org,
        a,
        "usage_drop",
        True,
        "active users 70 in the last complete week <= 70 % of 100 (the mean of the 4 weeks before)",
        [key("usage_drop", a.id)],
        case="70 % boundary",
        owner=csm_owner(a),
    )
    a = _acct(org, "Datum Corporation", steady | {1: (71, 7)})
    story(
        org,
        a,
        "usage_drop",
        False,
        "71 active users = 71 % of the mean 100 > 70 %",
        case="70 % boundary",
    )
    a = _acct(org, "Lamna Healthcare", {5: (4, 5), 4: (5, 5), 3: (4, 5), 2: (5, 5), 1: (1, 5)})
    story(
        org,
        a,
        "usage_drop",
        False,
        "1 active user vs a mean of 4.5: a steep drop, but the mean is below 5",
        case="mean >= 5",
    )
    a = _acct(org, "Munson's Pickles", {3: (50, 7), 1: (30, 7)}, csm="csm_inactive", owner="ae2")
    story(
        org,
        a,
        "usage_drop",
        True,
        "30 active users <= 70 % of 50, the mean over the only "
        "row among the 4 weeks before (weeks 2, 4, 5 have no row); the CSM is inactive, so "
        "the AE owns it",
        [key("usage_drop", a.id)],
        case="mean over rows present",
        owner=csm_owner(a),
    )
    a = _acct(org, "Nod Publishers", steady)
    story(
        org,
        a,
        "usage_drop",
        False,
        "no usage row for the last complete week (no data is not zero)",
        case="missing week",
    )


def add_deployment_stories(org: Org) -> None:
    """deployment_risk (Orange/Red) and deployment_expansion (Green) on licence ratios."""
    a = account(org, "Woodgrove Bank", licenses=(100, 59), csm=None, owner="inactive")
    quiet(org, a)
    story(
        org,
        a,
        "deployment_risk",
        True,
        "59 of 100 licences active = 0.59 < 0.60: Orange; no "
        "CSM and the owner (AE) is inactive, so owners.fallback owns it",
        [key("deployment_risk", a.id)],
        owner=csm_owner(a),
    )
    a = account(org, "Relecloud", licenses=(100, 60))
    quiet(org, a)
    story(org, a, "deployment_risk", False, "60 of 100 = 0.60: Yellow (the boundary is inclusive)")
    story(org, a, "deployment_expansion", False, "Yellow is not Green")
    a = account(org, "Contoso Aerospace", licenses=(100, 80))
    quiet(org, a)
    story(
        org,
        a,
        "deployment_expansion",
        True,
        "80 of 100 = 0.80: Green; whitespace Journeys, "
        "Integrations, Mobile (owns Analytics, Automation)",
        [key("deployment_expansion", a.id)],
        case="with whitespace",
        owner=csm_owner(a),
    )
    a = account(org, "VanArsdel", licenses=(100, 79))
    quiet(org, a)
    story(org, a, "deployment_expansion", False, "79 of 100 = 0.79: Yellow")
    a = account(
        org,
        "Coho Vineyard",
        licenses=(100, 120),
        products=("Analytics", "Automation", "Journeys", "Integrations", "Mobile"),
    )
    quiet(org, a)
    story(
        org,
        a,
        "deployment_expansion",
        True,
        "120 of 100 = 1.2: Green (above 1 is Green); "
        "owns all five products, so the AE task says there is no whitespace",
        [key("deployment_expansion", a.id)],
        case="no whitespace",
        owner=csm_owner(a),
    )


def add_healthy_usage_stories(org: Org) -> None:
    """healthy_usage_expansion: moving into >= 5 green features, with both weeks present."""
    before = {wb: (50, 4) for wb in (3, 4, 5, 6)}
    a = _acct(org, "Fabrikam Residences", before | {2: (50, 4), 1: (52, 5)})
    story(
        org,
        a,
        "healthy_usage_expansion",
        True,
        "5 of 7 features green in the last complete week, 4 the week before",
        [key("healthy_usage_expansion", a.id)],
        owner=csm_owner(a),
    )
    a = _acct(org, "Litware Outdoor", before | {2: (50, 4), 1: (52, 4)})
    story(org, a, "healthy_usage_expansion", False, "4 of 7 green in both weeks")
    a = _acct(org, "Northwind Health", before | {1: (52, 5)})
    story(
        org,
        a,
        "healthy_usage_expansion",
        False,
        "5 green last week but no row for the week before (both weeks need a row)",
        case="missing week",
    )


def add_ivm_stories(org: Org) -> None:
    """ivm_handoff: each of its three conditions just missed by one neighbour."""
    lic: dict[str, object] = {"licenses": (200, None), "stage": "Deploy", "renewal_in": 300}
    early = {5: (14, 5), 4: (15, 5), 3: (16, 5)}
    a = _acct(org, "Blue Sky Robotics", early | {2: (16, 5), 1: (17, 5)}, **lic)
    story(
        org,
        a,
        "ivm_handoff",
        True,
        "stage Deploy; pilot = ceil(10 % x 200) = 20; active "
        "users 16 and 17 >= 80 % x 20 = 16; 5 of 7 features green both weeks; the three IVM "
        "checkboxes are true",
        [key("ivm_handoff", a.id)],
        owner=csm_owner(a),
    )
    a = _acct(org, "Cedar Bank", early | {2: (16, 5), 1: (15, 5)}, **lic)
    story(org, a, "ivm_handoff", False, "15 active users last week < 16", case="(1) users")
    a = _acct(org, "Delta Freight", early | {2: (16, 5), 1: (17, 4)}, **lic)
    story(org, a, "ivm_handoff", False, "4 features green last week < 5", case="(2) features")
    a = _acct(
        org, "Evergreen Clinics", early | {2: (16, 5), 1: (17, 5)}, ivm=(True, True, None), **lic
    )
    story(
        org,
        a,
        "ivm_handoff",
        False,
        "IVM_Training_Done__c is blank (blank = false)",
        case="(3) checkboxes",
    )
    lic["stage"] = "Welcome"
    a = _acct(org, "Granite Partners", early | {2: (16, 5), 1: (17, 5)}, **lic)
    milestone(org, a, "IVM Reached", 20)
    story(
        org,
        a,
        "ivm_handoff",
        False,
        "meets all three conditions (stage Welcome) but already has an IVM Reached milestone",
        case="already reached",
    )
