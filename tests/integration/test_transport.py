"""The transport seam: real host names routed to loopback, TLS verified against the real name."""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections.abc import Iterator

import pytest
import requests
import trustme
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from connector.http.session import ConnectTo, TransportSettings, new_session


def _echo(environ, start_response):
    req = Request(environ)
    if req.path == "/slow":
        time.sleep(1.0)
    body = {"host": req.host, "path": req.path, "auth": req.headers.get("Authorization")}
    return Response(json.dumps(body), content_type="application/json")(environ, start_response)


class _Server:
    def __init__(self, ca: trustme.CA, *names: str) -> None:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert(*names).configure_cert(ctx)
        self.httpd = make_server("127.0.0.1", 0, _echo, threaded=True, ssl_context=ctx)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return int(self.httpd.server_port)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def server(ca: trustme.CA) -> Iterator[_Server]:
    s = _Server(ca, "login.salesforce.com", "*.my.salesforce.com", "*.zendesk.com", "localhost")
    yield s
    s.close()


@pytest.fixture
def settings(server: _Server, ca: trustme.CA, tmp_path) -> TransportSettings:
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return TransportSettings(connect_to=ConnectTo(("127.0.0.1", server.port), ca_file))


def test_routed_request_reaches_loopback_with_the_real_host_header(settings) -> None:
    got = new_session(settings).get("https://demo.my.salesforce.com/services/data/").json()
    assert got["host"] == "demo.my.salesforce.com"
    assert got["path"] == "/services/data/"


def test_certificate_is_checked_against_the_real_host_name(settings) -> None:
    # The server's certificate does not cover this name, although it is routed there.
    routed = TransportSettings(
        connect_to=ConnectTo(
            settings.connect_to.address, settings.connect_to.ca_file, patterns=("*.example.com",)
        )
    )
    with pytest.raises(requests.exceptions.SSLError):
        new_session(routed).get("https://api.example.com/")


def test_verify_false_cannot_switch_off_verification_of_routed_hosts(tmp_path, server) -> None:
    other_ca = tmp_path / "other.pem"
    trustme.CA().cert_pem.write_to_path(str(other_ca))
    routed = TransportSettings(connect_to=ConnectTo(("127.0.0.1", server.port), other_ca))
    with pytest.raises(requests.exceptions.SSLError):
        new_session(routed).get("https://login.salesforce.com/", verify=False)


def test_requests_ca_bundle_does_not_override_the_routing_ca(
    settings, tmp_path, monkeypatch
) -> None:
    unrelated = tmp_path / "corporate.pem"
    trustme.CA().cert_pem.write_to_path(str(unrelated))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(unrelated))
    got = new_session(settings).get("https://demo.zendesk.com/api/v2/groups.json").json()
    assert got["host"] == "demo.zendesk.com"


def test_default_read_timeout_applies_when_the_client_sets_none(settings) -> None:
    short = TransportSettings(connect_to=settings.connect_to, timeout=(2.0, 0.2))
    with pytest.raises(requests.exceptions.ReadTimeout):
        new_session(short).get("https://login.salesforce.com/slow")


def test_each_client_session_keeps_its_own_credentials(settings) -> None:
    zendesk, salesforce = new_session(settings), new_session(settings)
    zendesk.auth = ("agent@example.com/token", "secret-token")
    got = salesforce.get("https://demo.my.salesforce.com/x").json()
    assert got["auth"] is None


def test_configured_ca_bundle_wins_over_requests_ca_bundle(
    server, ca, tmp_path, monkeypatch
) -> None:
    """requests lets REQUESTS_CA_BUNDLE replace session.verify; the connector's setting must win."""
    ours = tmp_path / "ours.pem"
    ca.cert_pem.write_to_path(str(ours))
    unrelated = tmp_path / "unrelated.pem"
    trustme.CA().cert_pem.write_to_path(str(unrelated))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(unrelated))
    session = new_session(TransportSettings(ca_bundle=ours))
    assert session.get(f"https://localhost:{server.port}/x").status_code == 200
