"""ZendeskTicketWriter and setup_zendesk on the sandbox over real HTTPS.

Jobs complete ``job_seconds`` after they are queued (0 unless a test sets it) and run when the
emulator next answers anything, so a poll right after a submit sees them done.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connector.errors import ApiError, ConfigError, FatalApiError
from connector.push.zendesk import (
    SubmitError,
    SubmittedJob,
    TicketWrite,
    ZendeskTicketWriter,
)
from connector.sources.zendesk import ZendeskClient, ZendeskLogin
from connector.zendesk_setup import setup_zendesk

GROUP = "Support Managers"
CREATE_MANY = "/api/v2/tickets/create_many.json"
UPDATE_MANY = "/api/v2/tickets/update_many.json"
SHOW_MANY_JOBS = "/api/v2/job_statuses/show_many.json"


class StubClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def make_client(sandbox, transport) -> Iterator:
    made: list[ZendeskClient] = []
    creds = sandbox.config.credentials

    def make(api_token: str = creds.zd_api_token, **kwargs: Any) -> ZendeskClient:
        login = ZendeskLogin(sandbox.config.zendesk_subdomain, creds.zd_email, api_token=api_token)
        client = ZendeskClient(login, transport, sleep=lambda s: None, **kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def client(make_client) -> ZendeskClient:
    return make_client()


@pytest.fixture
def sent(client) -> list[dict[str, Any]]:
    """The JSON body of every write the client sent."""
    bodies: list[dict[str, Any]] = []

    def record(response, *args, **kwargs):  # type: ignore[no-untyped-def]
        if response.request.method in ("POST", "PUT") and response.request.body:
            bodies.append(json.loads(response.request.body))

    client.session.hooks["response"].append(record)
    return bodies


@pytest.fixture
def writer(client) -> ZendeskTicketWriter:
    return ZendeskTicketWriter.connect(client, GROUP)


@pytest.fixture
def zd(sandbox):  # type: ignore[no-untyped-def]
    return sandbox.emulators["zendesk"]


def task(n: int, ticket_id: int | None = None, **kw: Any) -> TicketWrite:
    fields: dict[str, Any] = {
        "external_id": f"support_risk:001A{n:011d}",
        "ticket_id": ticket_id,
        "subject": f"Support risk: Account {n}",
        "description": f"Evidence for account {n}: 25 tickets in 30 days",
        "risk_type": "support",
        "account_id": f"001A{n:014d}",
        "cta_id": f"a0B{n:015d}",
        "cta_url": f"https://demo.my.salesforce.com/a0B{n:015d}",
    }
    fields.update(kw)
    return TicketWrite(**fields)


def calls(sandbox, path: str) -> list:
    return sandbox.calls.calls("zendesk", where=lambda c: c.path == path)


def created(writer: ZendeskTicketWriter, writes: list[TicketWrite]) -> dict[str, int]:
    """Submit creates and poll once: external id -> ticket id."""
    jobs = writer.submit(writes)
    results = writer.poll(jobs)
    out = {}
    for job in jobs:
        for r in results[job.job_id] or []:
            assert r.ok, r
            out[r.external_id] = r.ticket_id
    return out


def agent_id(zd) -> int:  # type: ignore[no-untyped-def]
    return next(int(u["id"]) for u in zd.store.users.values() if u.get("role") == "agent")


def group_id(zd, name: str) -> int:  # type: ignore[no-untyped-def]
    return next(int(g["id"]) for g in zd.store.groups.values() if g["name"] == name)


# -- connect ------------------------------------------------------------------------------
def test_connect_finds_the_group_and_the_three_custom_fields(zd, writer, client) -> None:
    by_title = {f["title"]: f["id"] for f in zd.store.ticket_fields.values()}
    assert writer.group_id == group_id(zd, GROUP)
    assert writer.ticket_fields == {
        "cs_account_id": by_title["Salesforce Account Id"],
        "cs_risk_type": by_title["CS risk type"],
        "cs_cta_id": by_title["CS CTA link"],
    }
    assert writer.risk_values == {"support": "support_risk", "bug": "bug_risk"}
    assert client.stats.api_calls == 2  # groups, ticket fields


def test_a_missing_group_is_a_config_error_naming_zendesk_support_managers_group(
    client,
) -> None:
    with pytest.raises(ConfigError) as caught:
        ZendeskTicketWriter.connect(client, "CS Escalations")
    assert caught.value.key == "zendesk.support_managers_group"
    assert "'CS Escalations'" in str(caught.value) and "'Support Managers'" in str(caught.value)


def test_a_missing_ticket_field_is_a_config_error_naming_the_field(client) -> None:
    with pytest.raises(ConfigError) as caught:
        ZendeskTicketWriter.connect(client, GROUP, ("cs_account_id", "cs_churn", "cs_cta_id"))
    assert "cs_churn" in caught.value.key and "Admin Center" in caught.value.reason


# -- creates ------------------------------------------------------------------------------
def test_150_creates_make_two_create_calls_and_poll_maps_ticket_ids_by_external_id(
    sandbox, zd, writer, client
) -> None:
    writes = [task(n) for n in range(150)]
    jobs = writer.submit(writes)
    assert [(j.kind, len(j.external_ids)) for j in jobs] == [("create", 100), ("create", 50)]
    assert len(calls(sandbox, CREATE_MANY)) == 2
    results = writer.poll(jobs)
    assert len(calls(sandbox, SHOW_MANY_JOBS)) == 1
    flat = [r for j in jobs for r in results[j.job_id] or []]
    assert [r.external_id for r in flat] == [w.external_id for w in writes]
    assert all(r.ok for r in flat)
    for r in flat:
        assert zd.store.tickets.get(r.ticket_id)["external_id"] == r.external_id


def test_poll_answers_none_while_the_job_is_queued_then_its_results(
    sandbox, monkeypatch, writer
) -> None:
    clock = StubClock(datetime.now(UTC))
    monkeypatch.setattr(sandbox.state, "clock", clock)
    sandbox.faults.update(job_seconds=30)
    jobs = writer.submit([task(1), task(2)])
    assert writer.poll(jobs) == {jobs[0].job_id: None}
    clock.advance(31)
    results = writer.poll(jobs)[jobs[0].job_id]
    assert results is not None and [r.ok for r in results] == [True, True]


def test_a_created_ticket_is_an_internal_task_for_the_group_with_tags_and_fields(
    zd, writer
) -> None:
    w = task(7)
    ticket = zd.store.tickets.get(created(writer, [w])[w.external_id])
    fields = {f["id"]: f["value"] for f in ticket["custom_fields"]}
    assert (ticket["type"], ticket["group_id"], ticket["subject"]) == (
        "task",
        writer.group_id,
        w.subject,
    )
    assert ticket["tags"] == ["cs_connector", "cs_support_risk"]
    assert ticket["is_public"] is False  # the evidence is an internal note
    assert ticket["description"] == f"{w.description}\n\nSalesforce CTA: {w.cta_url}"
    ids = writer.ticket_fields
    assert fields[ids["cs_account_id"]] == w.account_id
    assert fields[ids["cs_risk_type"]] == "support_risk"
    assert fields[ids["cs_cta_id"]] == w.cta_id


def test_a_create_the_job_rejects_carries_its_error_in_the_result(client, writer) -> None:
    broken = ZendeskTicketWriter(client, group_id=987654, ticket_fields=writer.ticket_fields)
    jobs = broken.submit([task(1), task(2)])
    results = broken.poll(jobs)[jobs[0].job_id]
    assert results is not None
    assert [(r.ok, r.code, r.ticket_id) for r in results] == [
        (False, "TicketCreateFailed", None)
    ] * 2
    assert "Group: is invalid" in (results[0].message or "")


def test_a_create_whose_answer_is_lost_is_sent_once_and_named_unknown(sandbox, writer) -> None:
    sandbox.faults.update(drop_share=1.0)
    with pytest.raises(SubmitError) as caught:
        writer.submit([task(1), task(2)])
    sandbox.faults.clear()
    err = caught.value
    assert err.jobs == [] and err.unknown == (task(1).external_id, task(2).external_id)
    assert len(calls(sandbox, CREATE_MANY)) == 1
    assert len(writer.find_by_external_id(task(1).external_id)) == 1  # it did land


def test_a_refused_batch_keeps_the_jobs_queued_before_it(sandbox, monkeypatch, writer) -> None:
    def refuse(path: str, body: Any, **kw: Any) -> dict:
        raise FatalApiError("Zendesk PUT: 403 Forbidden", code="Forbidden", status=403)

    monkeypatch.setattr(writer.client, "put", refuse)
    with pytest.raises(SubmitError) as caught:
        writer.submit([task(1), task(2, ticket_id=5), task(3, ticket_id=6)])
    err = caught.value
    assert [(j.kind, j.external_ids) for j in err.jobs] == [("create", (task(1).external_id,))]
    assert err.refused == (task(2).external_id, task(3).external_id) and err.unknown == ()
    assert (err.code, err.status) == ("Forbidden", 403)


def test_find_by_external_id_finds_a_created_ticket(writer) -> None:
    w = task(3)
    ticket_id = created(writer, [w])[w.external_id]
    found = writer.find_by_external_id(w.external_id)
    assert [t["id"] for t in found] == [ticket_id]
    assert writer.find_by_external_id("support_risk:nobody") == []


# -- updates ------------------------------------------------------------------------------
def test_an_update_never_changes_status_assignee_priority_or_group(zd, writer, sent) -> None:
    w = task(4)
    ticket_id = created(writer, [w])[w.external_id]
    agent, support = agent_id(zd), group_id(zd, "Support")
    zd.agent_update(
        ticket_id, status="pending", assignee_id=agent, priority="urgent", group_id=support
    )
    jobs = writer.submit([task(4, ticket_id, subject="Support risk: renamed", risk_type="bug")])
    results = writer.poll(jobs)[jobs[0].job_id]
    assert results is not None and results[0].ok and results[0].ticket_id == ticket_id
    ticket = zd.store.tickets.get(ticket_id)
    assert (ticket["status"], ticket["assignee_id"], ticket["priority"], ticket["group_id"]) == (
        "pending",
        agent,
        "urgent",
        support,
    )
    assert ticket["subject"] == "Support risk: renamed"
    update = sent[-1]["tickets"][0]
    assert not {"status", "assignee_id", "priority", "group_id"} & set(update)


def test_an_update_keeps_tags_an_agent_added_and_swaps_the_risk_tag(zd, writer) -> None:
    w = task(5)
    ticket_id = created(writer, [w])[w.external_id]
    zd.agent_update(ticket_id, tags=["cs_connector", "cs_support_risk", "vip"])
    jobs = writer.submit([task(5, ticket_id, risk_type="bug")])
    writer.poll(jobs)
    tags = zd.store.tickets.get(ticket_id)["tags"]
    assert "vip" in tags and "cs_bug_risk" in tags and "cs_support_risk" not in tags
    fields = {f["id"]: f["value"] for f in zd.store.tickets.get(ticket_id)["custom_fields"]}
    assert fields[writer.ticket_fields["cs_risk_type"]] == "bug_risk"


def test_a_changed_description_is_sent_as_an_internal_note_and_an_unchanged_one_is_not(
    writer, sent
) -> None:
    writer.submit(
        [
            task(6, 101, description="New evidence"),
            task(7, 102, description_changed=False),
        ]
    )
    first, second = sent[-1]["tickets"]
    assert first["comment"] == {
        "body": "New evidence\n\nSalesforce CTA: " + task(6).cta_url,
        "public": False,
    }
    assert "comment" not in second and "description" not in second


def test_an_unknown_cta_id_is_not_blanked_on_update(writer, sent) -> None:
    writer.submit([task(8, 103, cta_id=None, account_id=None)])
    update = sent[-1]["tickets"][0]
    assert [f["id"] for f in update["custom_fields"]] == [writer.ticket_fields["cs_risk_type"]]


def test_updating_a_closed_ticket_fails_with_its_error_in_the_result(zd, writer) -> None:
    w = task(9)
    ticket_id = created(writer, [w])[w.external_id]
    zd.agent_update(ticket_id, status="closed")
    jobs = writer.submit([task(9, ticket_id, subject="too late"), task(10)])
    results = writer.poll(jobs)
    update_job = next(j for j in jobs if j.kind == "update")
    (result,) = results[update_job.job_id] or []
    assert (result.external_id, result.ok, result.code, result.ticket_id) == (
        w.external_id,
        False,
        "TicketUpdateFailed",
        ticket_id,
    )
    assert "closed prevents ticket update" in (result.message or "")
    assert zd.store.tickets.get(ticket_id)["subject"] == w.subject


def test_150_updates_make_two_update_calls(sandbox, zd, writer) -> None:
    ids = created(writer, [task(n) for n in range(150)])
    jobs = writer.submit([task(n, ids[task(n).external_id], subject="v2") for n in range(150)])
    assert [(j.kind, len(j.external_ids)) for j in jobs] == [("update", 100), ("update", 50)]
    assert len(calls(sandbox, UPDATE_MANY)) == 2
    results = writer.poll(jobs)
    assert all(r.ok for j in jobs for r in results[j.job_id] or [])
    assert {zd.store.tickets.get(i)["subject"] for i in ids.values()} == {"v2"}


# -- poll ---------------------------------------------------------------------------------
def test_a_job_zendesk_does_not_know_is_job_not_found_for_each_ticket(writer) -> None:
    job = SubmittedJob("0123456789abcdef", "create", ("a", "b"))
    results = writer.poll([job])[job.job_id]
    assert results is not None and [(r.external_id, r.code) for r in results] == [
        ("a", "JobNotFound"),
        ("b", "JobNotFound"),
    ]


# -- the view -----------------------------------------------------------------------------
def test_ensure_view_twice_creates_one_view(zd, writer, client) -> None:
    first = writer.ensure_view()
    before = client.stats.api_calls
    second = writer.ensure_view()
    assert first[1] is True and second == (first[0], False)
    assert client.stats.api_calls - before == 1  # the listing only
    assert [v["title"] for v in zd.store.views.values()].count("CS risk tasks") == 1


def test_the_view_counts_the_groups_open_connector_tasks(zd, writer, client) -> None:
    view_id, _ = writer.ensure_view()
    ids = created(writer, [task(1), task(2), task(3)])
    zd.agent_update(ids[task(1).external_id], status="solved")
    zd.create_ticket(subject="A customer question", type="task", group_id=writer.group_id)
    count = client.get(f"/api/v2/views/{view_id}/count.json")["view_count"]["value"]
    assert count == 2


# -- setup-zendesk ------------------------------------------------------------------------
def test_setup_zendesk_creates_the_view_once_and_reports_what_it_found(zd, client) -> None:
    first = setup_zendesk(client, GROUP)
    again = setup_zendesk(client, GROUP)
    assert (first.view_created, again.view_created) == (True, False)
    assert first.view_id == again.view_id and first.group_id == group_id(zd, GROUP)
    assert set(first.field_ids) == {"cs_account_id", "cs_risk_type", "cs_cta_id"}
    assert (first.api_calls, again.api_calls) == (4, 3)
    assert any("already there" in line for line in again.lines())


def test_setup_zendesk_with_an_unknown_group_names_the_config_key(client) -> None:
    with pytest.raises(ConfigError, match="zendesk.support_managers_group"):
        setup_zendesk(client, "Nobody")


# -- secrets ------------------------------------------------------------------------------
def test_the_api_token_never_appears_in_any_error_message(sandbox, make_client, writer) -> None:
    token = sandbox.config.credentials.zd_api_token
    wrong = "wrong-token-5150"
    bad_writer = ZendeskTicketWriter(
        make_client(api_token=wrong), group_id=1, ticket_fields=writer.ticket_fields
    )
    errors: list[Exception] = []
    attempts = [
        lambda: bad_writer.submit([task(1)]),
        lambda: bad_writer.poll([SubmittedJob("abc", "create", ("x",))]),
        lambda: bad_writer.ensure_view(),
        lambda: ZendeskTicketWriter.connect(make_client(api_token=wrong), GROUP),
        lambda: writer.client.post("/api/v2/views.json", {"view": {"title": "x", "all": []}}),
        lambda: ZendeskTicketWriter.connect(writer.client, "Missing group"),
    ]
    for attempt in attempts:
        with pytest.raises((ApiError, ConfigError)) as caught:
            attempt()
        errors.append(caught.value)
    for err in errors:
        text = f"{err} {err!r} {getattr(err, 'cause', '')}"
        assert token not in text and wrong not in text
