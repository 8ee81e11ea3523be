"""How the connector logs in to Salesforce, and the one grant simple-salesforce lacks.

JWT bearer is the recommended method; client credentials need a My Domain host; the SOAP
username + password + token login is legacy (retired from API 65.0); a refresh token is
exchanged here, since simple-salesforce has no refresh grant.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import requests

from connector.errors import ConfigError
from connector.sources.salesforce.failures import classify
from connector.sources.salesforce.meter import response_body

AuthMethod = Literal["jwt", "client_credentials", "password", "refresh_token"]
DEFAULT_API_VERSION = "62.0"
_REQUIRED: dict[str, tuple[str, ...]] = {
    "jwt": ("username", "consumer_key", "private_key_file"),
    "client_credentials": ("consumer_key", "consumer_secret"),
    "password": ("username", "password", "security_token"),
    "refresh_token": ("consumer_key", "refresh_token"),
}


@dataclass(frozen=True)
class SalesforceLogin:
    """How to log in; secrets are plain strings here (the settings layer unwraps SecretStr)."""

    method: AuthMethod
    domain: str = "login"  # "login", "test" or a My Domain such as "acme.my"
    username: str | None = None
    consumer_key: str | None = None
    password: str | None = field(default=None, repr=False)
    security_token: str | None = field(default=None, repr=False)
    consumer_secret: str | None = field(default=None, repr=False)
    private_key_file: str | None = None
    refresh_token: str | None = field(default=None, repr=False)
    api_version: str = DEFAULT_API_VERSION

    def __post_init__(self) -> None:
        for name in _REQUIRED.get(self.method, ("method",)):
            if not getattr(self, name):
                reason = f"required for the {self.method!r} login"
                raise ConfigError("config", f"salesforce.{name}", reason)
        if self.method == "client_credentials" and self.domain in ("login", "test"):
            reason = "the client_credentials login needs the org's My Domain, e.g. 'acme.my'"
            raise ConfigError("config", "salesforce.domain", reason)

    def secrets(self) -> list[str]:
        """Values no message may show."""
        values = (self.password, self.security_token, self.consumer_secret, self.refresh_token)
        return [v for v in values if v]


def refresh_grant(login: SalesforceLogin, session: requests.Session) -> dict[str, Any]:
    """OAuth refresh_token grant (simple-salesforce has none): a fresh access token."""
    form = {
        "grant_type": "refresh_token",
        "client_id": login.consumer_key,
        "refresh_token": login.refresh_token,
    }
    if login.consumer_secret:
        form["client_secret"] = login.consumer_secret
    url = f"https://{login.domain}.salesforce.com/services/oauth2/token"
    response = session.post(url, data=form, headers={"Accept": "application/json"})
    body = response_body(response)
    if response.status_code != 200 or not isinstance(body, dict):
        raise classify(response.status_code, body, what="login", secrets=login.secrets())
    return body
