"""Every login method against the sandbox's login endpoints, and logging in again."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from sf_support import CONTACT, live_ids, read_all, row_ids, sf_login_for

from connector.errors import ConfigError, FatalApiError
from connector.sources.salesforce import SalesforceClient, SalesforceLogin, SalesforceSource
from connector.sources.salesforce.failures import RetryPolicy

METHODS = ["jwt", "client_credentials", "password", "refresh_token"]
LOGIN_CALL = {
    "jwt": ("login.salesforce.com", "/services/oauth2/token"),
    "client_credentials": ("demo.my.salesforce.com", "/services/oauth2/token"),
    "password": ("login.salesforce.com", "/services/Soap/u/62.0"),
    "refresh_token": ("login.salesforce.com", "/services/oauth2/token"),
}


def _logins(sandbox) -> list[tuple[str, str]]:
    return [
        (c.host, c.path)
        for c in sandbox.calls.calls("salesforce")
        if c.path.startswith(("/services/oauth2/", "/services/Soap/"))
    ]


@pytest.mark.parametrize("method", METHODS)
def test_each_login_method_opens_a_session_that_reads_the_org(sandbox, sf_make_client, method):
    client = sf_make_client(method)

    assert client.count("SELECT COUNT() FROM Contact") == len(live_ids(sandbox, "Contact"))
    assert _logins(sandbox) == [LOGIN_CALL[method]]
    assert client.meter.logins == 1 and client.api_calls == 1


def test_the_refresh_token_is_exchanged_by_the_connector_itself(sandbox, sf_make_client):
    sf_make_client("refresh_token").describe_global()

    token_call = next(c for c in sandbox.calls.calls("salesforce") if "oauth2" in c.path)
    assert token_call.method == "POST" and token_call.status == 200


def test_the_client_logs_in_lazily_on_its_first_call(sandbox, sf_make_client):
    sf_make_client("jwt")

    assert _logins(sandbox) == []


def test_the_pinned_api_version_is_used(sandbox, sf_make_client):
    sf_make_client("password").describe("Contact")

    assert any(c.path.startswith("/services/data/v62.0/") for c in sandbox.calls.calls())


def test_wrong_credentials_are_fatal_and_the_password_is_not_in_the_message(sandbox, transport):
    login = SalesforceLogin(
        "password",
        username="integration@demo.cs-connector.dev",
        password="wrong-pass",
        security_token="wrong-token",
    )
    client = SalesforceClient(login, transport, retry=RetryPolicy(sleep=lambda s: None))

    with pytest.raises(FatalApiError) as caught:
        client.describe_global()

    assert "wrong-pass" not in str(caught.value) and "wrong-token" not in str(caught.value)
    assert caught.value.code == "INVALID_LOGIN"
    assert client.meter.logins == 1  # refused credentials are not retried


def test_a_revoked_refresh_token_is_fatal_and_redacted(sandbox, transport):
    login = SalesforceLogin(
        "refresh_token",
        consumer_key=sandbox.config.credentials.sf_consumer_key,
        refresh_token="not-the-demo-refresh-token",
    )
    client = SalesforceClient(login, transport, retry=RetryPolicy(sleep=lambda s: None))

    with pytest.raises(FatalApiError) as caught:
        client.describe_global()

    assert caught.value.code == "invalid_grant"
    assert "not-the-demo-refresh-token" not in str(caught.value)


@pytest.mark.parametrize("method", METHODS)
def test_each_method_checks_its_required_settings(method):
    with pytest.raises(ConfigError) as caught:
        SalesforceLogin(method)  # type: ignore[arg-type]

    assert caught.value.key.startswith("salesforce.")


def test_a_login_does_not_show_its_secrets_in_repr(sandbox):
    login = sf_login_for(sandbox, "password")

    assert sandbox.config.credentials.sf_password not in repr(login)
    assert sandbox.config.credentials.sf_security_token not in repr(login)


class _SandboxClock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.mark.parametrize("method", ["jwt", "refresh_token", "password"])
def test_an_expired_session_logs_in_again_and_the_read_completes(
    sandbox, sf_make_client, monkeypatch, method
):
    clock = _SandboxClock()
    monkeypatch.setattr(sandbox.state, "clock", clock)
    client = sf_make_client(method)
    client.describe_global()  # a session, issued now
    sandbox.faults.update(invalid_session_after_s=5)
    clock.now += timedelta(seconds=10)

    pages = read_all(SalesforceSource(client, bulk_threshold=0, sleep=lambda s: None), CONTACT)

    assert sorted(row_ids(pages)) == sorted(live_ids(sandbox, "Contact"))
    assert client.meter.logins == 2
    assert [c.status for c in sandbox.calls.calls("salesforce")].count(401) == 1


def test_a_session_refused_even_after_logging_in_again_is_fatal(
    sandbox, sf_make_client, monkeypatch
):
    clock = _SandboxClock()
    monkeypatch.setattr(sandbox.state, "clock", clock)
    client = sf_make_client("refresh_token")
    sandbox.faults.update(invalid_session_after_s=-1)  # every session is already too old

    with pytest.raises(FatalApiError) as caught:
        client.describe_global()

    assert caught.value.code == "INVALID_SESSION_ID"
    assert client.meter.logins == 2  # the first login, then once more


def test_client_credentials_without_a_my_domain_is_a_config_error():
    with pytest.raises(ConfigError) as caught:
        SalesforceLogin("client_credentials", consumer_key="k", consumer_secret="s")

    assert caught.value.key == "salesforce.domain"


def test_credentials_revoked_mid_run_fail_the_next_login_as_fatal(
    sandbox, sf_make_client, monkeypatch
):
    clock = _SandboxClock()
    monkeypatch.setattr(sandbox.state, "clock", clock)
    client = sf_make_client("password")
    client.describe_global()
    creds = dataclasses.replace(sandbox.config.credentials, sf_password="rotated-by-an-admin")
    monkeypatch.setattr(sandbox.config, "credentials", creds)
    sandbox.faults.update(invalid_session_after_s=5)
    clock.now += timedelta(seconds=10)

    with pytest.raises(FatalApiError) as caught:
        client.describe_global()

    assert caught.value.code == "INVALID_LOGIN"
    assert sandbox.config.credentials.sf_security_token not in str(caught.value)
