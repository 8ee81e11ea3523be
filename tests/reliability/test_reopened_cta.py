"""A person reopens a CTA the connector knows only as "closed by a person": nothing clobbered.

Found while choosing the crash trials' edits: the demo org holds a ``bug_risk`` CTA under the
connector's key that a person closed five days before the connector's first cycle (Tailwind
Traders, docs/demo-org.md). The first cycle records it in the ledger as closed (it never wrote
it, so the row has no CRM Id). When a person reopens it and gives it to someone else, the rule
still fires: the next cycle must update the open CTA's connector-owned fields and leave its
status and owner alone (DESIGN.md "Reconcile" 3), not upsert it as a *create*, which sends the
create-only ``Status__c = New`` and the rule's owner over the person's values.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from reliability_support import live

from connector.bootstrap import Deps, bootstrap
from connector.demo import sandbox_settings
from connector.sync import run_cycle

TAILWIND_BUG_RISK = "bug_risk:0015j000000000HAAQ"  # closed "No Action" 5 days before the anchor


@pytest.fixture
def deps(sandbox, tmp_path, monkeypatch) -> Iterator[Deps]:
    monkeypatch.setattr(sandbox.config, "zendesk_incremental_per_min", 0)
    made = bootstrap(sandbox_settings(sandbox, f"sqlite:///{tmp_path / 'store.db'}"))
    yield made
    made.engine.dispose()


def cta(sandbox, key: str) -> dict:
    (record,) = [r for r in live(sandbox, "CS_CTA__c") if r.get("Sync_Key__c") == key]
    return record


def test_a_person_reopening_a_cta_closed_before_the_first_cycle_keeps_status_and_owner(
    deps, sandbox
):
    anchor = sandbox.state.demo.anchor.isoformat()
    before = cta(sandbox, TAILWIND_BUG_RISK)
    assert before["Status__c"] == "Closed - No Action"
    assert run_cycle(deps, as_of=anchor).status == "completed"  # sees it closed: cool-down
    assert cta(sandbox, TAILWIND_BUG_RISK)["Status__c"] == "Closed - No Action"

    users = sandbox.state.demo.users
    edit = {
        "Status__c": "In Progress",
        "OwnerId": users["csm2"] if before["OwnerId"] != users["csm2"] else users["csm3"],
        "Comments__c": "Reopened: the bugs are back.",
    }
    sf = sandbox.emulators["salesforce"]
    assert sf.person_update("CS_CTA__c", before["Id"], edit, as_user="csm1").success

    report = run_cycle(deps, as_of=anchor)

    assert report.status == "completed", report.error
    assert report.plan is not None
    ops = {(w.target, w.op) for w in report.plan.writes if w.external_id == TAILWIND_BUG_RISK}
    after = cta(sandbox, TAILWIND_BUG_RISK)
    assert {k: after[k] for k in edit} == edit, f"the person's reopen was overwritten: {ops}"
    assert ("cta", "create") not in ops
