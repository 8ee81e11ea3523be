"""Tickets through the cursor-based incremental export, on the sandbox over real HTTPS."""

from __future__ import annotations

import math

from conftest_zendesk import *  # noqa: F403  (fixtures: clock, client, source, ...)
from conftest_zendesk import export_calls, read_all, zendesk_spec

from connector.sandbox.zendesk.store import iso_to_us

TICKETS = zendesk_spec("tickets")


def _store(sandbox):
    return sandbox.emulators["zendesk"].store


def test_the_ticket_export_pages_to_end_of_stream_in_ceil_n_over_1000_calls(
    sandbox, source
) -> None:
    n = len(_store(sandbox).tickets)
    pages = read_all(source, TICKETS)
    assert len(export_calls(sandbox)) == math.ceil(n / 1000) == len(pages)
    assert sum(len(p.rows) for p in pages) == n
    assert pages[-1].done and not any(p.done for p in pages[:-1])


def test_a_smaller_page_size_takes_ceil_n_over_per_page_calls_each_with_its_cursor(
    sandbox, source
) -> None:
    n = len(_store(sandbox).tickets)
    pages = read_all(source, zendesk_spec("tickets", per_page=100))
    assert len(export_calls(sandbox)) == len(pages) == math.ceil(n / 100)
    assert len({r.id for p in pages for r in p.rows}) == n
    cursors = [p.state["after_cursor"] for p in pages]
    assert all(cursors) and len(set(cursors)) == len(cursors)
    assert [p.api_calls for p in pages] == [1] * len(pages)


def test_a_row_has_the_ticket_id_its_updated_at_and_mapped_values(sandbox, source) -> None:
    ticket = _store(sandbox).tickets.get(25)
    rows = {r.id: r for p in read_all(source, TICKETS) for r in p.rows}
    row = rows["25"]
    assert row.modstamp is not None
    assert int(row.modstamp.timestamp() * 1_000_000) == iso_to_us(ticket["updated_at"])
    assert (row.values["status"], row.values["subject"]) == (ticket["status"], ticket["subject"])
    assert row.deleted is False


def test_resuming_from_the_saved_cursor_returns_exactly_the_changed_tickets(
    sandbox, source, clock
) -> None:
    state = read_all(source, TICKETS)[-1].state
    zd = sandbox.emulators["zendesk"]
    live = [t for t in _store(sandbox).tickets.values() if t["status"] != "deleted"]
    updated, doomed = live[0]["id"], live[1]["id"]
    zd.agent_update(updated, priority="urgent")
    created = zd.create_ticket(subject="Export button broken")["id"]
    zd.delete_ticket(doomed)
    clock.advance(61)
    sandbox.calls.clear()
    pages = read_all(source, TICKETS, state)
    rows = {r.id: r for p in pages for r in p.rows}
    assert set(rows) == {str(updated), str(created), str(doomed)}
    assert {rid for rid, r in rows.items() if r.deleted} == {str(doomed)}
    assert len(export_calls(sandbox)) == 1 and pages[-1].done


def test_a_change_in_the_last_minute_waits_for_a_later_read(sandbox, source, clock) -> None:
    state = read_all(source, TICKETS)[-1].state
    sandbox.emulators["zendesk"].create_ticket(subject="Too fresh")
    clock.advance(30)
    held_back = read_all(source, TICKETS, state)
    clock.advance(31)
    later = read_all(source, TICKETS, held_back[-1].state)
    assert [r for p in held_back for r in p.rows] == []
    assert [r.values["subject"] for p in later for r in p.rows] == ["Too fresh"]


def test_an_idle_read_makes_one_call_returns_no_rows_and_keeps_the_state(sandbox, source) -> None:
    state = read_all(source, TICKETS)[-1].state
    sandbox.calls.clear()
    pages = read_all(source, TICKETS, state)
    assert len(export_calls(sandbox)) == 1
    assert [len(p.rows) for p in pages] == [0]
    assert pages[-1].state == state and pages[-1].done


def test_a_first_read_with_nothing_to_export_keeps_its_start_time(sandbox, make_client, clock):
    from connector.sources.zendesk import ZendeskSource

    start = int(clock.seconds()) - 120
    pages = read_all(ZendeskSource(make_client(), start_time=start), TICKETS)
    assert [len(p.rows) for p in pages] == [0]
    assert pages[-1].state == {"start_time": start, "after_cursor": None}
    assert pages[-1].done


def test_a_start_time_within_the_last_minute_reads_nothing_and_keeps_the_state(
    sandbox, make_client, clock
) -> None:
    from connector.sources.zendesk import ZendeskSource

    state = {"start_time": int(clock.seconds()) - 10, "after_cursor": None}
    pages = read_all(ZendeskSource(make_client()), TICKETS, state)
    assert [(len(p.rows), p.state, p.done) for p in pages] == [(0, state, True)]


def test_a_full_read_ignores_the_saved_cursor(sandbox, source) -> None:
    state = read_all(source, TICKETS)[-1].state
    pages = read_all(source, TICKETS, state, full=True)
    assert sum(len(p.rows) for p in pages) == len(_store(sandbox).tickets)


def test_custom_fields_are_read_under_custom_fields_dot_their_id(sandbox, source, clock) -> None:
    state = read_all(source, TICKETS)[-1].state
    tid = next(t["id"] for t in _store(sandbox).tickets.values() if t["status"] == "open")
    field = _store(sandbox).ticket_fields.get(17)
    value = "bug" if field.get("type") != "checkbox" else True
    sandbox.emulators["zendesk"].agent_update(tid, custom_fields=[{"id": 17, "value": value}])
    clock.advance(61)
    rows = [r for p in read_all(source, TICKETS, state) for r in p.rows]
    assert [(r.id, r.values["risk_type"]) for r in rows] == [(str(tid), value)]


def test_a_ticket_that_cannot_be_read_is_an_issue_and_the_rest_are_kept(
    sandbox, source, clock
) -> None:
    store = _store(sandbox)
    template = store.tickets.get(25)
    bad_id = store.clock.next_id()
    store.tickets.put({**template, "id": bad_id, "updated_at": "yesterday"}, store.clock.stamp())
    clock.advance(61)
    pages = read_all(source, TICKETS)
    issues = [i for p in pages for i in p.issues]
    assert [i.record_id for i in issues] == [str(bad_id)]
    assert "updated_at" in issues[0].reason
    assert sum(len(p.rows) for p in pages) == len(store.tickets) - 1
