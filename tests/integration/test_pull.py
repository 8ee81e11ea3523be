"""The pull, end to end: the sandbox over HTTPS → sources → the store, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select

from connector.bootstrap import Deps, bootstrap
from connector.demo import sandbox_settings
from connector.pull import PullReport, pull
from connector.store import mirror


@pytest.fixture
def deps(sandbox, store_url) -> Iterator[Deps]:
    made = bootstrap(sandbox_settings(sandbox, store_url))
    yield made
    made.engine.dispose()


def run(deps: Deps) -> PullReport:
    return pull(deps.engine, deps.sources, deps.specs, clock=deps.clock)


def by_stream(report: PullReport) -> dict[str, Any]:
    return {s.stream: s for s in report.streams}


def mirror_ids(deps: Deps, stream: str, *, deleted: bool | None = None) -> set[str]:
    spec = next(s for s in deps.specs if s.name == stream)
    table = mirror.table(spec)
    query = select(table.c.id)
    if deleted is not None:
        query = query.where(table.c.deleted.is_(deleted))
    with deps.engine.connect() as conn:
        return set(conn.execute(query).scalars())


def test_a_full_pull_mirrors_every_live_record_of_the_demo_org(deps, sandbox) -> None:
    report = run(deps)
    assert report.status == "completed"
    sf = sandbox.emulators["salesforce"]
    live_contacts = {r["Id"] for r in sf.all_records("Contact") if not r["IsDeleted"]}
    assert mirror_ids(deps, "contact", deleted=False) == live_contacts
    tickets = {str(i) for i in sandbox.emulators["zendesk"].store.collection("tickets").ids}
    assert mirror_ids(deps, "zendesk_ticket") == tickets


def test_a_second_pull_with_nothing_changed_reads_nothing_with_one_call_per_stream(
    deps, sandbox
) -> None:
    run(deps)
    sandbox.calls.clear()
    second = run(deps)
    assert second.records == 0
    sf_streams = [s for s in deps.specs if s.source == "salesforce"]
    zd_streams = [s for s in deps.specs if s.source == "zendesk"]
    assert len(sandbox.calls.calls("salesforce")) == len(sf_streams)
    assert len(sandbox.calls.calls("zendesk")) == len(zd_streams)
    assert sandbox.calls.writes() == []


def test_an_incremental_pull_picks_up_exactly_the_changed_and_deleted_rows(deps, sandbox) -> None:
    run(deps)
    sf, zd = sandbox.emulators["salesforce"], sandbox.emulators["zendesk"]
    zd.export_delay_s = 0
    edited_at = sandbox.state.now()
    contacts = sorted(r["Id"] for r in sf.all_records("Contact") if not r["IsDeleted"])
    assert sf.person_update("Contact", contacts[0], {"Title": "Chief Edit Officer"}).success
    assert sf.person_delete(contacts[1]).success
    ticket_ids = sorted(int(i) for i in mirror_ids(deps, "zendesk_ticket", deleted=False))
    zd.agent_update(ticket_ids[0], priority="urgent")
    zd.delete_ticket(ticket_ids[1])

    report = by_stream(run(deps))

    changed = _changed_since(sf, edited_at)
    for spec in deps.specs:
        if spec.source != "salesforce":
            continue
        assert report[spec.name].records == len(changed.get(spec.source_object, ())), spec.name
    assert report["contact"].deleted == 1
    assert contacts[1] in mirror_ids(deps, "contact", deleted=True)
    assert report["zendesk_ticket"].records == 2
    assert str(ticket_ids[1]) in mirror_ids(deps, "zendesk_ticket", deleted=True)


def _changed_since(sf: Any, moment: datetime) -> dict[str, set[str]]:
    """What the org itself says changed after ``moment`` (the answer key for an increment)."""
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    out: dict[str, set[str]] = {}
    for sobject in (
        "Account",
        "Contact",
        "Task",
        "Event",
        "Survey_Answer__c",
        "Opportunity",
        "OpportunityContactRole",
        "AccountContactRole",
        "CS_CTA__c",
        "User",
    ):
        out[sobject] = {r["Id"] for r in sf.all_records(sobject) if r["SystemModstamp"] >= stamp}
    return out


def test_the_id_sweep_marks_rows_purged_from_the_org(deps, sandbox) -> None:
    from connector.pull import sweep_ids

    run(deps)
    sf = sandbox.emulators["salesforce"]
    victim = sorted(r["Id"] for r in sf.all_records("Opportunity"))[0]
    assert sf.purge(victim)
    marked = sweep_ids(
        deps.engine,
        deps.sources,
        [s for s in deps.specs if s.name == "opportunity"],
        clock=deps.clock,
    )
    assert marked == {"opportunity": 1}
    assert victim in mirror_ids(deps, "opportunity", deleted=True)


def test_run_history_keeps_counts_calls_and_the_orgs_api_usage(deps, sandbox) -> None:
    from connector.store import runs

    report = pull(deps.engine, deps.sources, deps.specs, clock=deps.clock, api_usage=deps.api_usage)
    with deps.engine.connect() as conn:
        (run,) = runs.last(conn, "pull", n=1)
    assert run.status == "completed" and run.api_calls == report.api_calls > 0
    used, _, limit = (run.api_usage or "").partition("/")
    assert int(used) > 0 and int(limit) == sandbox.config.api_daily_max
    assert {s.stream for s in run.streams} == {s.name for s in deps.specs}
