"""The incremental exports: cursor-based tickets and users, time-based organizations.

Shapes and rules checked against Incremental Exports
(developer.zendesk.com/api-reference/ticketing/ticket-management/incremental_exports/) and Using
the Incremental Export API (developer.zendesk.com/documentation/ticketing/managing-tickets/
using-the-incremental-export-api/).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests

from connector.sandbox.zendesk.store import iso_to_us

ZD = "https://demo.zendesk.com/api/v2"
TICKETS = f"{ZD}/incremental/tickets/cursor.json"


class StubClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(sandbox, monkeypatch) -> StubClock:  # type: ignore[no-untyped-def]
    stub = StubClock(datetime.now(UTC) + timedelta(minutes=2))
    monkeypatch.setattr(sandbox.state, "clock", stub)
    return stub


@pytest.fixture
def zd(sandbox, session_factory, clock) -> requests.Session:  # type: ignore[no-untyped-def]
    s = session_factory()
    c = sandbox.config.credentials
    s.auth = (f"{c.zd_email}/token", c.zd_api_token)
    return s


def _sweep(zd: requests.Session, first: str) -> tuple[list[dict], str]:
    """Follow ``after_url`` to ``end_of_stream``; returns the tickets and the last cursor."""
    tickets, body = [], zd.get(first).json()
    while True:
        tickets += body["tickets"]
        if body["end_of_stream"]:
            return tickets, body["after_cursor"]
        body = zd.get(body["after_url"]).json()


def _create(zd: requests.Session, **fields) -> dict:  # type: ignore[no-untyped-def]
    payload = {"subject": "Risk", "comment": {"body": "b"}, "type": "task", **fields}
    return zd.post(f"{ZD}/tickets.json", json={"ticket": payload}).json()["ticket"]


def test_the_cursor_export_pages_every_ticket_in_updated_order(sandbox, zd) -> None:  # type: ignore[no-untyped-def]
    tickets, _ = _sweep(zd, f"{TICKETS}?start_time=0&per_page=2")
    assert {t["id"] for t in tickets} == {t["id"] for t in sandbox.state.demo.zendesk["tickets"]}
    keys = [(iso_to_us(t["updated_at"]), t["id"]) for t in tickets]
    assert keys == sorted(keys)


def test_a_cursor_page_has_the_documented_keys(zd) -> None:  # type: ignore[no-untyped-def]
    body = zd.get(TICKETS, params={"start_time": 0, "per_page": 1}).json()
    assert set(body) == {
        "tickets",
        "after_url",
        "after_cursor",
        "before_url",
        "before_cursor",
        "end_of_stream",
    }
    assert body["after_url"].startswith(TICKETS) and body["end_of_stream"] is False


def test_the_last_after_cursor_returns_tickets_written_since(zd, clock) -> None:  # type: ignore[no-untyped-def]
    _, cursor = _sweep(zd, f"{TICKETS}?start_time=0")
    created = _create(zd)
    clock.advance(61)
    body = zd.get(TICKETS, params={"cursor": cursor}).json()
    assert [t["id"] for t in body["tickets"]] == [created["id"]]
    assert body["end_of_stream"] is True


def test_an_update_to_an_old_ticket_comes_after_the_cursor(sandbox, zd, clock) -> None:  # type: ignore[no-untyped-def]
    _, cursor = _sweep(zd, f"{TICKETS}?start_time=0")
    old = sandbox.state.demo.zendesk["tickets"][0]
    sandbox.emulators["zendesk"].agent_update(old["id"], priority="urgent")
    clock.advance(61)
    body = zd.get(TICKETS, params={"cursor": cursor}).json()
    assert [(t["id"], t["priority"]) for t in body["tickets"]] == [(old["id"], "urgent")]


def test_a_ticket_written_in_the_last_minute_is_not_exported_yet(zd, clock) -> None:  # type: ignore[no-untyped-def]
    """ "Data isn't provided for the most recent minute" (Incremental Ticket Export, Cursor)."""
    _, cursor = _sweep(zd, f"{TICKETS}?start_time=0")
    _create(zd)
    clock.advance(30)
    assert zd.get(TICKETS, params={"cursor": cursor}).json()["tickets"] == []


def test_a_deleted_ticket_is_exported_with_status_deleted(zd, clock) -> None:  # type: ignore[no-untyped-def]
    """ "By default, deletions will appear in the ticket stream" (exclude_deleted)."""
    tid = _create(zd)["id"]
    _, cursor = _sweep(zd, f"{TICKETS}?start_time=0")
    zd.delete(f"{ZD}/tickets/{tid}.json")
    clock.advance(61)
    body = zd.get(TICKETS, params={"cursor": cursor}).json()
    assert [(t["id"], t["status"]) for t in body["tickets"]] == [(tid, "deleted")]


def test_exclude_deleted_leaves_deleted_tickets_out(zd, clock) -> None:  # type: ignore[no-untyped-def]
    tid = _create(zd)["id"]
    zd.delete(f"{ZD}/tickets/{tid}.json")
    clock.advance(61)
    tickets, _ = _sweep(zd, f"{TICKETS}?start_time=0&exclude_deleted=true")
    assert tid not in {t["id"] for t in tickets}


def test_a_start_time_within_the_last_minute_is_422_too_recent(zd, clock) -> None:  # type: ignore[no-untyped-def]
    """ "The time must be more than one minute in the past" (start_time)."""
    recent = int(clock.now.timestamp()) - 30
    r = zd.get(TICKETS, params={"start_time": recent})
    assert r.status_code == 422
    assert r.json()["description"].startswith("Too recent start_time")


def test_include_users_side_loads_the_requesters(zd) -> None:  # type: ignore[no-untyped-def]
    body = zd.get(TICKETS, params={"start_time": 0, "include": "users"}).json()
    requesters = {t["requester_id"] for t in body["tickets"]}
    assert requesters <= {u["id"] for u in body["users"]}


def test_zenpy_iterates_the_cursor_export(sandbox, zenpy, clock) -> None:  # type: ignore[no-untyped-def]
    """zenpy's ``tickets.incremental(start_time=...)`` uses ``incremental/tickets/cursor``."""
    ids = {t.id for t in zenpy.tickets.incremental(start_time=0)}
    assert ids == {t["id"] for t in sandbox.state.demo.zendesk["tickets"]}
    assert sandbox.calls.calls("zendesk")[-1].path == "/api/v2/incremental/tickets/cursor.json"


def test_the_users_cursor_export_lists_every_user(sandbox, zd) -> None:  # type: ignore[no-untyped-def]
    users, body = (
        [],
        zd.get(
            f"{ZD}/incremental/users/cursor.json", params={"start_time": 0, "per_page": 3}
        ).json(),
    )
    while True:
        users += body["users"]
        if body["end_of_stream"]:
            break
        body = zd.get(body["after_url"]).json()
    assert {u["id"] for u in users} == {u["id"] for u in sandbox.state.demo.zendesk["users"]}


# -- organizations: time-based ---------------------------------------------------------------
@pytest.fixture
def boundary_orgs(sandbox, clock) -> tuple[int, list[int]]:  # type: ignore[no-untyped-def]
    """Five organizations after every seeded one: seconds t, t+1, t+1, t+1, t+2."""
    store = sandbox.emulators["zendesk"].store
    start = int(clock.now.timestamp()) - 600
    template = sandbox.state.demo.zendesk["organizations"][0]
    ids = []
    for offset in (0, 1, 1, 1, 2):
        oid = store.clock.next_id()
        stamp = datetime.fromtimestamp(start + offset, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        store.organizations.put({**template, "id": oid, "updated_at": stamp}, iso_to_us(stamp))
        ids.append(oid)
    return start, ids


def test_an_organization_page_has_end_time_next_page_and_count(zd, boundary_orgs) -> None:  # type: ignore[no-untyped-def]
    start, ids = boundary_orgs
    body = zd.get(f"{ZD}/incremental/organizations.json", params={"start_time": start}).json()
    assert [o["id"] for o in body["organizations"]] == ids
    assert (body["count"], body["end_time"], body["end_of_stream"]) == (5, start + 2, True)
    assert body["next_page"].endswith(f"start_time={start + 2}")


def test_records_sharing_the_boundary_second_repeat_on_the_next_page(zd, boundary_orgs) -> None:  # type: ignore[no-untyped-def]
    """end_time is the next start_time, so the boundary second comes again (time-based
    exports "may contain duplicate items"), and a page may exceed per_page when items share
    the last timestamp (per_page note)."""
    start, ids = boundary_orgs
    first = zd.get(
        f"{ZD}/incremental/organizations.json", params={"start_time": start, "per_page": 2}
    ).json()
    assert [o["id"] for o in first["organizations"]] == ids[:4]  # t and all of t+1
    second = zd.get(first["next_page"]).json()
    assert [o["id"] for o in second["organizations"]][:3] == ids[1:4]  # t+1 again


def test_paging_organizations_to_the_end_sees_each_one_after_dedupe(sandbox, zd) -> None:  # type: ignore[no-untyped-def]
    seen: list[int] = []
    body = zd.get(
        f"{ZD}/incremental/organizations.json", params={"start_time": 0, "per_page": 1}
    ).json()
    for _ in range(50):
        seen += [o["id"] for o in body["organizations"]]
        if body["end_of_stream"]:
            break
        body = zd.get(body["next_page"]).json()
    assert set(seen) == {o["id"] for o in sandbox.state.demo.zendesk["organizations"]}
