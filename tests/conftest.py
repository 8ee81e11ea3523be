"""Shared fixtures: the sandbox over real HTTPS on loopback, and the real clients pointed at it.

One sandbox server per test session (per xdist worker); the function-scoped ``sandbox`` fixture
resets its data, faults and call log, so every test starts from the seeded demo org.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from simple_salesforce import Salesforce
from zenpy import Zenpy

from connector.http.session import ConnectTo, TransportSettings, new_session
from connector.sandbox.server import Sandbox
from connector.sandbox.state import SandboxConfig

API_VERSION = "62.0"


@pytest.fixture(scope="session")
def sandbox_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    config = SandboxConfig(scale="S", seed=42, workdir=tmp_path_factory.mktemp("sandbox"))
    with Sandbox(config) as server:
        yield server


@pytest.fixture
def sandbox(sandbox_server: Sandbox) -> Sandbox:
    """The running sandbox, reset to the seeded demo org with no faults and an empty call log."""
    sandbox_server.reset()
    return sandbox_server


@pytest.fixture
def transport(sandbox: Sandbox) -> TransportSettings:
    """Transport settings that route the real host names to the sandbox, trusting its CA."""
    return TransportSettings(connect_to=ConnectTo(("127.0.0.1", sandbox.port), sandbox.ca_path))


@pytest.fixture
def session_factory(transport: TransportSettings) -> Iterator[callable]:
    """Make a fresh ``requests.Session`` per client, as the connector does."""
    made: list[requests.Session] = []

    def make() -> requests.Session:
        s = new_session(transport)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


@pytest.fixture
def sf(sandbox: Sandbox, session_factory) -> Salesforce:
    """simple-salesforce logged in as the integration user (SOAP username-password login)."""
    creds = sandbox.config.credentials
    return Salesforce(
        username=creds.sf_username,
        password=creds.sf_password,
        security_token=creds.sf_security_token,
        session=session_factory(),
        version=API_VERSION,
    )


@pytest.fixture
def zenpy(sandbox: Sandbox, session_factory) -> Zenpy:
    """zenpy with an API token, on its own session (zenpy sets session.auth)."""
    creds = sandbox.config.credentials
    return Zenpy(
        subdomain=sandbox.config.zendesk_subdomain,
        email=creds.zd_email,
        token=creds.zd_api_token,
        session=session_factory(),
        ratelimit_budget=30,
    )
