"""The story accounts of the S org, in a fixed order (ids follow it), plus quiet background."""

from __future__ import annotations

from connector.sandbox.seed.accounts import account
from connector.sandbox.seed.core import Org
from connector.sandbox.seed.quiet import Quiet, quiet
from connector.sandbox.seed.stories_health import add_health_stories
from connector.sandbox.seed.stories_lifecycle import (
    add_deal_stories,
    add_hygiene_stories,
    add_process_stories,
)
from connector.sandbox.seed.stories_people import (
    add_nps_stories,
    add_persona_stories,
    add_sponsor_stories,
)
from connector.sandbox.seed.stories_tickets import (
    add_bug_stories,
    add_product_stories,
    add_support_stories,
)
from connector.sandbox.seed.stories_usage import (
    add_deployment_stories,
    add_healthy_usage_stories,
    add_ivm_stories,
    add_usage_drop_stories,
)
from connector.sandbox.seed.zendesk import add_organization, add_zd_user, ticket

STORY_BUILDERS = (
    add_support_stories,
    add_bug_stories,
    add_product_stories,
    add_usage_drop_stories,
    add_deployment_stories,
    add_healthy_usage_stories,
    add_ivm_stories,
    add_nps_stories,
    add_sponsor_stories,
    add_persona_stories,
    add_hygiene_stories,
    add_deal_stories,
    add_process_stories,
    add_health_stories,
)


def add_stories(org: Org) -> None:
    """Add every story account and its neighbours, then quiet background accounts."""
    for build in STORY_BUILDERS:
        build(org)
    for name, segment, type_ in (
        ("Maple Leaf Foods", "Mid-Market", "Customer - Direct"),
        ("Brightwater Utilities", "Enterprise", "Customer - Direct"),
        ("Cascade Outfitters", "SMB", "Customer - Channel"),
    ):
        a = account(org, name, segment=segment, type_=type_, csm="csm2", owner="ae2")
        quiet(org, a, Quiet(ht=segment == "Enterprise"))
    _loose_tickets(org)


def _loose_tickets(org: Org) -> None:
    """Tickets with no organization, and an organization that is no account at all."""
    created = org.ago(days=6)
    walk_in = add_zd_user(org, "Walk-in Visitor", "visitor@example.org", "end-user", created)
    globex = add_organization(org, "Globex (trial)", None, created, "globex.example")
    trial = add_zd_user(org, "Hank Scorpio", "hank@globex.example", "end-user", created, globex)
    for i, (who, org_id) in enumerate(((walk_in, None), (walk_in, None), (trial, globex))):
        ticket(
            org,
            organization_id=org_id,
            requester_id=who,
            subject=f"Pricing question {i}",
            created=org.ago(days=3 + i),
            updated=org.ago(days=2 + i),
            status="open",
            priority="high",
            ttype="question",
        )
