"""Salesforce logins for the sandbox: SOAP ``login()``, the OAuth 2.0 token endpoint, sessions.

Every flow the connector may be configured with is answered as the real login hosts answer
it, so the connector's own auth code (and simple-salesforce's) meets the real wire formats and
error bodies: a SOAP ``LoginFault`` with HTTP 500, OAuth errors as 400 ``{error,
error_description}``, and 401 ``INVALID_SESSION_ID`` on the REST API for unknown, revoked or
(with the ``invalid_session_after_s`` fault) aged sessions, so a client must log in again.
Only the demo credentials of ``SandboxState.config.credentials`` open a session.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from typing import Any, Protocol

import jwt
from werkzeug.wrappers import Response

from connector.sandbox.ids import IdMinter
from connector.sandbox.salesforce import soap as soap
from connector.sandbox.state import RequestCtx, SandboxState

LOGIN_HOSTS = ("login.salesforce.com", "test.salesforce.com")
AUDIENCES = ("https://login.salesforce.com", "https://test.salesforce.com")
JWT_MAX_LIFETIME_S = 185  # exp must be "within 3 minutes"; a few seconds for rounding and skew
SCOPE = "api"
_SOAP_VERSION = re.compile(r"^/services/Soap/u/(\d+\.\d+)/?$")


class _Users(Protocol):
    """What auth needs of the org: its User records (REST field names)."""

    def records(self, sobject: str) -> Any: ...


@dataclass
class AuthenticatedSession:
    """One access token and its user; ``issued_at`` is epoch seconds on the sandbox clock."""

    token: str
    user_id: str
    issued_at: float
    instance_url: str


class OAuthError(Exception):
    """A token request refused as the token endpoint refuses it: 400 ``{error, description}``."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.error, self.description = error, description


def organization_id(state: SandboxState) -> str:
    """The demo org's 18-character Id (``00D...``), minted once per sandbox."""
    org_id = state.extras.get("sf_org_id")
    if org_id is None:
        org_id = state.extras.setdefault("sf_org_id", IdMinter().mint("00D"))
    return str(org_id)


class SalesforceAuth:
    """Issues and checks sessions; the REST router asks ``authenticate`` on every data call."""

    def __init__(self, state: SandboxState, org: _Users) -> None:
        self.state = state
        self.org = org
        self._sessions: dict[str, AuthenticatedSession] = {}
        self._from_refresh: set[str] = set()  # access tokens the refresh token issued
        self._refresh_revoked = False

    # -- hosts and users ------------------------------------------------------------------
    @property
    def instance_host(self) -> str:
        return f"{self.state.config.my_domain}.my.salesforce.com"

    @property
    def instance_url(self) -> str:
        return f"https://{self.instance_host}"

    def _is_login_host(self, host: str) -> bool:
        return host in LOGIN_HOSTS or host == self.instance_host

    def _user(self, username: str) -> dict[str, Any] | None:
        """The User record with this username (usernames are case-insensitive at login)."""
        wanted = username.strip().lower()
        for user in self.org.records("User"):
            if str(user.get("Username", "")).lower() == wanted:
                return dict(user)
        return None

    def _integration_user(self) -> dict[str, Any]:
        """The API user: the record named by the demo credentials, else demo role "integration"."""
        user = self._user(self.state.config.credentials.sf_username)
        demo = self.state.demo
        return user or {"Id": demo.users.get("integration", "") if demo else "", "IsActive": True}

    def _password_ok(self, username: str, password: str) -> bool:
        creds = self.state.config.credentials
        return username.strip().lower() == creds.sf_username.lower() and hmac.compare_digest(
            password, creds.sf_password + creds.sf_security_token
        )

    # -- sessions -------------------------------------------------------------------------
    def _issue(self, user_id: str) -> AuthenticatedSession:
        org15 = organization_id(self.state)[:15]
        token = f"{org15}!{secrets.token_urlsafe(72)}"
        session = AuthenticatedSession(
            token, user_id, self.state.now().timestamp(), self.instance_url
        )
        with self.state.lock:
            self._sessions[token] = session
        return session

    def authenticate(self, ctx: RequestCtx) -> AuthenticatedSession | Response:
        """The session behind ``Authorization: Bearer|OAuth <token>``, or the 401 to send."""
        scheme, _, token = ctx.request.headers.get("Authorization", "").strip().partition(" ")
        with self.state.lock:
            session = (
                self._sessions.get(token.strip()) if scheme.lower() in ("bearer", "oauth") else None
            )
        if session is None or self._too_old(session):
            return invalid_session()
        return session

    def _too_old(self, session: AuthenticatedSession) -> bool:
        limit = self.state.faults.settings.invalid_session_after_s
        return limit is not None and self.state.now().timestamp() - session.issued_at > limit

    def revoke(self, ctx: RequestCtx) -> Response:
        """``POST /services/oauth2/revoke`` (``token=``): an access token, or the refresh
        token together with the access tokens it issued (until the next sandbox reset)."""
        token = ctx.request.values.get("token", "")
        with self.state.lock:
            if token == self.state.config.credentials.sf_refresh_token:
                self._refresh_revoked = True
                for issued in self._from_refresh:
                    self._sessions.pop(issued, None)
            elif self._sessions.pop(token, None) is None:
                return _json(
                    {
                        "error": "unsupported_token_type",
                        "error_description": "this token type is not supported",
                    },
                    400,
                )
        return Response(status=200)

    def forget_all(self) -> None:
        """Drop every session and un-revoke the refresh token (a sandbox reset)."""
        with self.state.lock:
            self._sessions.clear()
            self._from_refresh.clear()
            self._refresh_revoked = False

    # -- SOAP login() ---------------------------------------------------------------------
    def soap_login(self, ctx: RequestCtx) -> Response:
        """``POST /services/Soap/u/NN.N`` with a partner ``login``; LoginFault when refused."""
        match = _SOAP_VERSION.match(ctx.request.path)
        if match is None or not self._is_login_host(ctx.host):
            return soap.fault("INVALID_LOGIN", soap.LOGIN_FAULT_MESSAGE)
        try:
            username, password = soap.parse_login(ctx.request.get_data())
        except ValueError:
            return soap.fault("soapenv:Client", "Unable to parse the login request")
        user = self._user(username) if self._password_ok(username, password) else None
        if user is None or user.get("IsActive") is False:
            return soap.fault("INVALID_LOGIN", soap.LOGIN_FAULT_MESSAGE)
        session = self._issue(str(user["Id"]))
        return soap.login_response(
            soap.login_result(
                instance_url=self.instance_url,
                version=match.group(1),
                org_id=organization_id(self.state),
                session_id=session.token,
                user=user,
            )
        )

    # -- OAuth 2.0 token endpoint ----------------------------------------------------------
    def token(self, ctx: RequestCtx) -> Response:
        """``POST /services/oauth2/token`` for the password, refresh, JWT and client grants."""
        form = ctx.request.form
        grants = {
            "password": self._password_grant,
            "refresh_token": self._refresh_grant,
            "urn:ietf:params:oauth:grant-type:jwt-bearer": self._jwt_grant,
            "client_credentials": self._client_credentials_grant,
        }
        grant = grants.get(form.get("grant_type", ""))
        try:
            if grant is None:
                raise OAuthError("unsupported_grant_type", "grant type not supported")
            body = grant(ctx)
        except OAuthError as exc:
            return _json({"error": exc.error, "error_description": exc.description}, 400)
        return _json(body)

    def _check_client(self, client_id: str | None, secret: str | None) -> None:
        """Consumer key must be the connected app's; a secret, when given, must match it."""
        creds = self.state.config.credentials
        if client_id != creds.sf_consumer_key:
            raise OAuthError("invalid_client_id", "client identifier invalid")
        if secret is not None and not hmac.compare_digest(secret, creds.sf_consumer_secret):
            raise OAuthError("invalid_client", "invalid client credentials")

    def _token_body(
        self, ctx: RequestCtx, session: AuthenticatedSession, *fields: str
    ) -> dict[str, Any]:
        """The success JSON; ``fields`` picks the optional keys each flow's docs show."""
        issued_at = str(int(session.issued_at * 1000))
        identity = f"https://{ctx.host}/id/{organization_id(self.state)}/{session.user_id}"
        secret = self.state.config.credentials.sf_consumer_secret.encode()
        signature = base64.b64encode(
            hmac.new(secret, (identity + issued_at).encode(), hashlib.sha256).digest()
        ).decode()
        optional = {"issued_at": issued_at, "signature": signature, "scope": SCOPE}
        body = {
            "access_token": session.token,
            "instance_url": session.instance_url,
            "id": identity,
            "token_type": "Bearer",
        }
        body.update({k: optional[k] for k in fields})
        return body

    def _password_grant(self, ctx: RequestCtx) -> dict[str, Any]:
        form = ctx.request.form
        self._login_host_only(ctx)
        self._check_client(form.get("client_id"), form.get("client_secret", ""))
        username = form.get("username", "")
        user = (
            self._user(username) if self._password_ok(username, form.get("password", "")) else None
        )
        if user is None or user.get("IsActive") is False:
            raise OAuthError("invalid_grant", "authentication failure")
        # The username-password flow never returns a refresh token.
        return self._token_body(ctx, self._issue(str(user["Id"])), "issued_at", "signature")

    def _refresh_grant(self, ctx: RequestCtx) -> dict[str, Any]:
        form = ctx.request.form
        self._login_host_only(ctx)
        self._check_client(form.get("client_id"), form.get("client_secret"))
        if (
            form.get("refresh_token") != self.state.config.credentials.sf_refresh_token
            or self._refresh_revoked
        ):
            raise OAuthError("invalid_grant", "expired access/refresh token")
        session = self._issue(str(self._integration_user()["Id"]))
        with self.state.lock:
            self._from_refresh.add(session.token)
        # No refresh token in the answer: rotation is off on the demo connected app.
        return self._token_body(ctx, session, "signature", "scope", "issued_at")

    def _jwt_grant(self, ctx: RequestCtx) -> dict[str, Any]:
        self._login_host_only(ctx)
        claims = self._verified_claims(ctx.request.form.get("assertion", ""))
        user = self._user(str(claims.get("sub") or claims.get("prn") or ""))
        if user is None:
            raise OAuthError("invalid_grant", "user hasn't approved this consumer")
        if user.get("IsActive") is False:
            raise OAuthError("inactive_user", "user is inactive")
        return self._token_body(ctx, self._issue(str(user["Id"])), "scope")

    def _verified_claims(self, assertion: str) -> dict[str, Any]:
        """Check signature (RS256, the connected app's certificate), iss, aud and exp."""
        key = self.state.jwt_public_key_pem
        try:
            unverified = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise OAuthError("invalid_grant", "invalid assertion") from exc
        self._check_client(str(unverified.get("iss")), None)
        if unverified.get("aud") not in AUDIENCES:
            raise OAuthError("invalid_grant", "audience is invalid")
        if key is None:
            raise OAuthError("invalid_grant", "invalid assertion")
        try:
            claims: dict[str, Any] = jwt.decode(
                assertion,
                key,
                algorithms=["RS256"],
                audience=list(AUDIENCES),
                options={"require": ["exp"], "verify_exp": False},
            )
            to_go = float(claims["exp"]) - self.state.now().timestamp()  # the sandbox clock
        except (jwt.PyJWTError, TypeError, ValueError) as exc:
            raise OAuthError("invalid_grant", "invalid assertion") from exc
        if to_go <= 0:
            raise OAuthError("invalid_grant", "expired authorization code")
        if to_go > JWT_MAX_LIFETIME_S:
            raise OAuthError("invalid_grant", "invalid assertion")
        return claims

    def _client_credentials_grant(self, ctx: RequestCtx) -> dict[str, Any]:
        if ctx.host != self.instance_host:
            raise OAuthError("invalid_grant", "request not supported on this domain")
        auth = ctx.request.authorization
        if auth is not None and auth.type == "basic":
            client_id, secret = auth.username, auth.password
        else:
            client_id, secret = (
                ctx.request.form.get("client_id"),
                ctx.request.form.get("client_secret"),
            )
        self._check_client(client_id, secret or "")
        session = self._issue(str(self._integration_user()["Id"]))
        return self._token_body(ctx, session, "signature", "scope", "issued_at")

    def _login_host_only(self, ctx: RequestCtx) -> None:
        if not self._is_login_host(ctx.host):
            raise OAuthError("invalid_grant", "request not supported on this domain")


def invalid_session() -> Response:
    """The REST API's answer to a missing, unknown, expired or revoked session."""
    return _json(
        [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}],
        401,
        {"WWW-Authenticate": "Token"},
    )


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body),
        status=status,
        headers=headers,
        content_type="application/json;charset=UTF-8",
    )
