"""Fixtures for the Salesforce source tests: the real client on the sandbox over HTTPS.

Fixture names start with ``sf_`` so they never shadow the Zendesk tests' fixtures in this
folder; specs and helpers live in ``sf_support``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sf_support import sf_login_for

from connector.sources.salesforce import SalesforceClient, SalesforceSource
from connector.sources.salesforce.failures import RetryPolicy


@pytest.fixture
def sf_sleeps() -> list[float]:
    """Every back-off the client slept, instead of sleeping."""
    return []


@pytest.fixture
def sf_make_client(sandbox, transport, sf_sleeps) -> Iterator[Callable[..., SalesforceClient]]:
    """Build a client on the sandbox: ``sf_make_client(method="jwt", quota_reserve=0.2)``."""
    made: list[SalesforceClient] = []

    def make(method: str = "jwt", **kwargs: Any) -> SalesforceClient:
        kwargs.setdefault("retry", RetryPolicy(attempts=5, initial=0.01, sleep=sf_sleeps.append))
        client = SalesforceClient(sf_login_for(sandbox, method), transport, **kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def sf_client(sf_make_client) -> SalesforceClient:
    """A client logged in with the JWT bearer flow (the recommended one)."""
    return sf_make_client("jwt")


@pytest.fixture
def sf_source(sf_client) -> Callable[..., SalesforceSource]:
    """``sf_source(**settings)``: a source on ``sf_client``; no lag unless asked."""

    def make(**kwargs: Any) -> SalesforceSource:
        kwargs.setdefault("lag", timedelta(0))
        kwargs.setdefault("sleep", lambda seconds: None)
        return SalesforceSource(sf_client, **kwargs)

    return make
