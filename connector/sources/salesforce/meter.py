"""What a Salesforce client has spent: API calls, logins, retries, and the org's allowance.

A response hook on the client's own session sees every response, simple-salesforce's internal
re-logins and retries included, so the counts are what the org counted. ``Sforce-Limit-Info``
(``api-usage=N/M``) rides on every data response; the quota guard reads the last one.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import requests

from connector.errors import QuotaExhausted
from connector.sources.salesforce.failures import retry_after_seconds

_USAGE = re.compile(r"(?:^|[^-])api-usage=(\d+)/(\d+)")
_LOGIN_PATHS = ("/services/oauth2/token", "/services/Soap/u/")


class CallMeter:
    """Counts calls by kind and keeps the last allowance and ``Retry-After`` seen."""

    def __init__(self, quota_reserve: float = 0.20) -> None:
        self.quota_reserve = quota_reserve
        self.api_calls = 0  # calls against the daily allowance (/services/data/vNN.N/...)
        self.logins = 0
        self.retries = 0
        self.api_usage: tuple[int, int] | None = None  # (used, max)
        self.last_status: int | None = None
        self.retry_after: float | None = None

    def observe(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        """The session's response hook."""
        self.last_status = response.status_code
        self.retry_after = retry_after_seconds(response.headers.get("Retry-After"))
        path = urlsplit(response.url).path
        if path.startswith("/services/data/v"):
            self.api_calls += 1
        elif path.startswith(_LOGIN_PATHS):
            self.logins += 1
        match = _USAGE.search(response.headers.get("Sforce-Limit-Info", ""))
        if match:
            self.api_usage = (int(match.group(1)), int(match.group(2)))

    def check_quota(self) -> None:
        """Raise before a call once the allowance left is under the reserve."""
        if self.api_usage is None:
            return
        used, limit = self.api_usage
        if limit > 0 and limit - used < self.quota_reserve * limit:
            raise QuotaExhausted(
                f"Salesforce API allowance below the reserve: {used} of {limit} calls used "
                f"today, keeping {self.quota_reserve:.0%} in reserve",
                code="QUOTA_RESERVE",
            )


def response_body(response: requests.Response) -> Any:
    """The JSON body, or the text when it is not JSON."""
    try:
        return response.json()
    except ValueError:
        return response.text


class Spent:
    """API calls made since the last time it was asked: each page reports its own."""

    def __init__(self, meter: CallMeter) -> None:
        self._meter = meter
        self._mark = meter.api_calls

    def __call__(self) -> int:
        now = self._meter.api_calls
        spent, self._mark = now - self._mark, now
        return spent
