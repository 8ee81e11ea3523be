"""Organizations (time-based export), users, groups and the id sweep, on the sandbox."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from conftest_zendesk import *  # noqa: F403  (fixtures: clock, client, source, ...)
from conftest_zendesk import export_calls, read_all, zendesk_spec

from connector.errors import ConfigError
from connector.sandbox.zendesk.store import iso_to_us

ORGS = zendesk_spec("organizations")


def _store(sandbox):
    return sandbox.emulators["zendesk"].store


@pytest.fixture
def boundary_orgs(sandbox, clock) -> tuple[int, list[int]]:
    """Five organizations after every seeded one, updated at seconds t, t+1, t+1, t+1, t+2."""
    store = _store(sandbox)
    start = int(clock.seconds()) - 600
    template = store.organizations.get(20)
    ids = []
    for offset in (0, 1, 1, 1, 2):
        oid = store.clock.next_id()
        stamp = datetime.fromtimestamp(start + offset, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        store.organizations.put({**template, "id": oid, "updated_at": stamp}, iso_to_us(stamp))
        ids.append(oid)
    return start, ids


def test_organizations_repeated_at_page_boundaries_are_stored_once(
    sandbox, make_client, boundary_orgs
) -> None:
    from connector.sources.zendesk import ZendeskSource

    start, ids = boundary_orgs
    source = ZendeskSource(make_client(), start_time=start)
    pages = read_all(source, zendesk_spec("organizations", per_page=2))
    returned = sum(c.records_read for c in export_calls(sandbox, "organizations"))
    rows = [r.id for p in pages for r in p.rows]
    assert rows == [str(i) for i in ids]
    assert returned > len(ids)  # the API did repeat some
    assert pages[-1].done and pages[-1].state["start_time"] == start + 2


def test_an_idle_organizations_read_stores_nothing_and_keeps_the_state(
    sandbox, source, boundary_orgs
) -> None:
    state = read_all(source, ORGS)[-1].state
    sandbox.calls.clear()
    pages = read_all(source, ORGS, state)
    assert [len(p.rows) for p in pages] == [0]
    assert pages[-1].state == state and len(export_calls(sandbox, "organizations")) == 1


def test_an_organization_updated_after_the_sweep_comes_again(
    sandbox, source, boundary_orgs, clock
) -> None:
    _, ids = boundary_orgs
    state = read_all(source, ORGS)[-1].state
    store = _store(sandbox)
    clock.advance(5)
    stamp = store.clock.stamp()
    updated = {**store.organizations.get(ids[-1]), "name": "Renamed"}
    updated["updated_at"] = datetime.fromtimestamp(stamp // 1_000_000, UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    store.organizations.put(updated, stamp)
    clock.advance(61)
    rows = [r for p in read_all(source, ORGS, state) for r in p.rows]
    assert [(r.id, r.values["name"]) for r in rows] == [(str(ids[-1]), "Renamed")]


def test_an_organizations_start_time_within_the_last_minute_reads_nothing(
    sandbox, source, clock
) -> None:
    state = {"start_time": int(clock.seconds()) - 10, "boundary_ids": []}
    pages = read_all(source, ORGS, state)
    assert [(len(p.rows), p.state, p.done) for p in pages] == [(0, state, True)]


def test_the_organizations_export_reads_every_organization(sandbox, source) -> None:
    rows = [r for p in read_all(source, ORGS) for r in p.rows]
    assert sorted(int(r.id) for r in rows) == _store(sandbox).organizations.ids
    assert all(r.values["name"] for r in rows)


def test_the_users_export_reads_every_user(sandbox, source) -> None:
    pages = read_all(source, zendesk_spec("users"))
    assert sorted(int(r.id) for p in pages for r in p.rows) == _store(sandbox).users.ids
    assert pages[-1].done and pages[-1].state["after_cursor"]
    assert len(export_calls(sandbox, "users")) == 1


def test_groups_are_listed_in_full_and_only_new_or_changed_ones_pass_on(sandbox, source) -> None:
    first = read_all(source, zendesk_spec("groups"))
    again = read_all(source, zendesk_spec("groups"), first[-1].state)
    names = [r.values["name"] for p in first for r in p.rows]
    assert len(names) == len(_store(sandbox).groups) and first[-1].done
    assert [r.id for p in again for r in p.rows] == []
    assert again[-1].done and again[-1].api_calls == 1


def test_the_id_sweep_lists_live_organizations_users_and_groups(sandbox, source) -> None:
    for endpoint in ("organizations", "users", "groups"):
        ids = [i for batch in source.all_ids(zendesk_spec(endpoint)) for i in batch]
        assert sorted(map(int, ids)) == _store(sandbox).collection(endpoint).ids


def test_the_ticket_id_sweep_leaves_deleted_tickets_out(sandbox, source) -> None:
    ids = {i for batch in source.all_ids(zendesk_spec("tickets")) for i in batch}
    live = {str(t["id"]) for t in _store(sandbox).tickets.values() if t["status"] != "deleted"}
    assert ids == live and len(ids) < len(_store(sandbox).tickets)


def test_an_unknown_endpoint_is_a_config_error_naming_the_mapping(source) -> None:
    spec = zendesk_spec("groups")
    bad = type(spec)(**{**spec.__dict__, "options": {"endpoint": "macros"}})
    with pytest.raises(ConfigError, match="mappings/zendesk/groups.toml:options.endpoint"):
        read_all(source, bad)
