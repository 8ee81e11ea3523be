"""Build the real API clients (simple-salesforce, zenpy), each on its own session.

Kept apart from the sync code: whatever the clients talk to (the real hosts, a TLS proxy, the
sandbox) is decided by the transport settings, never by a branch here.
"""

from __future__ import annotations

from dataclasses import dataclass

from simple_salesforce.api import Salesforce
from zenpy import Zenpy

from connector.http.session import TransportSettings, new_session

DEFAULT_API_VERSION = "62.0"


@dataclass(frozen=True)
class SalesforcePasswordLogin:
    """Username + password + security token (SOAP login: legacy, retired from API 65.0)."""

    username: str
    password: str
    security_token: str
    domain: str = "login"  # "login", "test", or a My Domain such as "acme.my"


@dataclass(frozen=True)
class ZendeskTokenLogin:
    """An agent's email and API token."""

    subdomain: str
    email: str
    token: str


def salesforce_client(
    login: SalesforcePasswordLogin,
    transport: TransportSettings,
    version: str = DEFAULT_API_VERSION,
) -> Salesforce:
    """simple-salesforce on a session of its own, API version pinned."""
    return Salesforce(
        username=login.username,
        password=login.password,
        security_token=login.security_token,
        domain=login.domain,
        session=new_session(transport),
        version=version,
    )


def zendesk_client(
    login: ZendeskTokenLogin, transport: TransportSettings, ratelimit_budget: float = 120
) -> Zenpy:
    """zenpy on a session of its own: zenpy sets ``session.auth`` on the session it is given."""
    return Zenpy(
        subdomain=login.subdomain,
        email=login.email,
        token=login.token,
        session=new_session(transport),
        ratelimit_budget=ratelimit_budget,
    )
