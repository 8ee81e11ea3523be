"""The Zendesk pager's HTTP client: one session, rate limits honoured, errors classified.

The pull needs each export page's ``after_cursor`` committed with its rows, which zenpy's
generators hide, so pulls go through this small client instead; the push's writes (``post``,
``put``) share its retries, pacing and redaction.
Rate limits are paced from the response headers so a run never causes a burst of 429s, and
every wait is charged to a per-run budget: past it the stream stops with its state kept
(``TransientApiError``) and resumes next cycle instead of holding the worker for an hour.

A write whose answer is lost after it was sent (read timeout, connection dropped mid-answer,
a 5xx other than 503) may have been applied. Re-sending is harmless for an update but would queue
a second ``create_many`` job, so a caller can ask for ``resend_unsure=False``: such a write then
raises ``WriteOutcomeUnknown`` at once instead of being re-sent. 429s, 503s and connections that
never opened are re-sent either way: the server did not act on them.
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import requests
import urllib3.exceptions
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from connector.errors import FatalApiError, TransientApiError
from connector.http.redact import redact
from connector.http.session import TransportSettings, new_session
from connector.sources.base import Prefetch

API_PREFIX = "/api/v2/"
INCREMENTAL_PREFIX = "/api/v2/incremental/"
USERS_CURSOR = "/api/v2/incremental/users/cursor"
DEFAULT_WINDOW_S = 60.0  # Zendesk limits are per minute; used when a reset time is missing
_LIMIT_HEADER = re.compile(r"(\w+)=(\d+)")
Method = Literal["GET", "POST", "PUT"]


@dataclass(frozen=True)
class ZendeskLogin:
    """Who the connector is in Zendesk: an agent's API token, or an OAuth access token."""

    subdomain: str
    email: str
    auth: Literal["api_token", "oauth"] = "api_token"
    api_token: str | None = field(default=None, repr=False)
    oauth_token: str | None = field(default=None, repr=False)

    def secrets(self) -> tuple[str, ...]:
        """The values ``redact`` must mask in anything this login's client reports: the tokens,
        and the API token as the Basic credential it travels in (a proxy or an error page may
        echo ``Basic <base64>`` without its header name)."""
        found = [s for s in (self.api_token, self.oauth_token) if s]
        if self.api_token:
            pair = f"{self.email}/token:{self.api_token}".encode("latin-1", "replace")
            found.append(base64.b64encode(pair).decode("ascii"))
        return tuple(found)


@dataclass
class CallStats:
    """What a run cost: requests sent (retries and 429s included), re-sends, seconds waited."""

    api_calls: int = 0
    write_calls: int = 0  # of api_calls, the POSTs and PUTs
    retries: int = 0
    throttled: int = 0  # 429 answers received
    waited_s: float = 0.0  # rate-limit pacing and Retry-After waits (charged to the budget)
    backoff_s: float = 0.0  # waits between retries of 5xx / dropped connections


class WriteOutcomeUnknown(TransientApiError):
    """A write was sent but its answer was lost: it may or may not have been applied."""


class _Retry(Exception):
    """A failure worth re-sending (5xx, reset connection, read timeout)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ZendeskClient:
    """Call the Support API (JSON in, JSON out) on a session of its own; counts what it spends."""

    def __init__(
        self,
        login: ZendeskLogin,
        transport: TransportSettings | None = None,
        *,
        wait_budget_s: float = 300.0,
        max_attempts: int = 5,
        backoff_s: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.login = login
        self.base_url = f"https://{login.subdomain}.zendesk.com"
        self.wait_budget_s = wait_budget_s
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.stats = CallStats()
        self._sleep = sleep
        self._clock = clock
        self._blocked_until: dict[str, float] = {}  # limit name -> clock time it resets
        self._ahead = Prefetch()  # a GET sent early by prefetch_get, taken by the same GET
        self.session = new_session(transport)
        self.session.headers["Accept"] = "application/json"
        if login.auth == "oauth":
            if not login.oauth_token:
                raise ValueError("ZendeskLogin(auth='oauth') needs oauth_token")
            self.session.headers["Authorization"] = f"Bearer {login.oauth_token}"
        else:
            if not login.api_token:
                raise ValueError("ZendeskLogin(auth='api_token') needs api_token")
            self.session.auth = (f"{login.email}/token", login.api_token)

    def new_run(self) -> CallStats:
        """Start a run's wait budget and counters afresh; returns the previous run's."""
        previous, self.stats = self.stats, CallStats()
        return previous

    def close(self) -> None:
        """Release the session's connections."""
        self.session.close()

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """One API call (``/api/v2/...``), retried on transient failures, paced to the limits."""
        return self._call("GET", path, dict(params or {}), None, resend_unsure=True)

    def prefetch_get(self, path: str, params: Mapping[str, Any] | None = None) -> Prefetch | None:
        """Send ``get(path, params)``'s request now, in a thread; that ``get`` then takes its
        answer (and decodes it, retries, paces as ever). Declined (None) while a rate limit
        is spent: the ``get`` waits for it then. The call is counted when sent."""
        if not path.startswith(API_PREFIX):
            raise ValueError(f"not a Support API path: {path!r}")
        now = self._clock()
        if any(self._blocked_until.get(n, 0.0) > now for n in _limits_for(path)):
            return None
        url, query = self.base_url + path, dict(params or {}) or None
        self.stats.api_calls += 1
        self._ahead.start(
            ("GET", url, query), lambda: self.session.request("GET", url, params=query)
        )
        return self._ahead

    def post(
        self, path: str, body: Mapping[str, Any], *, resend_unsure: bool = True
    ) -> dict[str, Any]:
        """POST a JSON body; the decoded answer. ``resend_unsure=False``: see the module doc."""
        return self._call("POST", path, {}, body, resend_unsure=resend_unsure)

    def put(
        self, path: str, body: Mapping[str, Any], *, resend_unsure: bool = True
    ) -> dict[str, Any]:
        """PUT a JSON body; the decoded answer. ``resend_unsure=False``: see the module doc."""
        return self._call("PUT", path, {}, body, resend_unsure=resend_unsure)

    def _call(
        self,
        method: Method,
        path: str,
        params: dict[str, Any],
        body: Mapping[str, Any] | None,
        *,
        resend_unsure: bool,
    ) -> dict[str, Any]:
        if not path.startswith(API_PREFIX):
            raise ValueError(f"not a Support API path: {path!r}")
        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=self._backoff,
            retry=retry_if_exception_type(_Retry),
            sleep=self._sleep_backoff,
            before_sleep=self._count_retry,
            reraise=True,
        )
        try:
            return retrying(self._once, method, path, params, body, resend_unsure)
        except _Retry as exc:
            message = f"{exc} (gave up after {self.max_attempts} attempts)"
            raise TransientApiError(message, retry_after=exc.retry_after) from None

    # -- one attempt ---------------------------------------------------------------------
    def _once(
        self,
        method: Method,
        path: str,
        params: dict[str, Any],
        body: Mapping[str, Any] | None,
        resend_unsure: bool,
    ) -> dict[str, Any]:
        while True:
            self._pace(method, path)
            response = self._send(method, path, params, body, resend_unsure)
            self._note_limits(path, response)
            if response.status_code != 429:
                return self._decode(method, path, response, resend_unsure)
            self.stats.throttled += 1
            self._wait(_retry_after(response) or DEFAULT_WINDOW_S, f"{method} {path}: 429")

    def _send(
        self,
        method: Method,
        path: str,
        params: dict[str, Any],
        body: Mapping[str, Any] | None,
        resend_unsure: bool,
    ) -> requests.Response:
        url, query = self.base_url + path, params or None
        try:
            if method == "GET" and self._ahead.pending:
                taken, response = self._ahead.take(("GET", url, query))  # raises what it met
                if taken:
                    return response  # type: ignore[no-any-return]
            self.stats.api_calls += 1
            if method != "GET":
                self.stats.write_calls += 1
            return self.session.request(method, url, params=query, json=body)
        except (
            requests.ConnectionError,
            requests.Timeout,
            requests.exceptions.ChunkedEncodingError,
        ) as exc:
            message = self._redact(f"{method} {path}: {type(exc).__name__}: {exc}")
            if method != "GET" and not resend_unsure and not _never_sent(exc):
                raise _unknown(message) from None
            raise _Retry(message) from None

    def _decode(
        self, method: Method, path: str, response: requests.Response, resend_unsure: bool
    ) -> dict[str, Any]:
        status = response.status_code
        write = method != "GET"
        if status >= 500:
            message = self._message(method, path, response)
            if write and not resend_unsure and status != 503:  # 503: the server did not act
                raise _unknown(message, status)
            raise _Retry(message, _retry_after(response))
        if status >= 400:
            error, _ = _error_fields(response)
            raise FatalApiError(self._message(method, path, response), code=error, status=status)
        if write and (status == 204 or not response.content):
            return {}
        try:
            body = response.json()
        except (ValueError, requests.RequestException) as exc:  # a body cut off half-way
            message = self._redact(f"{method} {path}: unreadable body: {exc}")
            if write and not resend_unsure:
                raise _unknown(message, status) from None
            raise _Retry(message) from None
        if not isinstance(body, dict):
            raise FatalApiError(f"{method} {path}: expected a JSON object", status=status)
        return body

    def _message(self, method: Method, path: str, response: requests.Response) -> str:
        error, description = _error_fields(response)
        text = f"Zendesk {method} {path}: {response.status_code} {error or response.reason}"
        if description:
            text += f": {description}"
        return self._redact(text)

    def _redact(self, text: str) -> str:
        return redact(text, self.login.secrets())

    # -- rate limits ----------------------------------------------------------------------
    def _pace(self, method: Method, path: str) -> None:
        """Sleep until every limit this path spends has reset, instead of earning a 429."""
        now = self._clock()
        until = max((self._blocked_until.get(n, 0.0) for n in _limits_for(path)), default=0.0)
        if until > now:
            self._wait(until - now, f"{method} {path}: rate limit spent")

    def _note_limits(self, path: str, response: requests.Response) -> None:
        now = self._clock()
        for name, remaining, resets in _read_limits(response.headers):
            if remaining > 0:
                self._blocked_until.pop(name, None)
            else:
                self._blocked_until[name] = now + (resets or DEFAULT_WINDOW_S)

    def _wait(self, seconds: float, why: str) -> None:
        if self.stats.waited_s + seconds > self.wait_budget_s:
            raise TransientApiError(
                f"Zendesk {why}; waiting {seconds:.0f}s more would pass the run's "
                f"{self.wait_budget_s:.0f}s wait budget",
                status=429,
                retry_after=seconds,
            )
        self.stats.waited_s += seconds
        self._sleep(seconds)

    # -- retries --------------------------------------------------------------------------
    def _backoff(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        hinted = exc.retry_after if isinstance(exc, _Retry) and exc.retry_after else 0.0
        return float(max(hinted, min(60.0, self.backoff_s * 2 ** (state.attempt_number - 1))))

    def _sleep_backoff(self, seconds: float) -> None:
        self.stats.backoff_s += seconds
        self._sleep(seconds)

    def _count_retry(self, state: RetryCallState) -> None:
        self.stats.retries += 1


def _unknown(message: str, status: int | None = None) -> WriteOutcomeUnknown:
    return WriteOutcomeUnknown(f"{message}; not re-sent: it may have been applied", status=status)


def _never_sent(exc: requests.RequestException) -> bool:
    """Whether a failed request never reached the server (its connection did not open)."""
    if isinstance(exc, requests.ConnectTimeout | requests.exceptions.SSLError):
        return True
    if not isinstance(exc, requests.ConnectionError) or isinstance(exc, requests.ReadTimeout):
        return False
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(
        reason, urllib3.exceptions.NewConnectionError | urllib3.exceptions.ConnectTimeoutError
    )


def _limits_for(path: str) -> tuple[str, ...]:
    """The limits a request spends: the account's, plus the export limits on export paths."""
    names: tuple[str, ...] = ("account",)
    if path.startswith(INCREMENTAL_PREFIX):
        names += ("incremental-exports",)
        if path.removesuffix(".json") == USERS_CURSOR:
            names += ("incremental-exports-cursor",)
    return names


def _read_limits(headers: Mapping[str, str]) -> list[tuple[str, int, float | None]]:
    """(limit name, requests remaining, seconds to reset) for each limit header present."""
    out: list[tuple[str, int, float | None]] = []
    remaining = headers.get("X-Rate-Limit-Remaining") or headers.get("ratelimit-remaining")
    if remaining is not None and remaining.strip().isdigit():
        reset = headers.get("ratelimit-reset", "")
        out.append(("account", int(remaining), float(reset) if reset.isdigit() else None))
    for name in ("incremental-exports", "incremental-exports-cursor"):
        value = headers.get(f"Zendesk-RateLimit-{name}")
        if value:
            parts = {k: int(v) for k, v in _LIMIT_HEADER.findall(value)}
            if "remaining" in parts:
                resets = parts.get("resets")
                out.append((name, parts["remaining"], float(resets) if resets else None))
    return out


def _retry_after(response: requests.Response) -> float | None:
    """``Retry-After`` in seconds (Zendesk sends whole seconds), or None."""
    raw = response.headers.get("Retry-After", "").strip()
    try:
        return max(0.0, float(raw)) if raw else None
    except ValueError:
        return None


def _error_fields(response: requests.Response) -> tuple[str | None, str | None]:
    """Zendesk's ``error`` and ``description`` (or OAuth's ``error_description``)."""
    try:
        body = response.json()
    except ValueError:
        return None, None
    if not isinstance(body, dict):
        return None, None
    error, description = body.get("error"), body.get("description")
    nested = error if isinstance(error, dict) else None
    if nested is not None:  # some endpoints nest {"error": {"title", "message"}}
        error, description = nested.get("title"), nested.get("message") or description
    description = description or body.get("error_description")
    if body.get("details"):
        description = f"{description or ''} {details_text(body['details'])}".strip()
    return (str(error) if error else None), (str(description) if description else None)


def details_text(details: Any) -> str:
    """A 422's ``details`` as one line: ``{"base": [{"description": "X"}]}`` -> ``base: X``."""
    if not isinstance(details, dict):
        return str(details)
    parts: list[str] = []
    for name, items in details.items():
        for item in items if isinstance(items, list) else [items]:
            text = item.get("description") if isinstance(item, dict) else None
            parts.append(f"{name}: {text if text else item}")
    return "; ".join(parts)
