"""Salesforce logins in the sandbox, through simple-salesforce and raw HTTP on the real hosts.

Wire formats checked against: SOAP API Developer Guide "login()", "LoginResult" and
"getUserInfoResult"; Salesforce Help "OAuth 2.0 Username-Password Flow for Special
Scenarios", "OAuth 2.0 Refresh Token Flow for Renewed Sessions", "OAuth 2.0 JWT Bearer Flow
for Server-to-Server Integration", "OAuth 2.0 Client Credentials Flow for Server-to-Server
Integration" and "OAuth 2.0 Authorization Errors"; REST API Developer Guide "Status Codes and
Error Responses" (401 INVALID_SESSION_ID).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import xml.etree.ElementTree as ET
from datetime import timedelta

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from simple_salesforce import Salesforce, SalesforceAuthenticationFailed

API = "62.0"
LOGIN = "https://login.salesforce.com"
INSTANCE = "https://demo.my.salesforce.com"
JOBS = f"{INSTANCE}/services/data/v{API}/jobs/query"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
PARTNER = "{urn:partner.soap.sforce.com}"


@pytest.fixture
def http(session_factory) -> requests.Session:  # type: ignore[no-untyped-def]
    return session_factory()


@pytest.fixture
def creds(sandbox):  # type: ignore[no-untyped-def]
    return sandbox.config.credentials


def _username(sandbox, role: str) -> str:  # type: ignore[no-untyped-def]
    user_id = sandbox.state.demo.users[role]
    return next(u["Username"] for u in sandbox.state.demo.salesforce["User"] if u["Id"] == user_id)


def _assertion(sandbox, creds, **claims) -> str:  # type: ignore[no-untyped-def]
    key = claims.pop("key", None) or sandbox.jwt_private_key_path.read_bytes()
    payload = {
        "iss": creds.sf_consumer_key,
        "sub": creds.sf_username,
        "aud": "https://login.salesforce.com",
        "exp": int(time.time()) + 120,
    }
    payload.update(claims)
    return jwt.encode(payload, key, algorithm="RS256")


def _token(http, data, host: str = LOGIN, **kw) -> requests.Response:  # type: ignore[no-untyped-def]
    return http.post(f"{host}/services/oauth2/token", data=data, **kw)


def _soap_login(http, username: str, password: str, host: str = LOGIN):  # type: ignore[no-untyped-def]
    body = (
        '<?xml version="1.0" encoding="utf-8"?><soapenv:Envelope '
        'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:urn="urn:partner.soap.sforce.com"><soapenv:Body><urn:login>'
        f"<urn:username>{username}</urn:username><urn:password>{password}</urn:password>"
        "</urn:login></soapenv:Body></soapenv:Envelope>"
    )
    return http.post(
        f"{host}/services/Soap/u/{API}",
        data=body,
        headers={"Content-Type": "text/xml", "SOAPAction": "login"},
    )


def _bearer(http, token: str, scheme: str = "Bearer") -> requests.Response:  # type: ignore[no-untyped-def]
    return http.get(JOBS, headers={"Authorization": f"{scheme} {token}"})


# -- SOAP login() ---------------------------------------------------------------------------
def test_soap_login_with_password_and_security_token_opens_the_instance(
    sandbox, creds, session_factory
):  # type: ignore[no-untyped-def]
    """SOAP API Developer Guide, "login()": password + security token; serverUrl is the instance."""
    sf = Salesforce(
        username=creds.sf_username,
        password=creds.sf_password,
        security_token=creds.sf_security_token,
        session=session_factory(),
        version=API,
    )
    assert sf.sf_instance == "demo.my.salesforce.com"
    assert sf.session_id.startswith("00D")
    assert sf.session.get(JOBS, headers=sf.headers).status_code == 200


def test_soap_login_result_has_the_documented_loginresult_fields(sandbox, creds, http):  # type: ignore[no-untyped-def]
    """SOAP API Developer Guide, "LoginResult" and "getUserInfoResult"."""
    r = _soap_login(http, creds.sf_username, creds.sf_password + creds.sf_security_token)
    assert r.status_code == 200
    result = ET.fromstring(r.content).find(f".//{PARTNER}loginResponse/{PARTNER}result")
    assert result is not None
    fields = {el.tag.removeprefix(PARTNER): el for el in result}
    assert set(fields) >= {
        "metadataServerUrl",
        "passwordExpired",
        "sandbox",
        "serverUrl",
        "sessionId",
        "userId",
        "userInfo",
    }
    org_id = fields["userInfo"].findtext(f"{PARTNER}organizationId")
    assert org_id and org_id.startswith("00D") and len(org_id) == 18
    assert fields["serverUrl"].text == f"{INSTANCE}/services/Soap/u/{API}/{org_id[:15]}"
    assert fields["passwordExpired"].text == "false"
    assert fields["userId"].text == sandbox.state.demo.users["integration"]
    info = {el.tag.removeprefix(PARTNER): el.text for el in fields["userInfo"]}
    assert info["userName"] == creds.sf_username
    assert info["userEmail"] and info["userFullName"] == "Integration User"


def test_wrong_password_is_the_documented_invalid_login_fault(
    sandbox, creds, http, session_factory
):  # type: ignore[no-untyped-def]
    """SOAP API Developer Guide, "login()": a LoginFault, sent as HTTP 500."""
    with pytest.raises(SalesforceAuthenticationFailed) as caught:
        Salesforce(
            username=creds.sf_username,
            password="wrong",
            security_token=creds.sf_security_token,
            session=session_factory(),
        )
    assert caught.value.code == "INVALID_LOGIN"
    r = _soap_login(http, creds.sf_username, creds.sf_password)  # token missing
    assert r.status_code == 500
    assert "<faultcode>sf:INVALID_LOGIN</faultcode>" in r.text
    assert (
        "<faultstring>INVALID_LOGIN: Invalid username, password, security token; or user "
        "locked out.</faultstring>"
    ) in r.text


@pytest.mark.parametrize("domain", ["test", "demo.my"])
def test_soap_login_works_on_the_sandbox_login_host_and_on_my_domain(
    creds, session_factory, domain
):  # type: ignore[no-untyped-def]
    """SOAP API Developer Guide, "login()": any login server answers with the instance URL."""
    sf = Salesforce(
        username=creds.sf_username,
        password=creds.sf_password,
        security_token=creds.sf_security_token,
        domain=domain,
        session=session_factory(),
    )
    assert sf.sf_instance == "demo.my.salesforce.com"


# -- OAuth username-password ----------------------------------------------------------------
def test_oauth_password_flow_with_consumer_key_and_secret(creds, session_factory):  # type: ignore[no-untyped-def]
    """Help, "OAuth 2.0 Username-Password Flow for Special Scenarios"."""
    sf = Salesforce(
        username=creds.sf_username,
        password=creds.sf_password + creds.sf_security_token,
        consumer_key=creds.sf_consumer_key,
        consumer_secret=creds.sf_consumer_secret,
        session=session_factory(),
    )
    assert sf.session.get(JOBS, headers=sf.headers).status_code == 200


def test_password_grant_answers_the_documented_keys_without_a_refresh_token(creds, http):  # type: ignore[no-untyped-def]
    """Help, "OAuth 2.0 Username-Password Flow": no refresh token; the signature is an
    HMAC-SHA256 of id + issued_at keyed with the consumer secret."""
    r = _token(
        http,
        {
            "grant_type": "password",
            "client_id": creds.sf_consumer_key,
            "client_secret": creds.sf_consumer_secret,
            "username": creds.sf_username,
            "password": creds.sf_password + creds.sf_security_token,
        },
    )
    body = r.json()
    assert r.status_code == 200
    assert set(body) == {
        "access_token",
        "instance_url",
        "id",
        "token_type",
        "issued_at",
        "signature",
    }
    assert body["token_type"] == "Bearer" and body["instance_url"] == INSTANCE
    assert body["id"].startswith(f"{LOGIN}/id/00D")
    digest = hmac.new(
        creds.sf_consumer_secret.encode(), (body["id"] + body["issued_at"]).encode(), hashlib.sha256
    ).digest()
    assert body["signature"] == base64.b64encode(digest).decode()
    assert _bearer(http, body["access_token"]).status_code == 200


@pytest.mark.parametrize(
    ("change", "error", "description"),
    [
        ({"password": "wrong"}, "invalid_grant", "authentication failure"),
        ({"client_secret": "wrong"}, "invalid_client", "invalid client credentials"),
        ({"client_id": "unknown"}, "invalid_client_id", "client identifier invalid"),
        (
            {"grant_type": "authorization_code"},
            "unsupported_grant_type",
            "grant type not supported",
        ),
    ],
)
def test_refused_password_grants_answer_400_with_the_documented_error(
    creds, http, change, error, description
):  # type: ignore[no-untyped-def]
    """Help, "OAuth 2.0 Authorization Errors"."""
    data = {
        "grant_type": "password",
        "client_id": creds.sf_consumer_key,
        "client_secret": creds.sf_consumer_secret,
        "username": creds.sf_username,
        "password": creds.sf_password + creds.sf_security_token,
    } | change
    r = _token(http, data)
    assert (r.status_code, r.json()) == (400, {"error": error, "error_description": description})


def test_wrong_oauth_password_raises_authentication_failed(creds, session_factory):  # type: ignore[no-untyped-def]
    """Help, "OAuth 2.0 Authorization Errors": invalid_grant for bad user credentials."""
    with pytest.raises(SalesforceAuthenticationFailed) as caught:
        Salesforce(
            username=creds.sf_username,
            password="wrong",
            consumer_key=creds.sf_consumer_key,
            consumer_secret=creds.sf_consumer_secret,
            session=session_factory(),
        )
    assert caught.value.code == "invalid_grant"


# -- refresh token ----------------------------------------------------------------------------
def test_refresh_token_grant_issues_a_session_without_rotating_the_refresh_token(
    creds, http, session_factory
):  # type: ignore[no-untyped-def]
    """Help, "OAuth 2.0 Refresh Token Flow": client_secret optional; a new refresh token only
    with rotation, which the demo connected app does not enable."""
    r = _token(
        http,
        {
            "grant_type": "refresh_token",
            "client_id": creds.sf_consumer_key,
            "refresh_token": creds.sf_refresh_token,
        },
    )
    body = r.json()
    assert r.status_code == 200
    assert set(body) == {
        "access_token",
        "signature",
        "scope",
        "instance_url",
        "id",
        "token_type",
        "issued_at",
    }
    sf = Salesforce(
        instance_url=body["instance_url"],
        session_id=body["access_token"],
        session=session_factory(),
        version=API,
    )
    assert sf.session.get(JOBS, headers=sf.headers).status_code == 200


def test_unknown_refresh_token_is_an_invalid_grant(creds, http):  # type: ignore[no-untyped-def]
    """Help, "OAuth 2.0 Authorization Errors": the refresh token flow's example error."""
    r = _token(
        http,
        {
            "grant_type": "refresh_token",
            "client_id": creds.sf_consumer_key,
            "client_secret": creds.sf_consumer_secret,
            "refresh_token": "nope",
        },
    )
    assert (r.status_code, r.json()["error"]) == (400, "invalid_grant")
    assert r.json()["error_description"] == "expired access/refresh token"


def test_revoking_the_refresh_token_ends_its_sessions_and_refuses_it(creds, http):  # type: ignore[no-untyped-def]
    """Help, "Revoke OAuth Tokens": POST /services/oauth2/revoke with token=."""
    grant = {
        "grant_type": "refresh_token",
        "client_id": creds.sf_consumer_key,
        "refresh_token": creds.sf_refresh_token,
    }
    access = _token(http, grant).json()["access_token"]
    revoked = http.post(f"{LOGIN}/services/oauth2/revoke", data={"token": creds.sf_refresh_token})
    assert revoked.status_code == 200
    assert _bearer(http, access).status_code == 401
    assert _token(http, grant).json()["error"] == "invalid_grant"


def test_revoking_an_access_token_ends_that_session_only(creds, http):  # type: ignore[no-untyped-def]
    first, second = _password_token(http, creds), _password_token(http, creds)
    assert http.post(f"{LOGIN}/services/oauth2/revoke", data={"token": first}).status_code == 200
    assert (_bearer(http, first).status_code, _bearer(http, second).status_code) == (401, 200)
    again = http.post(f"{LOGIN}/services/oauth2/revoke", data={"token": first})
    assert (again.status_code, again.json()["error"]) == (400, "unsupported_token_type")


# -- JWT bearer -------------------------------------------------------------------------------
def test_jwt_bearer_login_with_the_connected_app_key(sandbox, creds, session_factory):  # type: ignore[no-untyped-def]
    """Help, "OAuth 2.0 JWT Bearer Flow": RS256 assertion with iss, sub, aud, exp."""
    sf = Salesforce(
        username=creds.sf_username,
        consumer_key=creds.sf_consumer_key,
        privatekey_file=str(sandbox.jwt_private_key_path),
        session=session_factory(),
        version=API,
    )
    assert sf.sf_instance == "demo.my.salesforce.com"
    assert sf.session.get(JOBS, headers=sf.headers).status_code == 200


def test_jwt_grant_answers_the_documented_keys_and_acts_as_the_subject(sandbox, creds, http):  # type: ignore[no-untyped-def]
    """Help, "OAuth 2.0 JWT Bearer Flow": access_token, scope, instance_url, id, token_type."""
    sub = _username(sandbox, "csm1")
    r = _token(
        http,
        {
            "grant_type": JWT_GRANT,
            "assertion": _assertion(sandbox, creds, sub=sub, aud="https://test.salesforce.com"),
        },
    )
    body = r.json()
    assert r.status_code == 200
    assert set(body) == {"access_token", "scope", "instance_url", "id", "token_type"}
    assert body["id"].endswith("/" + sandbox.state.demo.users["csm1"])


def _other_key() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@pytest.mark.parametrize(
    ("claims", "error", "description"),
    [
        ({"aud": "https://example.com"}, "invalid_grant", "audience is invalid"),
        ({"iss": "unknown-app"}, "invalid_client_id", "client identifier invalid"),
        ({"exp": int(time.time()) - 600}, "invalid_grant", "expired authorization code"),
        ({"exp": int(time.time()) + 3600}, "invalid_grant", "invalid assertion"),
        ({"key": "other"}, "invalid_grant", "invalid assertion"),
        ({"sub": "nobody@example.com"}, "invalid_grant", "user hasn't approved this consumer"),
    ],
)
def test_refused_jwt_assertions_answer_400_invalid_grant(
    sandbox, creds, http, claims, error, description
):  # type: ignore[no-untyped-def]
    """Help, "OAuth 2.0 JWT Bearer Flow" (exp within 3 minutes) and "OAuth 2.0 Authorization
    Errors" (a standard RFC 7523 error response)."""
    if claims.get("key") == "other":
        claims = {"key": _other_key()}
    r = _token(http, {"grant_type": JWT_GRANT, "assertion": _assertion(sandbox, creds, **claims)})
    assert (r.status_code, r.json()) == (400, {"error": error, "error_description": description})


def test_jwt_for_an_inactive_user_is_refused(sandbox, creds, http):  # type: ignore[no-untyped-def]
    """Help, "OAuth 2.0 Authorization Errors": inactive_user."""
    r = _token(
        http,
        {
            "grant_type": JWT_GRANT,
            "assertion": _assertion(sandbox, creds, sub=_username(sandbox, "inactive")),
        },
    )
    assert (r.status_code, r.json()["error"]) == (400, "inactive_user")


# -- client credentials -----------------------------------------------------------------------
def test_client_credentials_on_my_domain_run_as_the_integration_user(
    sandbox, creds, http, session_factory
):  # type: ignore[no-untyped-def]
    """Help, "OAuth 2.0 Client Credentials Flow": Basic auth or form, My Domain host only."""
    sf = Salesforce(
        consumer_key=creds.sf_consumer_key,
        consumer_secret=creds.sf_consumer_secret,
        domain="demo.my",
        session=session_factory(),
        version=API,
    )
    assert sf.session.get(JOBS, headers=sf.headers).status_code == 200
    r = _token(
        http,
        {
            "grant_type": "client_credentials",
            "client_id": creds.sf_consumer_key,
            "client_secret": creds.sf_consumer_secret,
        },
        host=INSTANCE,
    )
    assert r.json()["id"].endswith("/" + sandbox.state.demo.users["integration"])
    assert set(r.json()) == {
        "access_token",
        "signature",
        "scope",
        "instance_url",
        "id",
        "token_type",
        "issued_at",
    }


def test_client_credentials_on_the_login_host_is_refused(creds, http):  # type: ignore[no-untyped-def]
    """Help, "OAuth 2.0 Client Credentials Flow": the My Domain token endpoint only."""
    r = _token(
        http,
        {"grant_type": "client_credentials"},
        auth=(creds.sf_consumer_key, creds.sf_consumer_secret),
    )
    assert r.status_code == 400
    assert r.json() == {
        "error": "invalid_grant",
        "error_description": "request not supported on this domain",
    }


def test_client_credentials_with_a_wrong_secret_is_invalid_client(creds, http):  # type: ignore[no-untyped-def]
    """Help, "OAuth 2.0 Authorization Errors": invalid_client."""
    r = _token(
        http,
        {"grant_type": "client_credentials"},
        host=INSTANCE,
        auth=(creds.sf_consumer_key, "wrong"),
    )
    assert (r.status_code, r.json()["error"]) == (400, "invalid_client")


# -- sessions on the data API -----------------------------------------------------------------
def _password_token(http, creds) -> str:  # type: ignore[no-untyped-def]
    return _token(
        http,
        {
            "grant_type": "password",
            "client_id": creds.sf_consumer_key,
            "client_secret": creds.sf_consumer_secret,
            "username": creds.sf_username,
            "password": creds.sf_password + creds.sf_security_token,
        },
    ).json()["access_token"]


def test_bearer_and_oauth_schemes_are_both_accepted(creds, http):  # type: ignore[no-untyped-def]
    """REST API Developer Guide, "Authorization Through Connected Apps and OAuth 2.0": the
    access token goes in ``Authorization: Bearer``; older docs and clients send ``OAuth``."""
    token = _password_token(http, creds)
    assert _bearer(http, token, "Bearer").status_code == 200
    assert _bearer(http, token, "OAuth").status_code == 200


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer 00Dnot-a-session"}, {"Authorization": "Basic dXNlcjpwdw=="}],
)
def test_missing_or_unknown_sessions_get_401_invalid_session_id(http, headers):  # type: ignore[no-untyped-def]
    """REST API Developer Guide, "Status Codes and Error Responses": 401 with errorCode."""
    r = http.get(JOBS, headers=headers)
    assert r.status_code == 401
    assert r.json() == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]


class _Clock:
    def __init__(self, start) -> None:  # type: ignore[no-untyped-def]
        self.now = start

    def __call__(self):  # type: ignore[no-untyped-def]
        return self.now


def test_sessions_older_than_the_fault_limit_expire_and_a_fresh_login_works(
    sandbox, creds, http, session_factory, monkeypatch
):  # type: ignore[no-untyped-def]
    """REST API Developer Guide, "Status Codes and Error Responses": an expired session is 401
    INVALID_SESSION_ID, on which simple-salesforce logs in again and retries."""
    clock = _Clock(sandbox.state.now())
    monkeypatch.setattr(sandbox.state, "clock", clock)
    sandbox.faults.update(invalid_session_after_s=600)
    sf = Salesforce(
        username=creds.sf_username,
        password=creds.sf_password,
        security_token=creds.sf_security_token,
        session=session_factory(),
        version=API,
    )
    old_token = sf.session_id
    clock.now += timedelta(seconds=601)
    r = _bearer(http, old_token)
    assert r.status_code == 401 and r.json()[0]["errorCode"] == "INVALID_SESSION_ID"
    sandbox.calls.clear()
    # simple-salesforce logs in again on INVALID_SESSION_ID and retries the call.
    result = sf.restful("jobs/query")
    assert "records" in result and sf.session_id != old_token
    statuses = [(c.path, c.status) for c in sandbox.calls.calls("salesforce")]
    assert statuses == [
        (f"/services/data/v{API}/jobs/query", 401),
        (f"/services/Soap/u/{API}", 200),
        (f"/services/data/v{API}/jobs/query", 200),
    ]
