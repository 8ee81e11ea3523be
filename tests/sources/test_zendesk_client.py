"""ZendeskClient: rate limits, retries and errors, on the sandbox over real HTTPS.

Sleeps are injected and move the sandbox's stub clock, so no test really waits.
"""

from __future__ import annotations

import pytest
import responses
from conftest_zendesk import *  # noqa: F403  (fixtures: clock, client, source, ...)
from conftest_zendesk import RUN_START, export_calls, read_all, zendesk_spec

from connector.errors import FatalApiError, TransientApiError
from connector.sources.zendesk import ZendeskClient, ZendeskLogin, ZendeskSource

TICKETS = "/api/v2/incremental/tickets/cursor.json"


def test_a_429_is_waited_for_its_retry_after_then_retried_once(sandbox, client, sleeps) -> None:
    sandbox.faults.update(burst_429=1, retry_after_s=7)
    body = client.get("/api/v2/groups.json")
    assert body["groups"]
    assert [c.status for c in sandbox.calls.calls("zendesk")] == [429, 200]
    assert sleeps == [7.0]
    assert (client.stats.throttled, client.stats.waited_s, client.stats.api_calls) == (1, 7.0, 2)


def test_repeated_429s_are_spaced_by_retry_after_never_a_burst(sandbox, client, sleeps) -> None:
    sandbox.faults.update(burst_429=3, retry_after_s=5)
    client.get("/api/v2/groups.json")
    calls = sandbox.calls.calls("zendesk")
    assert [c.status for c in calls] == [429, 429, 429, 200]
    assert sleeps == [5.0, 5.0, 5.0]  # one wait before every re-send


def test_past_the_wait_budget_a_429_raises_transient_with_retry_after(
    sandbox, make_client, sleeps
) -> None:
    client = make_client(wait_budget_s=150)
    sandbox.faults.update(burst_429=5, retry_after_s=100)
    with pytest.raises(TransientApiError) as caught:
        client.get("/api/v2/groups.json")
    assert caught.value.retry_after == 100.0
    assert sleeps == [100.0]
    assert len(sandbox.calls.calls("zendesk")) == 2


def test_a_stream_stopped_by_the_wait_budget_keeps_the_state_of_its_last_page(
    sandbox, make_client
) -> None:
    source = ZendeskSource(make_client(wait_budget_s=10))
    pages = source.read(
        zendesk_spec("tickets", per_page=100), None, run_start=RUN_START, full=False
    )
    first = next(pages)
    sandbox.faults.update(burst_429=5, retry_after_s=30)
    with pytest.raises(TransientApiError):
        next(pages)
    resumed = read_all(
        ZendeskSource(make_client()), zendesk_spec("tickets", per_page=100), first.state
    )
    store = sandbox.emulators["zendesk"].store
    assert len(first.rows) + sum(len(p.rows) for p in resumed) == len(store.tickets)


def test_the_export_limit_is_paced_from_headers_without_a_single_429(
    sandbox, source, sleeps
) -> None:
    n = len(sandbox.emulators["zendesk"].store.tickets)
    per_page = -(-n // 12)  # twelve pages
    pages = read_all(source, zendesk_spec("tickets", per_page=per_page))
    statuses = [c.status for c in export_calls(sandbox)]
    assert len(pages) == 12 and statuses == [200] * 12
    assert sleeps == [50.0]  # ten calls in the first minute, then wait for the next window
    assert source.client.stats.throttled == 0


def test_pacing_past_the_wait_budget_stops_before_sending(sandbox, make_client, sleeps) -> None:
    client = make_client(wait_budget_s=20)
    for _ in range(10):
        client.get(TICKETS, {"start_time": 0, "per_page": 1})
    with pytest.raises(TransientApiError) as caught:
        client.get(TICKETS, {"start_time": 0, "per_page": 1})
    assert caught.value.retry_after == 50.0
    assert sleeps == [] and len(sandbox.calls.calls("zendesk")) == 10


def test_503s_are_retried_with_backoff_and_the_read_completes(sandbox, source, sleeps) -> None:
    sandbox.faults.update(http_503_share=0.4, seed=3)
    pages = read_all(source, zendesk_spec("tickets", per_page=50))
    store = sandbox.emulators["zendesk"].store
    assert sum(len(p.rows) for p in pages) == len(store.tickets)
    assert source.client.stats.retries == sum(
        1 for c in sandbox.calls.calls("zendesk") if c.status == 503
    )
    assert source.client.stats.retries > 0 and source.client.stats.backoff_s > 0


def test_dropped_connections_are_retried(sandbox, source) -> None:
    sandbox.faults.update(drop_share=0.3, seed=5)
    pages = read_all(source, zendesk_spec("tickets", per_page=50))
    assert sum(len(p.rows) for p in pages) == len(sandbox.emulators["zendesk"].store.tickets)
    assert source.client.stats.retries > 0


def test_503s_past_the_attempt_limit_raise_transient(sandbox, make_client) -> None:
    client = make_client(max_attempts=3)
    sandbox.faults.update(http_503_share=1.0)
    with pytest.raises(TransientApiError, match="503"):
        client.get("/api/v2/groups.json")
    assert len(sandbox.calls.calls("zendesk")) == 3 and client.stats.retries == 2


def test_a_wrong_api_token_is_fatal_and_the_token_never_shows(sandbox, make_client) -> None:
    bad = ZendeskLogin("demo", "integration@demo.cs-connector.dev", api_token="wrong-token-42")
    with pytest.raises(FatalApiError) as caught:
        make_client(login=bad).get("/api/v2/groups.json")
    assert caught.value.status == 401
    assert "wrong-token-42" not in str(caught.value) and "401" in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__context__ is None
    assert len(sandbox.calls.calls("zendesk")) == 1


def test_a_wrong_oauth_token_is_fatal_and_redacted(sandbox, make_client) -> None:
    bad = ZendeskLogin("demo", "x@example.com", auth="oauth", oauth_token="oauth-secret-99")
    with pytest.raises(FatalApiError) as caught:
        make_client(login=bad).get("/api/v2/groups.json")
    assert caught.value.status == 401 and "oauth-secret-99" not in str(caught.value)


def test_the_oauth_token_reads_the_export(sandbox, make_client) -> None:
    creds = sandbox.config.credentials
    login = ZendeskLogin("demo", creds.zd_email, auth="oauth", oauth_token=creds.zd_oauth_token)
    assert "tickets" in make_client(login=login).get(TICKETS, {"start_time": 0})


def test_a_missing_endpoint_is_fatal(sandbox, client) -> None:
    with pytest.raises(FatalApiError) as caught:
        client.get("/api/v2/nothing_here.json")
    assert caught.value.status == 404


def test_a_422_is_fatal_with_its_description(sandbox, client) -> None:
    with pytest.raises(FatalApiError, match="Invalid cursor") as caught:
        client.get(TICKETS, {"cursor": "!!not-a-cursor!!"})
    assert (caught.value.status, caught.value.code) == (422, "InvalidValue")


@responses.activate
def test_an_error_body_echoing_the_token_is_redacted() -> None:
    login = ZendeskLogin("acme", "a@acme.example", api_token="zd-secret-token-123")
    responses.get(
        "https://acme.zendesk.com/api/v2/groups.json",
        status=403,
        json={"error": "Forbidden", "description": "token zd-secret-token-123 lacks scope"},
    )
    with pytest.raises(FatalApiError) as caught:
        ZendeskClient(login).get("/api/v2/groups.json")
    assert "zd-secret-token-123" not in str(caught.value) and "Forbidden" in str(caught.value)


def test_a_path_outside_the_support_api_is_refused(client) -> None:
    with pytest.raises(ValueError):
        client.get("https://elsewhere.example/steal")
