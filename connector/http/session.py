"""One ``requests.Session`` per API client, with timeouts, a CA bundle and optional host routing.

Each client gets its own session because zenpy sets ``session.auth`` on the session it is
given, which would send Zendesk credentials to Salesforce on a shared one.

Routing (``connect_to``) is curl's ``--connect-to``: requests for the named hosts open their TCP
connection to another address, while TLS is still verified against the real host name with a CA
carried in the adapter's own SSL context. The sandbox uses it; so can a private network path in
production. Nothing global is patched, and ``verify`` cannot switch the check off.
"""

from __future__ import annotations

import fnmatch
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3 import HTTPSConnectionPool

DEFAULT_TIMEOUT = (10.0, 120.0)  # connect, read (seconds): Bulk result pages can be slow


@dataclass(frozen=True)
class ConnectTo:
    """Send HTTPS requests for hosts matching ``patterns`` to ``address``, trusting ``ca_file``."""

    address: tuple[str, int]
    ca_file: Path
    patterns: Sequence[str] = ("*.salesforce.com", "*.zendesk.com")

    def matches(self, host: str) -> bool:
        host = host.lower()
        return any(fnmatch.fnmatchcase(host, p) for p in self.patterns)


@dataclass(frozen=True)
class TransportSettings:
    """How the connector reaches the APIs."""

    ca_bundle: Path | None = None  # extra CA bundle (corporate TLS proxy); REQUESTS_CA_BUNDLE too
    timeout: tuple[float, float] = DEFAULT_TIMEOUT
    connect_to: ConnectTo | None = None
    user_agent: str = "cs-connector"
    extra_headers: Mapping[str, str] = field(default_factory=dict)


class ConnectorAdapter(HTTPAdapter):
    """Default timeouts for every request, and ``connect_to`` routing where configured."""

    def __init__(
        self,
        timeout: tuple[float, float],
        connect_to: ConnectTo | None,
        ca_bundle: Path | None = None,
    ) -> None:
        self._timeout = timeout
        self._connect_to = connect_to
        self._ca_bundle = ca_bundle
        self._routed: dict[str, HTTPSConnectionPool] = {}
        self._ssl_context: ssl.SSLContext | None = None
        if connect_to is not None:
            self._ssl_context = ssl.create_default_context(cafile=str(connect_to.ca_file))
        super().__init__(pool_connections=4, pool_maxsize=8)

    def _route(self, url: str) -> str | None:
        host = urlsplit(url).hostname or ""
        if (
            self._connect_to is not None
            and url.startswith("https://")
            and (self._connect_to.matches(host))
        ):
            return host
        return None

    def _pool(self, host: str) -> HTTPSConnectionPool:
        pool = self._routed.get(host)
        if pool is None:
            assert self._connect_to is not None
            address, port = self._connect_to.address
            pool = HTTPSConnectionPool(
                address,
                port,
                maxsize=8,
                ssl_context=self._ssl_context,
                server_hostname=host,
                assert_hostname=host,
            )
            self._routed[host] = pool
        return pool

    def get_connection_with_tls_context(
        self,
        request: requests.PreparedRequest,
        verify: Any,
        proxies: Any = None,
        cert: Any = None,
    ) -> Any:
        host = self._route(request.url or "")
        if host is not None:
            return self._pool(host)
        return super().get_connection_with_tls_context(request, verify, proxies, cert)

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        if self._route(url) is not None:
            return  # routed pools verify with their own context, always
        if self._ca_bundle is not None and verify is not False:
            # requests lets REQUESTS_CA_BUNDLE override session.verify; configuration wins here.
            verify = str(self._ca_bundle)
        super().cert_verify(conn, url, verify, cert)

    def add_headers(self, request: requests.PreparedRequest, **kwargs: Any) -> None:
        if self._route(request.url or "") is not None:
            request.headers["Host"] = urlsplit(request.url or "").netloc

    def request_url(self, request: requests.PreparedRequest, proxies: Any) -> str:
        if self._route(request.url or "") is not None:
            return request.path_url
        return str(super().request_url(request, proxies))

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        return super().send(
            request,
            stream=stream,
            timeout=timeout or self._timeout,
            verify=verify,
            cert=cert,
            proxies=proxies,
        )

    def close(self) -> None:
        for pool in self._routed.values():
            pool.close()
        self._routed.clear()
        super().close()


def new_session(settings: TransportSettings | None = None) -> requests.Session:
    """A fresh session for one API client."""
    settings = settings or TransportSettings()
    session = requests.Session()
    adapter = ConnectorAdapter(settings.timeout, settings.connect_to, settings.ca_bundle)
    session.mount("https://", adapter)
    session.mount("http://", ConnectorAdapter(settings.timeout, None))
    session.headers["User-Agent"] = settings.user_agent
    session.headers.update(settings.extra_headers)
    return session
