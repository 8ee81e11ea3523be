"""The REST sweep on the sandbox: pages, cursors, deletes, idle pulls and resumes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sf_support import (
    CONTACT,
    TASK,
    USER,
    data_calls,
    live_ids,
    pages_for,
    query_calls,
    read_all,
    row_ids,
)

from connector.model import Column, StreamSpec
from connector.sources.base import from_iso


def _add_contacts(sandbox, n: int) -> None:
    api = sandbox.emulators["salesforce"]
    account = api.all_records("Account")[0]["Id"]
    for i in range(n):
        api.person_insert("Contact", {"LastName": f"Extra {i}", "AccountId": account})


def _add_tasks(sandbox, n: int) -> None:
    api = sandbox.emulators["salesforce"]
    for i in range(n):
        api.person_insert("Task", {"Subject": f"Follow up {i}", "Status": "Not Started"})


def test_a_full_sweep_reads_every_contact_with_one_query_per_2000_rows(sandbox, sf_source):
    _add_contacts(sandbox, 1800)
    expected = live_ids(sandbox, "Contact")

    pages = read_all(sf_source(), CONTACT)

    assert set(row_ids(pages)) == expected and len(row_ids(pages)) == len(expected)
    assert len(query_calls(sandbox)) == pages_for(len(expected)) == 2
    assert len(data_calls(sandbox)) == 3  # COUNT() first, then the two pages
    assert sum(p.api_calls for p in pages) == 3
    assert [p.done for p in pages] == [False, True]


def test_paging_reaches_the_last_page_of_task(sandbox, sf_source):
    _add_tasks(sandbox, 450)
    expected = live_ids(sandbox, "Task")

    pages = read_all(sf_source(page_size=200), TASK)

    assert len(pages) == pages_for(len(expected), 200) == 3
    assert sorted(row_ids(pages)) == sorted(expected)
    assert pages[-1].done and not any(p.done for p in pages[:-1])
    assert pages[-1].state["sweep"] is None


def test_rows_carry_the_id_modstamp_deleted_flag_and_mapped_values(sandbox, sf_source):
    record = sandbox.emulators["salesforce"].all_records("Contact")[0]

    pages = read_all(sf_source(), CONTACT)

    row = next(r for p in pages for r in p.rows if r.id == record["Id"])
    assert row.modstamp == from_iso(record["SystemModstamp"])
    assert row.deleted is False
    assert row.values["email"] == record["Email"]
    assert row.values["account_name"]  # a parent field through the relationship path
    assert isinstance(row.values["created"], datetime)


def test_the_last_page_saves_the_run_start_minus_lag_as_cursor(sandbox, sf_source):
    run_start = datetime.now(UTC).replace(microsecond=0)  # states keep milliseconds

    pages = read_all(sf_source(lag=timedelta(minutes=5)), CONTACT, run_start=run_start)

    assert from_iso(pages[-1].state["cursor"]) == run_start - timedelta(minutes=5)


def test_an_incremental_read_returns_exactly_the_edited_and_deleted_rows(sandbox, sf_source):
    source = sf_source()
    state = read_all(source, CONTACT)[-1].state
    api = sandbox.emulators["salesforce"]
    contacts = [r["Id"] for r in api.all_records("Contact")]
    api.person_update("Contact", contacts[3], {"Title": "Chief Happiness Officer"})
    api.person_update("Contact", contacts[7], {"Title": "Head of Ops"})
    api.person_delete(contacts[11])
    sandbox.calls.clear()

    pages = read_all(source, CONTACT, state)

    rows = {r.id: r for p in pages for r in p.rows}
    assert set(rows) == {contacts[3], contacts[7], contacts[11]}
    assert rows[contacts[11]].deleted is True
    assert rows[contacts[3]].values["title"] == "Chief Happiness Officer"
    assert "queryAll" in query_calls(sandbox)[0].path  # soft deletes only come from queryAll
    assert len(data_calls(sandbox)) == 1  # no COUNT() once there is a cursor


def test_an_idle_read_makes_one_call_and_reads_no_rows(sandbox, sf_source):
    source = sf_source()
    state = read_all(source, CONTACT)[-1].state
    sandbox.calls.clear()

    pages = read_all(source, CONTACT, state)

    assert len(pages) == 1 and pages[0].done and pages[0].rows == []
    assert len(data_calls(sandbox)) == 1 and pages[0].api_calls == 1
    assert from_iso(pages[0].state["cursor"]) >= from_iso(state["cursor"])


def test_the_cursor_never_moves_back_when_run_start_minus_lag_is_before_it(sandbox, sf_source):
    state = read_all(sf_source(), CONTACT)[-1].state
    earlier = from_iso(state["cursor"]) - timedelta(minutes=1)

    pages = read_all(sf_source(lag=timedelta(hours=1)), CONTACT, state, run_start=earlier)

    assert pages[-1].state["cursor"] == state["cursor"]


def test_resuming_mid_sweep_rereads_only_rows_at_the_boundary_modstamp(sandbox, sf_source):
    _add_tasks(sandbox, 450)
    first = read_all(sf_source(page_size=200), TASK)
    checkpoint = first[0].state  # a crash after the first page was committed
    boundary = from_iso(checkpoint["sweep"]["from"])
    at_boundary = {r.id for r in first[0].rows if r.modstamp == boundary}

    resumed = read_all(sf_source(page_size=200), TASK, checkpoint)

    again = set(row_ids(resumed)) & set(row_ids(first[:1]))
    assert again == at_boundary
    assert set(row_ids(first[:1])) | set(row_ids(resumed)) == live_ids(sandbox, "Task")
    assert resumed[-1].done


def test_a_resumed_sweep_saves_the_cursor_of_its_original_run(sandbox, sf_source):
    _add_tasks(sandbox, 450)
    original_start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=3)
    checkpoint = read_all(sf_source(page_size=200), TASK, run_start=original_start)[0].state

    resumed = read_all(sf_source(page_size=200), TASK, checkpoint)

    assert from_iso(resumed[-1].state["cursor"]) == original_start


def test_a_stream_without_is_deleted_uses_query_and_never_selects_it(sandbox, sf_source):
    pages = read_all(sf_source(), USER)

    assert set(row_ids(pages)) == live_ids(sandbox, "User")
    assert all("IsDeleted" not in c.query for c in query_calls(sandbox))
    assert all("/queryAll" not in c.path for c in data_calls(sandbox))


def test_a_bad_value_becomes_a_record_issue_and_the_rest_of_the_page_proceeds(sandbox, sf_source):
    api = sandbox.emulators["salesforce"]
    contact = api.all_records("Contact")[0]["Id"]
    api.person_update("Contact", contact, {"CS_Persona__c": "Admin"})  # others are null
    spec = StreamSpec(
        "contact_title_int",
        "salesforce",
        "Contact",
        (Column("persona", "int", "CS_Persona__c"),),
        "SystemModstamp",
        "tests/int_title",
    )

    pages = read_all(sf_source(), spec)

    issues = [i for p in pages for i in p.issues]
    with_persona = {r["Id"] for r in api.all_records("Contact") if r["CS_Persona__c"]}
    assert contact in with_persona and {i.record_id for i in issues} == with_persona
    assert all("fields.CS_Persona__c" in i.reason for i in issues)
    assert not with_persona & set(row_ids(pages))
    assert len(row_ids(pages)) == len(live_ids(sandbox, "Contact")) - len(with_persona)


def test_all_ids_lists_live_ids_only_through_query(sandbox, sf_source):
    api = sandbox.emulators["salesforce"]
    gone = api.all_records("Contact")[0]["Id"]
    api.person_delete(gone)

    batches = list(sf_source(page_size=200).all_ids(CONTACT))

    ids = [i for batch in batches for i in batch]
    assert set(ids) == live_ids(sandbox, "Contact", with_deleted=False)
    assert gone not in ids and len(batches) == 2
    assert all("/queryAll" not in c.path for c in data_calls(sandbox))


@pytest.mark.parametrize(
    "sobject",
    ["Account", "Contact", "Opportunity", "OpportunityContactRole", "Task", "Event", "User"],
)
def test_a_full_sweep_of_each_demo_object_costs_one_query_per_2000_rows(
    sandbox, sf_source, sobject
):
    options = {"has_is_deleted": False} if sobject == "User" else {}
    spec = StreamSpec(sobject.lower(), "salesforce", sobject, (), "SystemModstamp", "t", options)

    pages = read_all(sf_source(), spec)

    assert set(row_ids(pages)) == live_ids(sandbox, sobject)
    assert len(query_calls(sandbox)) == pages_for(len(live_ids(sandbox, sobject)))
