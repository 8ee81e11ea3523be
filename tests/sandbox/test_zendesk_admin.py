"""The Zendesk data door: people's edits through ``/__sandbox/data/zendesk/`` and in Python."""

from __future__ import annotations

import pytest
import requests

ZD = "https://demo.zendesk.com/api/v2"


@pytest.fixture
def admin(sandbox, session_factory):  # type: ignore[no-untyped-def]
    """Requests to https://localhost:<port>/__sandbox/data/zendesk/ trusting the sandbox CA.

    ``verify`` goes on each request: REQUESTS_CA_BUNDLE would override ``session.verify``."""
    s = session_factory()
    base = f"https://localhost:{sandbox.port}/__sandbox/data/zendesk"
    ca = str(sandbox.ca_path)
    return lambda method, path, **kw: s.request(method, f"{base}/{path}", verify=ca, **kw)


@pytest.fixture
def zd(sandbox, session_factory) -> requests.Session:  # type: ignore[no-untyped-def]
    s = session_factory()
    c = sandbox.config.credentials
    s.auth = (f"{c.zd_email}/token", c.zd_api_token)
    return s


@pytest.fixture
def emulator(sandbox):  # type: ignore[no-untyped-def]
    return sandbox.emulators["zendesk"]


def _task(zd: requests.Session) -> dict:
    payload = {"subject": "Risk", "comment": {"body": "b"}, "type": "task"}
    return zd.post(f"{ZD}/tickets.json", json={"ticket": payload}).json()["ticket"]


def test_admin_lists_the_seeded_tickets(sandbox, admin) -> None:  # type: ignore[no-untyped-def]
    listed = admin("GET", "tickets").json()
    assert [t["id"] for t in listed] == sorted(
        t["id"] for t in sandbox.state.demo.zendesk["tickets"]
    )


def test_an_agent_edit_through_admin_changes_status_and_bumps_updated_at(zd, admin) -> None:  # type: ignore[no-untyped-def]
    ticket = _task(zd)
    edited = admin("PUT", f"tickets/{ticket['id']}", json={"status": "solved"}).json()
    assert edited["status"] == "solved"
    assert edited["generated_timestamp"] >= ticket["generated_timestamp"]
    assert zd.get(f"{ZD}/tickets/{ticket['id']}.json").json()["ticket"]["status"] == "solved"


def test_a_customer_ticket_posted_through_admin_comes_from_an_end_user(sandbox, admin) -> None:  # type: ignore[no-untyped-def]
    r = admin("POST", "tickets", json={"subject": "Export fails", "priority": "urgent"})
    assert r.status_code == 201
    requester = r.json()["requester_id"]
    users = {u["id"]: u for u in sandbox.state.demo.zendesk["users"]}
    assert users[requester]["role"] == "end-user" and r.json()["via"]["channel"] == "web"


def test_admin_shows_a_deleted_ticket_the_api_no_longer_serves(zd, admin) -> None:  # type: ignore[no-untyped-def]
    tid = _task(zd)["id"]
    zd.delete(f"{ZD}/tickets/{tid}.json")
    assert admin("GET", f"tickets/{tid}").json()["status"] == "deleted"


def test_admin_lists_job_statuses(zd, admin) -> None:  # type: ignore[no-untyped-def]
    payload = [{"subject": "t", "comment": {"body": "b"}}]
    job_id = zd.post(f"{ZD}/tickets/create_many.json", json={"tickets": payload}).json()[
        "job_status"
    ]["id"]
    assert [j["id"] for j in admin("GET", "job_statuses").json()] == [job_id]


def test_agent_update_in_python_assigns_and_opens_a_new_ticket(sandbox, zd, emulator) -> None:  # type: ignore[no-untyped-def]
    ticket = _task(zd)
    agent = next(u["id"] for u in sandbox.state.demo.zendesk["users"] if u["role"] == "agent")
    updated = emulator.agent_update(ticket["id"], assignee_id=agent)
    assert (updated["assignee_id"], updated["status"]) == (agent, "open")


def test_create_ticket_in_python_returns_the_stored_ticket(emulator) -> None:  # type: ignore[no-untyped-def]
    ticket = emulator.create_ticket(subject="Login broken", tags=["bug"])
    assert emulator.store.tickets.get(ticket["id"]) == ticket


def test_reset_forgets_tickets_created_since(sandbox, emulator) -> None:  # type: ignore[no-untyped-def]
    ticket = emulator.create_ticket(subject="Temporary")
    sandbox.reset()
    assert sandbox.emulators["zendesk"].store.tickets.get(ticket["id"]) is None
