"""Shared fixtures: the sandbox over real HTTPS on loopback, and the real clients pointed at it.

One sandbox server per test session (per xdist worker); the function-scoped ``sandbox`` fixture
resets its data, faults and call log, so every test starts from the seeded demo org.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from simple_salesforce import Salesforce
from sqlalchemy import text
from sqlalchemy.engine import make_url
from zenpy import Zenpy

from connector.http.session import ConnectTo, TransportSettings, new_session
from connector.sandbox.server import Sandbox
from connector.sandbox.state import SandboxConfig
from connector.store import make_engine

API_VERSION = "62.0"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://root@127.0.0.1:5432/test"


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


# -- the store on SQLite and PostgreSQL ----------------------------------------------------
@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The server's URL once it answers; skip (or fail, when required) if it does not."""
    url = os.environ.get("CS_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    shown = make_url(url).render_as_string(hide_password=True)
    probe = make_engine(
        make_url(url)
        .update_query_dict({"connect_timeout": "3"})
        .render_as_string(hide_password=False)
    )
    try:
        with probe.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to reach it means the same thing here
        reason = f"PostgreSQL unreachable at {shown}: {type(exc).__name__}"
        if os.environ.get("CS_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{reason} (CS_REQUIRE_POSTGRES=1)")
        pytest.skip(reason)
    finally:
        probe.dispose()
    return url


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``@pytest.mark.sqlite_store``: the test's PostgreSQL case is deselected.

    End-to-end specs of what a cycle does to the CRM run on one store; the store's own
    behaviour (SQL, upserts, migrations, concurrency) and a few whole cycles run on both.
    """
    kept, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_postgres = callspec is not None and callspec.params.get("store_url") == "postgresql"
        (dropped if on_postgres and item.get_closest_marker("sqlite_store") else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    """A store URL on an empty database: a new SQLite file, or a new PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store' / 'cs.db'}"  # the directory does not exist yet
        return
    base: str = request.getfixturevalue("postgres_url")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
