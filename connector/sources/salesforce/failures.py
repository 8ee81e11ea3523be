"""Classify a failed Salesforce call by what the caller does about it, and retry the transient.

Checked against the REST API's "Status Codes and Error Responses": 401 is an expired or invalid
session (log in again), 403 ``REQUEST_LIMIT_EXCEEDED`` is the org's API limit (*TotalRequests*:
the daily allowance, stop and keep state; *ConcurrentRequests*: back off), 5xx is Salesforce's
side, 429 a rate limit. ``UNABLE_TO_LOCK_ROW`` is lock contention that clears on retry. Any
other 4xx (``INVALID_FIELD``, ``MALFORMED_QUERY``, ``INVALID_TYPE``...) will fail again.
Every message is redacted: bodies and URLs can echo credentials.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, TypeVar

import requests
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

from connector.errors import ApiError, FatalApiError, QuotaExhausted, TransientApiError
from connector.http.redact import redact

T = TypeVar("T")
SESSION_EXPIRED = "INVALID_SESSION_ID"
LIMIT_EXCEEDED = "REQUEST_LIMIT_EXCEEDED"
_TRANSIENT_CODES = {"UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE"}
_TRANSIENT_TRANSPORT = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


class SessionExpired(ApiError):
    """401 ``INVALID_SESSION_ID``: the client logs in again once and repeats the call."""


def error_detail(body: Any) -> tuple[str | None, str]:
    """``(errorCode, message)`` from a REST error list, an OAuth error, or plain text."""
    if isinstance(body, list) and body and isinstance(body[0], dict):
        first = body[0]
        return first.get("errorCode"), str(first.get("message", ""))
    if isinstance(body, dict):
        code = body.get("errorCode") or body.get("error")
        return code, str(body.get("message") or body.get("error_description") or "")
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    return None, str(body or "")[:500]


def classify(
    status: int,
    body: Any,
    *,
    what: str,
    secrets: Iterable[str] = (),
    retry_after: float | None = None,
) -> ApiError:
    """The connector error for one failed response (status and body ``errorCode``)."""
    code, detail = error_detail(body)
    message = redact(f"{what}: HTTP {status} {code or ''}: {detail}".replace("  ", " "), secrets)
    kwargs: dict[str, Any] = {"code": code, "status": status, "retry_after": retry_after}
    if status == 401 or code == SESSION_EXPIRED:
        return SessionExpired(message, **kwargs)
    if code == LIMIT_EXCEEDED:
        if "TotalRequests" in detail:
            return QuotaExhausted(message, **kwargs)
        return TransientApiError(message, **kwargs)
    if code in _TRANSIENT_CODES or status == 429 or status >= 500:
        return TransientApiError(message, **kwargs)
    return FatalApiError(message, **kwargs)


def transport_error(
    exc: requests.RequestException, *, what: str, secrets: Iterable[str]
) -> ApiError:
    """A call that got no usable answer: dropped, reset or timed out is worth retrying."""
    message = redact(f"{what}: {type(exc).__name__}: {exc}", secrets)
    if isinstance(exc, _TRANSIENT_TRANSPORT):
        return TransientApiError(message, code=type(exc).__name__)
    return FatalApiError(message, code=type(exc).__name__)


def retry_after_seconds(
    value: str | None, now: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> float | None:
    """``Retry-After`` as seconds: a number, or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - now()).total_seconds())


class RetryPolicy:
    """Bounded attempts, exponential backoff with jitter, at least ``Retry-After`` when given."""

    def __init__(
        self,
        attempts: int = 5,
        initial: float = 0.5,
        maximum: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.attempts, self.maximum, self.sleep = attempts, maximum, sleep
        self._backoff = wait_exponential(multiplier=initial, max=maximum) + wait_random(0, initial)

    def _wait(self, state: RetryCallState) -> float:
        wait = min(float(self._backoff(state)), self.maximum)
        exc = state.outcome.exception() if state.outcome else None
        hinted = getattr(exc, "retry_after", None)
        return max(wait, min(float(hinted), self.maximum)) if hinted else wait

    def call(self, fn: Callable[[], T], on_retry: Callable[[BaseException], None]) -> T:
        """Run ``fn``, retrying ``TransientApiError``; the last one is raised as it is."""

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            if exc is not None:
                on_retry(exc)

        retrying = Retrying(
            retry=retry_if_exception_type(TransientApiError),
            stop=stop_after_attempt(self.attempts),
            wait=self._wait,
            sleep=self.sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        return retrying(fn)
