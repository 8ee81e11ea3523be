"""Fixtures and helpers for the Zendesk source tests, star-imported by those modules.

Not a ``conftest.py`` (another suite owns that one here), and not a plugin, so these short
fixture names stay local to the modules that import them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connector.model import Column, StreamSpec
from connector.sources.zendesk import ZendeskClient, ZendeskLogin, ZendeskSource

__all__ = [
    "RUN_START",
    "StubClock",
    "clock",
    "client",
    "export_calls",
    "login",
    "make_client",
    "read_all",
    "sleeps",
    "source",
    "zendesk_spec",
]

RUN_START = datetime(2030, 1, 1, tzinfo=UTC)


class StubClock:
    """The sandbox's clock, moved by hand (and by the client's injected sleep)."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def seconds(self) -> float:
        return self.now.timestamp()


@pytest.fixture
def clock(sandbox, monkeypatch) -> StubClock:
    """Ten seconds into a clock minute, five minutes ahead: the seeded data is all exportable."""
    start = datetime.now(UTC).replace(second=10, microsecond=0) + timedelta(minutes=5)
    stub = StubClock(start)
    monkeypatch.setattr(sandbox.state, "clock", stub)
    return stub


@pytest.fixture
def sleeps(clock) -> list[float]:
    """Every sleep the client asked for; sleeping moves the sandbox clock instead of waiting."""
    return []


@pytest.fixture
def login(sandbox) -> ZendeskLogin:
    creds = sandbox.config.credentials
    return ZendeskLogin(
        subdomain=sandbox.config.zendesk_subdomain,
        email=creds.zd_email,
        auth="api_token",
        api_token=creds.zd_api_token,
    )


@pytest.fixture
def make_client(login, transport, clock, sleeps):
    """A ``ZendeskClient`` on the sandbox whose sleeps advance the stub clock."""
    made: list[ZendeskClient] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock.advance(seconds)

    def make(**kwargs: Any) -> ZendeskClient:
        kwargs.setdefault("login", login)
        client = ZendeskClient(transport=transport, sleep=sleep, clock=clock.seconds, **kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def client(make_client) -> ZendeskClient:
    return make_client()


@pytest.fixture
def source(client) -> ZendeskSource:
    return ZendeskSource(client)


def zendesk_spec(endpoint: str, **options: Any) -> StreamSpec:
    """A hand-built stream spec for one Zendesk endpoint."""
    columns = {
        "tickets": (
            Column("status", "text", "status"),
            Column("subject", "text", "subject"),
            Column("organization_id", "int", "organization_id"),
            Column("risk_type", "text", "custom_fields.17"),
        ),
        "users": (Column("email", "text", "email"), Column("role", "text", "role")),
        "organizations": (
            Column("name", "text", "name"),
            Column("account_id", "text", "external_id"),
        ),
        "groups": (Column("name", "text", "name"),),
    }[endpoint]
    return StreamSpec(
        name=f"zendesk_{endpoint}",
        source="zendesk",
        source_object=endpoint,
        columns=columns,
        cursor_field="updated_at",
        origin=f"mappings/zendesk/{endpoint}.toml",
        options={"endpoint": endpoint, **options},
    )


def read_all(source: Any, spec: StreamSpec, state: dict | None = None, full: bool = False):
    """Every page of one read, as a list."""
    return list(source.read(spec, state, run_start=RUN_START, full=full))


def export_calls(sandbox, endpoint: str = "tickets") -> list:
    return sandbox.calls.calls(
        "zendesk", where=lambda c: c.path.startswith(f"/api/v2/incremental/{endpoint}")
    )
