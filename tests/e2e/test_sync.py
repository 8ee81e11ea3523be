"""End to end on the demo org, over real HTTPS: sync cycles against the sandbox's own records.

What is asserted is read from the sandbox (its records and its call log), not from the
connector's ledger: the story table's outputs land once, an idle cycle writes nothing, people's
edits survive, closed CTAs respect their cool-down, faults are absorbed, a dry run is honest.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest

from connector.bootstrap import Deps, bootstrap
from connector.demo import sandbox_settings
from connector.sync import CycleReport, run_cycle

EVERY_15_MINUTES = ("risk_weekly_update", "nps_survey_due")  # the cycle job leaves these out
KEYED = {
    "CS_CTA__c": "Sync_Key__c",
    "CS_Milestone__c": "Sync_Key__c",
    "CS_Timeline_Entry__c": "Sync_Key__c",
    "CS_Health_Snapshot__c": "Sync_Key__c",
    "CS_Success_Plan__c": "Sync_Key__c",
    "CS_Objective__c": "Sync_Key__c",
    "Task": "CS_Sync_Key__c",
}


@pytest.fixture(autouse=True)
def cycles_back_to_back(sandbox, monkeypatch) -> None:
    """Cycles here run seconds apart, not 15 minutes: Zendesk's 10 incremental exports a
    minute would make the client wait a minute every third cycle (tested in tests/sources)."""
    monkeypatch.setattr(sandbox.config, "zendesk_incremental_per_min", 0)


@pytest.fixture
def deps(sandbox, store_url) -> Iterator[Deps]:
    made = bootstrap(sandbox_settings(sandbox, store_url))
    yield made
    made.engine.dispose()


def cycle(deps: Deps, sandbox: Any, days: int = 0, **kwargs: Any) -> CycleReport:
    as_of = (sandbox.state.demo.anchor + timedelta(days=days)).isoformat()
    report = run_cycle(deps, as_of=as_of, **kwargs)
    assert report.status == "completed", report.error
    return report


def quarter_hour(deps: Deps, sandbox: Any, days: int = 0, **kwargs: Any) -> CycleReport:
    """The scheduled 15-minute cycle: every rule but the Monday ones."""
    return cycle(deps, sandbox, days, exclude_rules=EVERY_15_MINUTES, **kwargs)


def live(sandbox: Any, sobject: str) -> list[dict[str, Any]]:
    return [r for r in sandbox.emulators["salesforce"].all_records(sobject) if not r["IsDeleted"]]


def keyed_records(sandbox: Any) -> dict[str, list[dict[str, Any]]]:
    """Sync key -> the live records that carry it, over every object the connector writes."""
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for sobject, field in KEYED.items():
        for r in live(sandbox, sobject):
            if r.get(field):
                out[r[field]].append(r)
    return out


def account_of(record: dict[str, Any], ctas: dict[str, dict[str, Any]]) -> str | None:
    if record.get("Account__c"):
        return str(record["Account__c"])
    what = record.get("WhatId") or ""
    if what in ctas:
        return ctas[what].get("Account__c")
    return what if what.startswith("001") else None


def tickets(sandbox: Any) -> list[dict[str, Any]]:
    store = sandbox.emulators["zendesk"].store.tickets
    return [t for t in (store.by_id[i] for i in store.ids) if t.get("external_id")]


def test_the_first_cycle_creates_the_story_tables_outputs_no_more_no_fewer(deps, sandbox):
    seeded = set(keyed_records(sandbox))  # people's own records of the story (closed CTAs)
    cycle(deps, sandbox)

    records = keyed_records(sandbox)
    ctas = {r["Id"]: r for r in live(sandbox, "CS_CTA__c")}
    by_account: dict[str, set[str]] = defaultdict(set)
    for key, found in records.items():
        if "/" not in key:
            by_account[account_of(found[0], ctas) or ""].add(key)
    wrong = {}
    for story in sandbox.state.demo.stories:
        if story.act != 0:
            continue
        want = {k for k in story.account_outputs if not k.startswith("persona_assignment:")}
        got = {k for k in by_account.get(story.account_id, set()) if k not in seeded or k in want}
        if got != want:
            wrong[story.account_name] = {"missing": want - got, "extra": got - want}
    assert wrong == {}


def test_the_first_cycle_writes_every_key_once(deps, sandbox):
    cycle(deps, sandbox)

    twice = {k: len(v) for k, v in keyed_records(sandbox).items() if len(v) > 1}
    ticket_keys = Counter(t["external_id"] for t in tickets(sandbox))
    assert twice == {}
    assert [k for k, n in ticket_keys.items() if n > 1] == []


@pytest.mark.sqlite_store
def test_support_and_bug_risks_get_one_zendesk_task_linked_to_their_cta(deps, sandbox):
    cycle(deps, sandbox)

    ctas = {r["Sync_Key__c"]: r for r in live(sandbox, "CS_CTA__c") if r.get("Sync_Key__c")}
    made = {t["external_id"]: t for t in tickets(sandbox)}
    risky = {k for k in ctas if k.startswith(("support_risk:", "bug_risk:"))}
    created_now = {k for k in risky if ctas[k]["Status__c"] == "New"}
    assert created_now and created_now <= set(made)
    for key in created_now:
        ticket = made[key]
        assert ticket["type"] == "task"
        assert "cs_connector" in ticket["tags"]
        assert str(ticket["id"]) == str(ctas[key]["Zendesk_Ticket_Id__c"])


@pytest.mark.sqlite_store
def test_personas_are_written_where_the_contact_field_was_blank(deps, sandbox):
    before = {r["Id"]: r.get("CS_Persona__c") for r in live(sandbox, "Contact")}
    cycle(deps, sandbox)

    after = {r["Id"]: r.get("CS_Persona__c") for r in live(sandbox, "Contact")}
    kept = {i for i, v in before.items() if v}
    assert all(after[i] == before[i] for i in kept)
    assert sum(1 for i, v in after.items() if v and i not in kept) > 100


def test_a_second_cycle_with_nothing_changed_makes_no_write_call(deps, sandbox):
    cycle(deps, sandbox)
    sandbox.calls.clear()

    report = quarter_hour(deps, sandbox)

    assert sandbox.calls.writes() == []
    assert report.plan is not None and report.plan.writes == []


@pytest.mark.sqlite_store
def test_a_dry_run_writes_nothing_and_plans_what_the_next_cycle_does(deps, sandbox):
    cycle(deps, sandbox)
    sf = sandbox.emulators["salesforce"]
    cta = next(
        r
        for r in live(sandbox, "CS_CTA__c")
        if (r.get("Sync_Key__c") or "").startswith("support_risk:")
    )
    assert sf.person_update("CS_CTA__c", cta["Id"], {"Status__c": "Closed - No Action"}).success
    sandbox.calls.clear()

    dry = quarter_hour(deps, sandbox, dry_run=True)
    assert sandbox.calls.writes() == []
    real = quarter_hour(deps, sandbox)

    def ops(r: CycleReport) -> list[tuple[str, str, str]]:
        assert r.plan is not None
        return sorted((w.target, w.op, w.external_id) for w in r.plan.writes)

    assert ops(dry) == ops(real) != []


def test_peoples_edits_survive_ten_further_cycles(deps, sandbox):
    cycle(deps, sandbox)
    sf = sandbox.emulators["salesforce"]
    ctas = [
        r for r in live(sandbox, "CS_CTA__c") if r.get("Sync_Key__c") and r["Status__c"] == "New"
    ]
    people = [u["Id"] for u in live(sandbox, "User") if u.get("IsActive")]
    edited, snoozed = ctas[0], ctas[1]
    edit = {
        "Status__c": "In Progress",
        "OwnerId": next(p for p in people if p != edited["OwnerId"]),
        "Due_Date__c": "2027-01-29",
        "Priority__c": "Low",
        "Comments__c": "Called them; waiting for their CTO.",
    }
    assert sf.person_update("CS_CTA__c", edited["Id"], edit).success
    snooze = {
        "Snooze_Until__c": (
            date.fromisoformat(sandbox.state.demo.anchor.date().isoformat()) + timedelta(days=30)
        ).isoformat()
    }
    assert sf.person_update("CS_CTA__c", snoozed["Id"], snooze).success
    contact = next(r for r in live(sandbox, "Contact") if r.get("CS_Persona__c") == "End User")
    assert sf.person_update(
        "Contact", contact["Id"], {"CS_Persona__c": "Adoption Champion"}
    ).success

    for _ in range(10):
        quarter_hour(deps, sandbox)

    now = {r["Id"]: r for r in live(sandbox, "CS_CTA__c")}
    assert {k: now[edited["Id"]][k] for k in edit} == edit
    assert now[snoozed["Id"]]["Snooze_Until__c"] == snooze["Snooze_Until__c"]
    assert sf.org.get(contact["Id"])[1]["CS_Persona__c"] == "Adoption Champion"


@pytest.mark.sqlite_store
def test_a_closed_cta_stays_closed_in_its_cool_down_and_returns_after_it(deps, sandbox):
    cycle(deps, sandbox)
    sf = sandbox.emulators["salesforce"]
    cta = next(
        r
        for r in live(sandbox, "CS_CTA__c")
        if (r.get("Sync_Key__c") or "").startswith("exec_sponsor_missing:")
    )
    key = cta["Sync_Key__c"]
    assert sf.person_update("CS_CTA__c", cta["Id"], {"Status__c": "Closed - No Action"}).success

    quarter_hour(deps, sandbox, days=1)
    quarter_hour(deps, sandbox, days=13)
    within = set(keyed_records(sandbox))
    quarter_hour(deps, sandbox, days=15)
    after = keyed_records(sandbox)

    assert f"{key}#2" not in within
    assert [r["Status__c"] for r in after[f"{key}#2"]] == ["New"]
    assert after[key][0]["Status__c"] == "Closed - No Action"
    assert after[key][0]["Closed_Date__c"] is not None


@pytest.mark.sqlite_store
def test_a_cta_a_person_deleted_counts_as_closed(deps, sandbox):
    cycle(deps, sandbox)
    sf = sandbox.emulators["salesforce"]
    cta = next(
        r
        for r in live(sandbox, "CS_CTA__c")
        if (r.get("Sync_Key__c") or "").startswith("exec_sponsor_missing:")
    )
    assert sf.person_delete(cta["Id"]).success

    quarter_hour(deps, sandbox, days=1)

    assert cta["Sync_Key__c"] not in keyed_records(sandbox)
    assert f"{cta['Sync_Key__c']}#2" not in keyed_records(sandbox)


@pytest.mark.sqlite_store
def test_with_lock_and_503_faults_every_output_lands_within_three_cycles(deps, sandbox):
    sandbox.faults.update(lock_row_share=0.05, http_503_share=0.05, seed=11)
    locked = 0
    for _ in range(3):
        report = cycle(deps, sandbox)
        assert report.push is not None
        locked += report.push.retried.get("UNABLE_TO_LOCK_ROW", 0)
    sandbox.faults.update(lock_row_share=0.0, http_503_share=0.0)

    last = quarter_hour(deps, sandbox)

    assert deps.salesforce.retries > 0 and locked > 0  # both faults were met
    assert last.plan is not None
    assert [w.external_id for w in last.plan.writes if w.op == "create"] == []
    assert {k: len(v) for k, v in keyed_records(sandbox).items() if len(v) > 1} == {}


@pytest.fixture
def bulk_deps(sandbox, store_url) -> Iterator[Deps]:
    from connector.config import PushSettings

    settings = sandbox_settings(sandbox, store_url)
    settings = settings.model_copy(update={"push": PushSettings(bulk_threshold=50)})
    made = bootstrap(settings)
    yield made
    made.engine.dispose()


@pytest.mark.sqlite_store
def test_big_objects_go_as_bulk_jobs_that_land_once_without_a_blocking_wait(bulk_deps, sandbox):
    first = cycle(bulk_deps, sandbox)
    assert first.push is not None and first.push.bulk_jobs >= 2  # snapshots, personas, ...
    ingest = [c for c in sandbox.calls.calls("salesforce") if "/jobs/ingest" in c.path]
    assert not [c for c in ingest if c.method == "GET"]  # submitted, never waited on

    sandbox.calls.clear()
    second = cycle(bulk_deps, sandbox)  # polls the jobs, records them, sends what waited on them
    # Tickets that waited for their CTAs' job are new creates, not creates to look up first.
    assert not [c for c in sandbox.calls.calls("zendesk") if "external_id" in (c.query or "")]
    third = cycle(bulk_deps, sandbox)
    sandbox.calls.clear()
    last = quarter_hour(bulk_deps, sandbox)

    # A record in a job counts as written once, in the cycle whose poll finds its job done.
    in_job = first.push.count("persona").pending
    landed = [r.push.count("persona") for r in (second, third) if r.push is not None]
    assert in_job > 50 and sum(c.created + c.updated for c in landed) == in_job

    assert last.plan is not None and last.plan.writes == []
    assert sandbox.calls.writes() == []
    snapshots = [r for r in live(sandbox, "CS_Health_Snapshot__c") if r.get("Sync_Key__c")]
    assert len(snapshots) == len({r["Sync_Key__c"] for r in snapshots}) > 50


@pytest.mark.sqlite_store
def test_a_lifecycle_cta_closed_as_successful_yields_its_milestone_and_a_note(deps, sandbox):
    cycle(deps, sandbox)
    sf = sandbox.emulators["salesforce"]
    cta = next(
        r
        for r in live(sandbox, "CS_CTA__c")
        if (r.get("Sync_Key__c") or "").startswith("exec_checkin:") and r["Status__c"] == "New"
    )
    assert sf.person_update("CS_CTA__c", cta["Id"], {"Status__c": "Closed - Success"}).success

    quarter_hour(deps, sandbox)

    records = keyed_records(sandbox)
    milestone = records[f"lifecycle_milestones:{cta['Id']}"][0]
    note = records[f"lifecycle_milestones:{cta['Id']}/note"][0]
    assert milestone["Milestone_Type__c"] == "Exec Check-in"
    assert milestone["Account__c"] == note["Account__c"] == cta["Account__c"]
    assert sf.org.get(cta["Id"])[1]["Closed_Date__c"] is not None


@pytest.mark.sqlite_store
def test_text_longer_than_its_crm_field_is_cut_to_fit_instead_of_failing(deps, sandbox):
    sf = sandbox.emulators["salesforce"]
    northwind = "0015j0000000001AAA"  # support_risk fires here (docs/demo-org.md)
    long_name = "Northwind " + "Ü" * 245  # Account.Name holds 255; the task subject adds more
    assert sf.person_update("Account", northwind, {"Name": long_name}).success

    report = cycle(deps, sandbox)

    assert report.push is not None and report.push.count("task").failed == 0
    task = keyed_records(sandbox)[f"support_risk:{northwind}/stay-informed"][0]
    assert len(task["Subject"]) == 255 and task["Subject"].endswith("…")


@pytest.mark.sqlite_store
def test_a_zendesk_job_still_running_next_cycle_is_polled_not_sent_again(deps, sandbox):
    sandbox.faults.update(job_seconds=4)  # real jobs take minutes; cycles do not wait on them
    first = cycle(deps, sandbox)
    assert first.push is not None and first.push.count("zendesk_task").pending > 0
    sandbox.calls.clear()
    cycle(deps, sandbox)  # the job has not finished: nothing is created twice
    resent = [c for c in sandbox.calls.writes("zendesk") if "create_many" in c.path]
    time.sleep(4.5)
    cycle(deps, sandbox)  # done now: ticket ids recorded and written onto the CTAs

    assert resent == []
    made = {t["external_id"]: t for t in tickets(sandbox)}
    assert len(made) == len(tickets(sandbox)) > 0
    ctas = {r["Sync_Key__c"]: r for r in live(sandbox, "CS_CTA__c") if r.get("Sync_Key__c")}
    assert all(str(made[k]["id"]) == str(ctas[k]["Zendesk_Ticket_Id__c"]) for k in made)


def test_sync_json_lists_the_plan_an_item_at_a_time_as_json_dumps_would(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # ``sync --json`` writes the plan's listing from the report's spool, item by item; the
    # answer is the text ``json.dumps(..., indent=2)`` gives for the whole structure.
    import json

    from connector.cli import print_json_listing

    data = {"status": "completed", "objects": {"cta": {"created": 2}}, "timings": {}}
    plan = [{"op": "create", "object": "cta", "changed": ["a", "b"], "reason": ""}] * 2
    for listed in ({"plan": plan, "skips": []}, {}, {"plan": [], "skips": [{"key": "k"}]}):
        print_json_listing(data, {name: iter(items) for name, items in listed.items()})
        assert capsys.readouterr().out == json.dumps({**data, **listed}, indent=2) + "\n"
