"""Transport faults the server injects in front of both emulators, and the call log."""

from __future__ import annotations

import time

import pytest
import requests

SF_VERSIONS = "https://demo.my.salesforce.com/services/data/"
ZD_GROUPS = "https://demo.zendesk.com/api/v2/groups.json"


@pytest.fixture
def http(session_factory) -> requests.Session:
    return session_factory()


@pytest.fixture
def admin(sandbox, session_factory):
    """A session for the admin endpoints on https://localhost:<port>/__sandbox/."""
    s = session_factory()
    base = f"https://localhost:{sandbox.port}/__sandbox"
    return lambda method, path, **kw: s.request(
        method, base + path, verify=str(sandbox.ca_path), **kw
    )


def _statuses(http: requests.Session, n: int) -> list[int]:
    return [http.get(SF_VERSIONS).status_code for _ in range(n)]


def test_503_share_of_one_fails_every_call_with_the_salesforce_error_body(sandbox, http) -> None:
    sandbox.faults.update(http_503_share=1.0)
    r = http.get(SF_VERSIONS)
    assert r.status_code == 503
    assert r.json()[0]["errorCode"] == "SERVER_UNAVAILABLE"


def test_503_share_is_seeded_so_a_run_replays_exactly(sandbox, http) -> None:
    sandbox.faults.update(http_503_share=0.3, seed=7)
    first = _statuses(http, 60)
    sandbox.faults.update(seed=7)
    assert _statuses(http, 60) == first
    assert 5 < first.count(503) < 35


def test_429_burst_answers_retry_after_then_recovers(sandbox, http) -> None:
    sandbox.faults.update(burst_429=2, retry_after_s=3)
    first, second, third = (http.get(SF_VERSIONS) for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (429, 429, 200)
    assert first.headers["Retry-After"] == "3"


def test_slow_responses_wait_before_answering(sandbox, http) -> None:
    sandbox.faults.update(slow_s=0.3)
    started = time.perf_counter()
    assert http.get(SF_VERSIONS).status_code == 200
    assert time.perf_counter() - started >= 0.3


def test_dropped_connection_cuts_the_body_and_the_client_sees_a_connection_error(
    sandbox, http
) -> None:
    sandbox.faults.update(drop_share=1.0)
    with pytest.raises(
        (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError)
    ):
        http.get(SF_VERSIONS).json()


def test_faults_hit_only_the_targeted_api(sandbox, http) -> None:
    sandbox.faults.update(http_503_share=1.0, targets=["zendesk"])
    assert http.get(SF_VERSIONS).status_code == 200
    assert http.get(ZD_GROUPS).status_code == 503


def test_call_log_records_method_host_path_and_status(sandbox, http) -> None:
    http.get(SF_VERSIONS)
    (call,) = sandbox.calls.calls("salesforce")
    assert (call.method, call.host, call.path, call.status) == (
        "GET",
        "demo.my.salesforce.com",
        "/services/data/",
        200,
    )


def test_faults_can_be_switched_over_http_while_running(sandbox, http, admin) -> None:
    assert admin("POST", "/faults", json={"http_503_share": 1.0}).status_code == 200
    assert http.get(SF_VERSIONS).status_code == 503
    admin("DELETE", "/faults")
    assert http.get(SF_VERSIONS).status_code == 200


def test_unknown_fault_setting_is_refused_with_its_name(admin) -> None:
    r = admin("POST", "/faults", json={"http_5xx": 1})
    assert r.status_code == 400
    assert "http_5xx" in r.json()["error"]


def test_admin_calls_are_logged_apart_from_api_calls(sandbox, http, admin) -> None:
    http.get(SF_VERSIONS)
    calls = admin("GET", "/calls").json()
    assert [c["path"] for c in calls] == ["/services/data/"]
