"""The Zendesk pager's HTTP client: one session, rate limits honoured, errors classified.

The pull needs each export page's ``after_cursor`` committed with its rows, which zenpy's
generators hide, so pulls go through this small client instead (zenpy stays for writes).
Rate limits are paced from the response headers so a run never causes a burst of 429s, and
every wait is charged to a per-run budget: past it the stream stops with its state kept
(``TransientApiError``) and resumes next cycle instead of holding the worker for an hour.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from connector.errors import FatalApiError, TransientApiError
from connector.http.redact import redact
from connector.http.session import TransportSettings, new_session

API_PREFIX = "/api/v2/"
INCREMENTAL_PREFIX = "/api/v2/incremental/"
USERS_CURSOR = "/api/v2/incremental/users/cursor"
DEFAULT_WINDOW_S = 60.0  # Zendesk limits are per minute; used when a reset time is missing
_LIMIT_HEADER = re.compile(r"(\w+)=(\d+)")


@dataclass(frozen=True)
class ZendeskLogin:
    """Who the connector is in Zendesk: an agent's API token, or an OAuth access token."""

    subdomain: str
    email: str
    auth: Literal["api_token", "oauth"] = "api_token"
    api_token: str | None = field(default=None, repr=False)
    oauth_token: str | None = field(default=None, repr=False)

    def secrets(self) -> tuple[str, ...]:
        """The values ``redact`` must mask in anything this login's client reports."""
        return tuple(s for s in (self.api_token, self.oauth_token) if s)


@dataclass
class CallStats:
    """What a run cost: requests sent (retries and 429s included), re-sends, seconds waited."""

    api_calls: int = 0
    retries: int = 0
    throttled: int = 0  # 429 answers received
    waited_s: float = 0.0  # rate-limit pacing and Retry-After waits (charged to the budget)
    backoff_s: float = 0.0  # waits between retries of 5xx / dropped connections


class _Retry(Exception):
    """A failure worth re-sending (5xx, reset connection, read timeout)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ZendeskClient:
    """GET JSON from the Support API on a session of its own; counts what it spends."""

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
            return retrying(self._get_once, path, dict(params or {}))
        except _Retry as exc:
            message = f"{exc} (gave up after {self.max_attempts} attempts)"
            raise TransientApiError(message, retry_after=exc.retry_after) from None

    # -- one attempt ---------------------------------------------------------------------
    def _get_once(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        while True:
            self._pace(path)
            response = self._send(path, params)
            self._note_limits(path, response)
            if response.status_code != 429:
                return self._decode(path, response)
            self.stats.throttled += 1
            self._wait(_retry_after(response) or DEFAULT_WINDOW_S, f"GET {path}: 429")

    def _send(self, path: str, params: dict[str, Any]) -> requests.Response:
        self.stats.api_calls += 1
        try:
            return self.session.get(self.base_url + path, params=params)
        except (
            requests.ConnectionError,
            requests.Timeout,
            requests.exceptions.ChunkedEncodingError,
        ) as exc:
            raise _Retry(self._redact(f"GET {path}: {type(exc).__name__}: {exc}")) from None

    def _decode(self, path: str, response: requests.Response) -> dict[str, Any]:
        status = response.status_code
        if status >= 500:
            raise _Retry(self._message(path, response), _retry_after(response))
        if status >= 400:
            error, _ = _error_fields(response)
            raise FatalApiError(self._message(path, response), code=error, status=status)
        try:
            body = response.json()
        except (ValueError, requests.RequestException) as exc:  # a body cut off half-way
            raise _Retry(self._redact(f"GET {path}: unreadable body: {exc}")) from None
        if not isinstance(body, dict):
            raise FatalApiError(f"GET {path}: expected a JSON object", status=status)
        return body

    def _message(self, path: str, response: requests.Response) -> str:
        error, description = _error_fields(response)
        text = f"Zendesk GET {path}: {response.status_code} {error or response.reason}"
        if description:
            text += f": {description}"
        return self._redact(text)

    def _redact(self, text: str) -> str:
        return redact(text, self.login.secrets())

    # -- rate limits ----------------------------------------------------------------------
    def _pace(self, path: str) -> None:
        """Sleep until every limit this path spends has reset, instead of earning a 429."""
        now = self._clock()
        until = max((self._blocked_until.get(n, 0.0) for n in _limits_for(path)), default=0.0)
        if until > now:
            self._wait(until - now, f"GET {path}: rate limit spent")

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
        description = f"{description or ''} {body['details']}".strip()
    return (str(error) if error else None), (str(description) if description else None)
