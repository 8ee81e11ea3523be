"""Bulk ticket writes and their job statuses.

Shapes checked against Tickets API, Create Many / Update Many Tickets
(developer.zendesk.com/api-reference/ticketing/tickets/tickets/) and Job Statuses
(developer.zendesk.com/api-reference/ticketing/ticket-management/job_statuses/).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests
from zenpy.lib.api_objects import Ticket
from zenpy.lib.exception import TooManyValuesException

ZD = "https://demo.zendesk.com/api/v2"


class StubClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(sandbox, monkeypatch) -> StubClock:  # type: ignore[no-untyped-def]
    stub = StubClock(datetime.now(UTC))
    monkeypatch.setattr(sandbox.state, "clock", stub)
    return stub


@pytest.fixture
def zd(sandbox, session_factory) -> requests.Session:  # type: ignore[no-untyped-def]
    s = session_factory()
    c = sandbox.config.credentials
    s.auth = (f"{c.zd_email}/token", c.zd_api_token)
    return s


def _tasks(n: int, **fields) -> list[dict]:  # type: ignore[no-untyped-def]
    return [
        {"subject": f"Task {i}", "comment": {"body": "b"}, "type": "task", **fields}
        for i in range(n)
    ]


def _job(zd: requests.Session, job_id: str) -> dict:
    return zd.get(f"{ZD}/job_statuses/{job_id}.json").json()["job_status"]


def test_create_many_answers_a_queued_job_status(zd) -> None:  # type: ignore[no-untyped-def]
    r = zd.post(f"{ZD}/tickets/create_many.json", json={"tickets": _tasks(2)})
    assert r.status_code == 200
    job = r.json()["job_status"]
    assert (job["status"], job["total"], job["results"]) == ("queued", 2, None)
    assert job["url"] == f"{ZD}/job_statuses/{job['id']}.json"


def test_a_completed_create_job_lists_index_and_id_per_ticket(zd) -> None:  # type: ignore[no-untyped-def]
    """Bulk create results: ``{"id", "index"}`` each (Job Statuses, Results)."""
    job_id = zd.post(f"{ZD}/tickets/create_many.json", json={"tickets": _tasks(3)}).json()[
        "job_status"
    ]["id"]
    job = _job(zd, job_id)
    assert job["status"] == "completed" and job["progress"] == 3
    assert [r["index"] for r in job["results"]] == [0, 1, 2]
    subjects = [
        zd.get(f"{ZD}/tickets/{r['id']}.json").json()["ticket"]["subject"] for r in job["results"]
    ]
    assert subjects == ["Task 0", "Task 1", "Task 2"]


def test_a_job_stays_queued_until_job_seconds_have_passed(sandbox, zd, clock) -> None:  # type: ignore[no-untyped-def]
    sandbox.faults.update(job_seconds=30)
    job_id = zd.post(f"{ZD}/tickets/create_many.json", json={"tickets": _tasks(1)}).json()[
        "job_status"
    ]["id"]
    clock.advance(29)
    assert _job(zd, job_id)["status"] == "queued"
    clock.advance(2)
    assert _job(zd, job_id)["status"] == "completed"


def test_tickets_of_a_pending_job_do_not_exist_yet(sandbox, zd, clock) -> None:  # type: ignore[no-untyped-def]
    sandbox.faults.update(job_seconds=30)
    zd.post(f"{ZD}/tickets/create_many.json", json={"tickets": _tasks(1, external_id="x-9")})
    assert zd.get(f"{ZD}/tickets.json", params={"external_id": "x-9"}).json()["tickets"] == []


def test_more_than_100_tickets_is_400_too_many_values(zd) -> None:  # type: ignore[no-untyped-def]
    """ "Accepts an array of up to 100 ticket objects"; the TooManyValues body as zenpy#624
    quotes it."""
    r = zd.post(f"{ZD}/tickets/create_many.json", json={"tickets": _tasks(101)})
    assert r.status_code == 400
    assert r.json()["error"] == "TooManyValues" and r.json()["max_count"] == 100


def test_zenpy_raises_too_many_values_for_101_tickets(zenpy) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TooManyValuesException):
        zenpy.tickets.create([Ticket(**t) for t in _tasks(101)])


def test_zenpy_create_many_and_job_status_round_trip(zenpy) -> None:  # type: ignore[no-untyped-def]
    job = zenpy.tickets.create([Ticket(**t) for t in _tasks(2)])
    done = zenpy.job_status(id=job.id)
    assert done.status == "completed" and len(done.results) == 2


def test_a_failed_item_carries_error_and_details_and_the_rest_succeed(zd) -> None:  # type: ignore[no-untyped-def]
    payload = _tasks(1) + [{"subject": "no comment"}]
    job_id = zd.post(f"{ZD}/tickets/create_many.json", json={"tickets": payload}).json()[
        "job_status"
    ]["id"]
    ok, failed = _job(zd, job_id)["results"]
    assert "id" in ok
    assert failed["index"] == 1 and failed["details"] == "Description: cannot be blank"


def test_batch_update_many_reports_update_results(zd) -> None:  # type: ignore[no-untyped-def]
    """Batch form ``{"tickets": [{"id", ...}]}``; results ``{"id", "action": "update",
    "success": true, "status": "Updated"}`` (Job Statuses, Bulk update)."""
    ids = [
        zd.post(f"{ZD}/tickets.json", json={"ticket": t}).json()["ticket"]["id"] for t in _tasks(2)
    ]
    job_id = zd.put(
        f"{ZD}/tickets/update_many.json",
        json={"tickets": [{"id": ids[0], "priority": "high"}, {"id": ids[1], "priority": "low"}]},
    ).json()["job_status"]["id"]
    assert _job(zd, job_id)["results"] == [
        {"id": i, "action": "update", "success": True, "status": "Updated"} for i in ids
    ]
    assert zd.get(f"{ZD}/tickets/{ids[1]}.json").json()["ticket"]["priority"] == "low"


def test_bulk_update_many_applies_one_change_to_the_ids_given(zd) -> None:  # type: ignore[no-untyped-def]
    """Bulk form ``update_many?ids=1,2`` with ``{"ticket": {...}}``."""
    ids = [
        zd.post(f"{ZD}/tickets.json", json={"ticket": t}).json()["ticket"]["id"] for t in _tasks(2)
    ]
    zd.put(
        f"{ZD}/tickets/update_many.json",
        params={"ids": ",".join(map(str, ids))},
        json={"ticket": {"status": "pending"}},
    )
    statuses = [zd.get(f"{ZD}/tickets/{i}.json").json()["ticket"]["status"] for i in ids]
    assert statuses == ["pending", "pending"]


def test_updating_a_closed_ticket_in_bulk_fails_that_item(sandbox, zd) -> None:  # type: ignore[no-untyped-def]
    tid = zd.post(f"{ZD}/tickets.json", json={"ticket": _tasks(1)[0]}).json()["ticket"]["id"]
    sandbox.emulators["zendesk"].agent_update(tid, status="closed")
    job_id = zd.put(
        f"{ZD}/tickets/update_many.json", json={"tickets": [{"id": tid, "priority": "high"}]}
    ).json()["job_status"]["id"]
    (result,) = _job(zd, job_id)["results"]
    assert (result["id"], result["error"]) == (tid, "TicketUpdateFailed")
    assert result["details"] == "Status: closed prevents ticket update"


def test_show_many_job_statuses_returns_each_job_asked_for(zd) -> None:  # type: ignore[no-untyped-def]
    """``GET /api/v2/job_statuses/show_many?ids=`` answers ``{"job_statuses": [...]}``."""
    ids = [
        zd.post(f"{ZD}/tickets/create_many.json", json={"tickets": _tasks(1)}).json()["job_status"][
            "id"
        ]
        for _ in range(2)
    ]
    body = zd.get(f"{ZD}/job_statuses/show_many.json", params={"ids": ",".join(ids)}).json()
    assert [j["id"] for j in body["job_statuses"]] == ids


def test_an_unknown_job_status_is_404(zd) -> None:  # type: ignore[no-untyped-def]
    assert zd.get(f"{ZD}/job_statuses/0123abcd.json").status_code == 404
