"""How the client classifies, retries and redacts failures (narrow tables over ``responses``)."""

from __future__ import annotations

import pytest
import requests
import responses

from connector.errors import FatalApiError, QuotaExhausted, TransientApiError
from connector.sources.salesforce import SalesforceClient, SalesforceLogin
from connector.sources.salesforce.failures import RetryPolicy, SessionExpired, classify

TOKEN_URL = "https://login.salesforce.com/services/oauth2/token"
INSTANCE = "https://acme.my.salesforce.com"
QUERY_URL = f"{INSTANCE}/services/data/v62.0/query/"
ACCESS_TOKEN = "00D5j000000ABCD!AQ0AQExampleAccessTokenValue.1234567890abcdef"
REFRESH_TOKEN = "5Aep861example-refresh-token-value"


def _error(code: str, message: str) -> list[dict[str, str]]:
    return [{"errorCode": code, "message": message}]


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(TOKEN_URL, json={"access_token": ACCESS_TOKEN, "instance_url": INSTANCE})
        yield mock


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(sleeps) -> SalesforceClient:
    login = SalesforceLogin(
        "refresh_token",
        consumer_key="key",
        consumer_secret="secret-value",
        refresh_token=REFRESH_TOKEN,
    )
    return SalesforceClient(login, retry=RetryPolicy(attempts=5, sleep=sleeps.append))


def _query(client: SalesforceClient) -> dict:
    return client.query_page("SELECT Id FROM Contact", include_deleted=False)


def _calls(mocked, url: str) -> int:
    return sum(1 for call in mocked.calls if call.request.url.startswith(url))


FAILURES = [
    # status, body, error class, code, attempts
    (
        400,
        _error("INVALID_FIELD", "No such column 'Foo__c' on entity 'Contact'"),
        FatalApiError,
        "INVALID_FIELD",
        1,
    ),
    (400, _error("MALFORMED_QUERY", "unexpected token: FROM"), FatalApiError, "MALFORMED_QUERY", 1),
    (
        400,
        _error("INVALID_TYPE", "sObject type 'Foo' is not supported."),
        FatalApiError,
        "INVALID_TYPE",
        1,
    ),
    (
        404,
        _error("NOT_FOUND", "The requested resource does not exist"),
        FatalApiError,
        "NOT_FOUND",
        1,
    ),
    (
        403,
        _error("INSUFFICIENT_ACCESS", "insufficient access rights on object id"),
        FatalApiError,
        "INSUFFICIENT_ACCESS",
        1,
    ),
    (
        403,
        _error("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."),
        QuotaExhausted,
        "REQUEST_LIMIT_EXCEEDED",
        1,
    ),
    (
        403,
        _error(
            "REQUEST_LIMIT_EXCEEDED", "ConcurrentRequests (Concurrent API Requests) Limit exceeded."
        ),
        TransientApiError,
        "REQUEST_LIMIT_EXCEEDED",
        5,
    ),
    (
        400,
        _error("UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record"),
        TransientApiError,
        "UNABLE_TO_LOCK_ROW",
        5,
    ),
    (
        500,
        _error("UNKNOWN_EXCEPTION", "An unexpected error occurred."),
        TransientApiError,
        "UNKNOWN_EXCEPTION",
        5,
    ),
    (
        503,
        _error("SERVER_UNAVAILABLE", "Server temporarily unavailable"),
        TransientApiError,
        "SERVER_UNAVAILABLE",
        5,
    ),
    (502, "<html>Bad gateway</html>", TransientApiError, None, 5),
    (
        429,
        _error("REQUEST_LIMIT_EXCEEDED", "ConcurrentRequests Limit exceeded."),
        TransientApiError,
        "REQUEST_LIMIT_EXCEEDED",
        5,
    ),
]


@pytest.mark.parametrize(("status", "body", "error", "code", "attempts"), FAILURES)
def test_failures_are_classified_by_status_and_error_code(
    mocked, client, status, body, error, code, attempts
):
    kwargs = {"json": body} if not isinstance(body, str) else {"body": body}
    mocked.get(QUERY_URL, status=status, **kwargs)

    with pytest.raises(error) as caught:
        _query(client)

    assert type(caught.value) is error
    assert caught.value.code == code and caught.value.status == status
    assert _calls(mocked, QUERY_URL) == attempts
    assert client.retries == attempts - 1


@pytest.mark.parametrize(
    "failure",
    [
        requests.ConnectionError("reset by peer"),
        requests.ReadTimeout("read timed out"),
        requests.exceptions.ChunkedEncodingError("cut off"),
    ],
)
def test_broken_connections_are_transient_and_retried(mocked, client, failure):
    mocked.get(QUERY_URL, body=failure)

    with pytest.raises(TransientApiError):
        _query(client)

    assert _calls(mocked, QUERY_URL) == 5


def test_a_transient_failure_then_success_returns_the_page(mocked, client):
    mocked.get(QUERY_URL, status=503, json=_error("SERVER_UNAVAILABLE", "busy"))
    mocked.get(QUERY_URL, json={"totalSize": 0, "done": True, "records": []})

    assert _query(client)["done"] is True
    assert client.retries == 1


def test_retry_after_is_honoured(mocked, client, sleeps):
    mocked.get(
        QUERY_URL,
        status=429,
        json=_error("REQUEST_LIMIT_EXCEEDED", "Concurrent"),
        headers={"Retry-After": "7"},
    )
    mocked.get(QUERY_URL, json={"totalSize": 0, "done": True, "records": []})

    _query(client)

    assert sleeps and sleeps[0] >= 7


def test_backoff_grows_between_attempts(mocked, client, sleeps):
    mocked.get(QUERY_URL, status=503, json=_error("SERVER_UNAVAILABLE", "busy"))

    with pytest.raises(TransientApiError):
        _query(client)

    assert len(sleeps) == 4 and sleeps[-1] > sleeps[0]


def test_an_expired_session_logs_in_once_more_and_repeats_the_call(mocked, client):
    _query_ok = {"totalSize": 0, "done": True, "records": []}
    mocked.get(QUERY_URL, status=401, json=_error("INVALID_SESSION_ID", "Session expired"))
    mocked.get(QUERY_URL, json=_query_ok)

    assert _query(client) == _query_ok
    assert _calls(mocked, TOKEN_URL) == 2


def test_a_session_refused_twice_is_fatal(mocked, client):
    mocked.get(QUERY_URL, status=401, json=_error("INVALID_SESSION_ID", "Session expired"))

    with pytest.raises(FatalApiError) as caught:
        _query(client)

    assert caught.value.code == "INVALID_SESSION_ID"
    assert _calls(mocked, TOKEN_URL) == 2 and _calls(mocked, QUERY_URL) == 2


def test_messages_are_redacted_and_not_chained_to_the_raw_error(mocked, client):
    echo = f"bad request from session {ACCESS_TOKEN} refresh_token={REFRESH_TOKEN}"
    mocked.get(QUERY_URL, status=400, json=_error("MALFORMED_QUERY", echo))

    with pytest.raises(FatalApiError) as caught:
        _query(client)

    text = str(caught.value)
    assert ACCESS_TOKEN not in text and REFRESH_TOKEN not in text and "MALFORMED_QUERY" in text
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_the_quota_guard_stops_before_the_call_that_would_eat_the_reserve(mocked, client):
    page = {"totalSize": 0, "done": True, "records": []}
    mocked.get(QUERY_URL, json=page, headers={"Sforce-Limit-Info": "api-usage=801/1000"})

    _query(client)
    with pytest.raises(QuotaExhausted) as caught:
        _query(client)

    assert caught.value.code == "QUOTA_RESERVE"
    assert client.api_usage == (801, 1000)
    assert _calls(mocked, QUERY_URL) == 1


def test_calls_are_counted_from_every_response(mocked, client):
    mocked.get(QUERY_URL, status=503, json=_error("SERVER_UNAVAILABLE", "busy"))
    mocked.get(
        QUERY_URL,
        json={"totalSize": 0, "done": True, "records": []},
        headers={"Sforce-Limit-Info": "api-usage=18/5000; per-app-api-usage=17/250(appName=x)"},
    )

    _query(client)

    assert client.api_calls == 2 and client.meter.logins == 1
    assert client.api_usage == (18, 5000)


def test_a_refused_refresh_grant_is_fatal(client):
    with responses.RequestsMock() as mock:
        mock.post(
            TOKEN_URL,
            status=400,
            json={"error": "invalid_grant", "error_description": "expired access/refresh token"},
        )
        with pytest.raises(FatalApiError) as caught:
            _query(client)

    assert caught.value.code == "invalid_grant"


def test_a_login_that_meets_a_503_is_retried(client):
    with responses.RequestsMock() as mock:
        mock.post(TOKEN_URL, status=503, json=_error("SERVER_UNAVAILABLE", "busy"))
        mock.post(TOKEN_URL, json={"access_token": ACCESS_TOKEN, "instance_url": INSTANCE})
        mock.get(QUERY_URL, json={"totalSize": 0, "done": True, "records": []})

        _query(client)

    assert client.retries == 1


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (401, _error("INVALID_SESSION_ID", "Session expired or invalid"), SessionExpired),
        (
            400,
            {"error": "invalid_grant", "error_description": "authentication failure"},
            FatalApiError,
        ),
        (503, "Service Unavailable", TransientApiError),
    ],
)
def test_classify_reads_rest_oauth_and_plain_bodies(status, body, error):
    assert type(classify(status, body, what="test")) is error
