"""One HTTPS server on loopback serving both emulators, the way the real hosts would.

A CA made with trustme at start signs one certificate for every Salesforce and Zendesk host
name the clients use, so TLS is verified for real; requests are routed by their Host header.
Transport faults (503, 429 bursts, slow and dropped responses) are applied here, before and
after the emulator answers; API-specific faults live in the emulators.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

import trustme
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from connector.sandbox.faults import SALESFORCE, ZENDESK
from connector.sandbox.state import RequestCtx, SandboxConfig, SandboxState

log = logging.getLogger(__name__)

SALESFORCE_HOSTS = (
    "login.salesforce.com",
    "test.salesforce.com",
    "*.my.salesforce.com",
    "*.salesforce.com",
)
ZENDESK_HOSTS = ("*.zendesk.com",)
LOOPBACK_HOSTS = ("localhost", "127.0.0.1")
CERT_HOSTS = SALESFORCE_HOSTS + ZENDESK_HOSTS + LOOPBACK_HOSTS


class Emulator(Protocol):
    """What the server needs of an API emulator."""

    def reset(self) -> None:
        """Load ``state.demo`` afresh, forgetting every change."""

    def handle(self, ctx: RequestCtx) -> Response:
        """Answer one request."""

    def admin(self, ctx: RequestCtx, path: str) -> Response:
        """Answer ``/__sandbox/data/<api>/<path>`` (inspect and edit data as a person)."""


def api_for_host(host: str) -> str | None:
    """Which emulator serves a host name, or None for loopback names (admin only)."""
    host = host.split(":", 1)[0].lower()
    if host.endswith(".zendesk.com"):
        return ZENDESK
    if host.endswith(".salesforce.com"):
        return SALESFORCE
    return None


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass

    def log_error(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def log(self, type: str, message: str, *args: Any) -> None:  # noqa: A002
        log.debug("sandbox: " + message, *args)


def _truncating(body: bytes, sock: socket.socket | None) -> Iterator[bytes]:
    """Send half the body, then shut the connection, as a broken network path does."""
    yield body[: max(1, len(body) // 2)]
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


class Sandbox:
    """The emulators behind one HTTPS port. Use as a context manager or call start()/stop()."""

    def __init__(self, config: SandboxConfig | None = None, port: int = 0) -> None:
        self.config = config or SandboxConfig()
        self.state = SandboxState(config=self.config)
        self._requested_port = port
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.workdir = self.config.workdir
        self.ca = trustme.CA(organization_name="cs-connector sandbox")
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.emulators: dict[str, Emulator] = {}

    # -- life cycle -------------------------------------------------------------------------
    def start(self) -> Sandbox:
        from connector.sandbox.salesforce.api import SalesforceApi
        from connector.sandbox.seed import load_or_generate
        from connector.sandbox.zendesk.api import ZendeskApi

        if self.workdir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="cs-sandbox-")
            self.workdir = Path(self._tmp.name)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.ca.cert_pem.write_to_path(str(self.ca_path))
        self._write_jwt_keys()
        self.state.demo = load_or_generate(self.config)
        self.emulators = {
            SALESFORCE: SalesforceApi(self.state),
            ZENDESK: ZendeskApi(self.state),
        }
        for emulator in self.emulators.values():
            emulator.reset()
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert(*CERT_HOSTS).configure_cert(ctx)
        self._server = make_server(
            "127.0.0.1",
            self._requested_port,
            self._wsgi,
            threaded=True,
            request_handler=_QuietHandler,
            ssl_context=ctx,
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="cs-sandbox", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget every change since start: data, faults, call log."""
        self.state.faults.clear()
        self.state.calls.clear()
        for emulator in self.emulators.values():
            emulator.reset()

    # -- what clients need ------------------------------------------------------------------
    @property
    def port(self) -> int:
        assert self._server is not None, "sandbox not started"
        return int(self._server.server_port)

    @property
    def ca_path(self) -> Path:
        assert self.workdir is not None
        return self.workdir / "sandbox-ca.pem"

    @property
    def jwt_private_key_path(self) -> Path:
        assert self.workdir is not None
        return self.workdir / "jwt-private-key.pem"

    @property
    def instance_host(self) -> str:
        return f"{self.config.my_domain}.my.salesforce.com"

    @property
    def zendesk_host(self) -> str:
        return f"{self.config.zendesk_subdomain}.zendesk.com"

    @property
    def faults(self) -> Any:
        return self.state.faults

    @property
    def calls(self) -> Any:
        return self.state.calls

    def _write_jwt_keys(self) -> None:
        """A connected app's key pair for the JWT bearer flow: private key 0600 for the client."""
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path = self.jwt_private_key_path
        path.touch(mode=0o600)
        path.chmod(0o600)
        path.write_bytes(pem)
        self.state.jwt_public_key_pem = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    # -- WSGI -------------------------------------------------------------------------------
    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        host = (request.host or "").split(":", 1)[0].lower()
        started = time.perf_counter()
        api = "admin" if request.path.startswith("/__sandbox/") else api_for_host(host)
        ctx = RequestCtx(self.state, request, api or "admin", host)
        drop = False
        if api is None:
            response = Response("unknown host", status=421, content_type="text/plain")
        elif api == "admin":
            response = self._admin(ctx)
        else:
            response, drop = self._serve(api, ctx)
        self.state.calls.record(
            api=ctx.api,
            method=request.method,
            host=host,
            path=request.path,
            query=request.query_string.decode("latin-1"),
            status=response.status_code,
            records_read=ctx.records_read,
            records_written=ctx.records_written,
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
        )
        if drop:
            body = response.get_data()
            response.headers["Content-Length"] = str(len(body))
            response.response = _truncating(body, environ.get("werkzeug.socket"))
        return response(environ, start_response)

    def _serve(self, api: str, ctx: RequestCtx) -> tuple[Response, bool]:
        faults = self.state.faults
        settings = faults.settings
        hit = faults.applies_to(api)
        if hit and faults.take_429():
            return _rate_limited(api, settings.retry_after_s), False
        if hit and faults.roll(settings.http_503_share):
            return _unavailable(api), False
        try:
            response = self.emulators[api].handle(ctx)
        except Exception:  # an emulator bug must show as a 500, as a real server's would
            log.exception(
                "sandbox %s emulator failed on %s %s",
                api,
                ctx.request.method,
                ctx.request.full_path,
            )
            response = _json(
                [{"errorCode": "UNKNOWN_EXCEPTION", "message": "An unexpected error occurred."}],
                500,
            )
        if hit and settings.slow_s > 0:
            time.sleep(settings.slow_s)
        drop = hit and faults.roll(settings.drop_share)
        return response, drop

    # -- admin endpoints --------------------------------------------------------------------
    def _admin(self, ctx: RequestCtx) -> Response:
        req = ctx.request
        path = req.path[len("/__sandbox/") :].strip("/")
        if path == "health":
            return _json({"ok": True, "scale": self.config.scale})
        if path == "calls":
            if req.method == "DELETE":
                self.state.calls.clear()
                return Response(status=204)
            return _json(self.state.calls.as_dicts(req.args.get("api")))
        if path == "faults":
            if req.method == "DELETE":
                self.state.faults.clear()
            elif req.method in ("POST", "PATCH"):
                try:
                    self.state.faults.update(**(req.get_json(force=True) or {}))
                except (ValueError, TypeError) as exc:
                    return _json({"error": str(exc)}, 400)
            return _json(self.state.faults.as_dict())
        if path == "reset" and req.method == "POST":
            self.reset()
            return _json({"ok": True})
        if path == "stories":
            demo = self.state.demo
            return _json([s.__dict__ for s in demo.stories] if demo else [])
        if path.startswith("data/"):
            _, api, *rest = path.split("/", 2)
            emulator = self.emulators.get(api)
            if emulator is None:
                return _json({"error": f"no emulator {api!r}"}, 404)
            return emulator.admin(ctx, rest[0] if rest else "")
        return _json({"error": "not found"}, 404)


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body),
        status=status,
        headers=headers,
        content_type="application/json;charset=UTF-8",
    )


def _rate_limited(api: str, retry_after: int) -> Response:
    if api == ZENDESK:
        return _json(
            {
                "error": "APIRateLimitExceeded",
                "description": "Number of allowed API requests per minute exceeded",
            },
            429,
            {"Retry-After": str(retry_after)},
        )
    return _json(
        [
            {
                "errorCode": "REQUEST_LIMIT_EXCEEDED",
                "message": "ConcurrentRequests (Concurrent API Requests) Limit exceeded.",
            }
        ],
        429,
        {"Retry-After": str(retry_after)},
    )


def _unavailable(api: str) -> Response:
    if api == ZENDESK:
        return _json(
            {"error": "ServiceUnavailable", "description": "Zendesk is temporarily unavailable"},
            503,
            {"Retry-After": "1"},
        )
    return _json(
        [
            {
                "errorCode": "SERVER_UNAVAILABLE",
                "message": "Server temporarily unavailable, please try again.",
            }
        ],
        503,
    )
