"""ZendeskClient.post / put: retries, 429 pacing, errors and redaction, as for GET.

On the sandbox over real HTTPS where it can show the case; ``responses`` for the narrow ones
(a lost answer, a connection that never opened, a 422 echoing the token). Sleeps are recorded,
never slept.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
import responses

from connector.errors import FatalApiError, TransientApiError
from connector.sources.zendesk import ZendeskClient, ZendeskLogin
from connector.sources.zendesk.client import WriteOutcomeUnknown

CREATE_MANY = "/api/v2/tickets/create_many.json"
UPDATE_MANY = "/api/v2/tickets/update_many.json"
ACME = "https://acme.zendesk.com"
TOKEN = "zd-secret-token-123"


def _task(n: int = 0, **extra: object) -> dict:
    return {"subject": f"Task {n}", "comment": {"body": "evidence", "public": False}, **extra}


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make_client(sandbox, transport, sleeps) -> Iterator:
    made: list[ZendeskClient] = []
    creds = sandbox.config.credentials

    def make(**kwargs) -> ZendeskClient:
        kwargs.setdefault(
            "login",
            ZendeskLogin(
                sandbox.config.zendesk_subdomain, creds.zd_email, api_token=creds.zd_api_token
            ),
        )
        client = ZendeskClient(transport=transport, sleep=sleeps.append, **kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def client(make_client) -> ZendeskClient:
    return make_client()


def _zd_calls(sandbox, path: str) -> list:
    return sandbox.calls.calls("zendesk", where=lambda c: c.path == path)


def _offline_client(**kwargs) -> ZendeskClient:
    login = ZendeskLogin("acme", "a@acme.example", api_token=TOKEN)
    return ZendeskClient(login, sleep=lambda s: None, backoff_s=0.01, **kwargs)


# -- success ------------------------------------------------------------------------------
def test_post_returns_the_answer_and_counts_one_write_call(sandbox, client) -> None:
    body = client.post(CREATE_MANY, {"tickets": [_task()]})
    assert body["job_status"]["status"] == "queued"
    assert (client.stats.api_calls, client.stats.write_calls) == (1, 1)


def test_put_sends_its_body_and_returns_the_answer(sandbox, client) -> None:
    ticket = sandbox.emulators["zendesk"].create_ticket(subject="Old")
    body = client.put(UPDATE_MANY, {"tickets": [{"id": ticket["id"], "subject": "New"}]})
    client.get(f"/api/v2/job_statuses/{body['job_status']['id']}.json")  # runs the job
    assert sandbox.emulators["zendesk"].store.tickets.get(ticket["id"])["subject"] == "New"
    assert client.stats.write_calls == 1 and client.stats.api_calls == 2


# -- 429 and 5xx --------------------------------------------------------------------------
def test_a_429_on_a_write_waits_its_retry_after_then_sends_once_more(
    sandbox, client, sleeps
) -> None:
    sandbox.faults.update(burst_429=1, retry_after_s=7)
    client.post(CREATE_MANY, {"tickets": [_task()]}, resend_unsure=False)
    assert [c.status for c in _zd_calls(sandbox, CREATE_MANY)] == [429, 200]
    assert sleeps == [7.0] and client.stats.throttled == 1 and client.stats.write_calls == 2


def test_a_429_past_the_wait_budget_raises_transient_with_retry_after(
    sandbox, make_client, sleeps
) -> None:
    client = make_client(wait_budget_s=10)
    sandbox.faults.update(burst_429=3, retry_after_s=30)
    with pytest.raises(TransientApiError) as caught:
        client.put(UPDATE_MANY, {"tickets": []})
    assert caught.value.retry_after == 30.0 and sleeps == []
    assert len(_zd_calls(sandbox, UPDATE_MANY)) == 1


def test_503s_on_a_create_are_resent_even_when_unsure_answers_are_not(sandbox, make_client) -> None:
    client = make_client(max_attempts=3, backoff_s=0.01)
    sandbox.faults.update(http_503_share=1.0)
    with pytest.raises(TransientApiError, match="503") as caught:
        client.post(CREATE_MANY, {"tickets": [_task()]}, resend_unsure=False)
    assert not isinstance(caught.value, WriteOutcomeUnknown)
    assert len(_zd_calls(sandbox, CREATE_MANY)) == 3 and client.stats.retries == 2


def test_a_create_whose_answer_is_cut_off_is_not_resent(sandbox, client) -> None:
    sandbox.faults.update(drop_share=1.0)
    with pytest.raises(WriteOutcomeUnknown, match="may have been applied"):
        client.post(CREATE_MANY, {"tickets": [_task(external_id="k-1")]}, resend_unsure=False)
    sandbox.faults.clear()
    assert len(_zd_calls(sandbox, CREATE_MANY)) == 1
    found = client.get("/api/v2/tickets.json", {"external_id": "k-1"})["tickets"]
    assert len(found) == 1  # it was applied: re-sending would have made two


def test_an_update_whose_answer_is_cut_off_is_resent_by_default(sandbox, make_client) -> None:
    client = make_client(max_attempts=2, backoff_s=0.01)
    sandbox.faults.update(drop_share=1.0)
    with pytest.raises(TransientApiError, match="gave up after 2 attempts"):
        client.put(UPDATE_MANY, {"tickets": []})
    assert len(_zd_calls(sandbox, UPDATE_MANY)) == 2 and client.stats.retries == 1


@responses.activate
def test_a_dropped_connection_on_an_update_is_retried_and_the_write_completes() -> None:
    url = ACME + UPDATE_MANY
    responses.put(url, body=requests.ConnectionError("Connection aborted"))
    responses.put(url, json={"job_status": {"id": "j1", "status": "queued"}})
    client = _offline_client()
    assert client.put(UPDATE_MANY, {"tickets": []})["job_status"]["id"] == "j1"
    assert (client.stats.retries, client.stats.write_calls) == (1, 2)


@responses.activate
def test_a_connection_that_never_opened_is_resent_even_for_a_create() -> None:
    url = ACME + CREATE_MANY
    responses.post(url, body=requests.ConnectTimeout("connect timed out"))
    responses.post(url, json={"job_status": {"id": "j2", "status": "queued"}})
    client = _offline_client()
    body = client.post(CREATE_MANY, {"tickets": [_task()]}, resend_unsure=False)
    assert body["job_status"]["id"] == "j2" and client.stats.retries == 1


@responses.activate
def test_a_read_timeout_on_a_create_is_unknown_and_not_resent() -> None:
    url = ACME + CREATE_MANY
    responses.post(url, body=requests.ReadTimeout("read timed out"))
    client = _offline_client()
    with pytest.raises(WriteOutcomeUnknown):
        client.post(CREATE_MANY, {"tickets": [_task()]}, resend_unsure=False)
    assert len(responses.calls) == 1


@responses.activate
def test_a_500_on_a_create_is_unknown_and_not_resent() -> None:
    url = ACME + CREATE_MANY
    responses.post(url, status=500, json={"error": "InternalError"})
    client = _offline_client()
    with pytest.raises(WriteOutcomeUnknown) as caught:
        client.post(CREATE_MANY, {"tickets": [_task()]}, resend_unsure=False)
    assert caught.value.status == 500 and len(responses.calls) == 1


# -- 4xx ----------------------------------------------------------------------------------
def test_a_422_is_fatal_with_the_zendesk_code_and_its_details(sandbox, client) -> None:
    with pytest.raises(FatalApiError) as caught:
        client.post("/api/v2/views.json", {"view": {"title": "No conditions", "all": []}})
    err = caught.value
    assert (err.status, err.code) == (422, "RecordInvalid")
    assert "POST /api/v2/views.json" in str(err) and "You must test for" in str(err)
    assert client.stats.retries == 0


@responses.activate
def test_a_422_echoing_the_api_token_is_redacted() -> None:
    responses.post(
        ACME + CREATE_MANY,
        status=422,
        json={
            "error": "RecordInvalid",
            "description": f"Record validation errors for token {TOKEN}",
            "details": {"base": [{"description": f"Authorization: Basic {TOKEN}"}]},
        },
    )
    with pytest.raises(FatalApiError) as caught:
        _offline_client().post(CREATE_MANY, {"tickets": [_task()]})
    assert caught.value.code == "RecordInvalid" and "RecordInvalid" in str(caught.value)
    assert TOKEN not in str(caught.value) and TOKEN not in repr(caught.value)


def test_a_write_with_a_wrong_token_is_fatal_and_the_token_never_shows(
    sandbox, make_client
) -> None:
    bad = ZendeskLogin("demo", "integration@demo.cs-connector.dev", api_token="wrong-token-77")
    with pytest.raises(FatalApiError) as caught:
        make_client(login=bad).post(CREATE_MANY, {"tickets": [_task()]})
    assert caught.value.status == 401 and "wrong-token-77" not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__context__ is None


def test_a_write_outside_the_support_api_is_refused(client) -> None:
    with pytest.raises(ValueError):
        client.post("https://elsewhere.example/steal", {})
