"""Zendesk rate limits: the account-wide limit and the incremental-export endpoint limits.

Rate limits reference: every response carries ``X-Rate-Limit``/``X-Rate-Limit-Remaining`` for
"the number of requests remaining in the current minute" (Ticketing APIs add ``ratelimit-limit``,
``ratelimit-remaining`` and ``ratelimit-reset``); a request over a limit answers 429 with
``Retry-After`` in seconds. ``GET /api/v2/incremental/*`` has its own limit of 10 requests a
minute, reported in ``Zendesk-RateLimit-incremental-exports: total=..; remaining=..; resets=..``;
the users cursor export also has its own 20-a-minute limit, reported in
``Zendesk-RateLimit-incremental-exports-cursor``. Windows are whole clock minutes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from connector.sandbox.state import SandboxConfig
from connector.sandbox.zendesk.http import ApiError
from connector.sandbox.zendesk.store import MICROS

MINUTE_US = 60 * MICROS
INCREMENTAL_PREFIX = "/api/v2/incremental/"
USERS_CURSOR = "/api/v2/incremental/users/cursor"


@dataclass
class Bucket:
    """Requests counted in the current clock minute."""

    window: int = -1
    used: int = 0

    def remaining(self, total: int, now_us: int) -> int:
        self._roll(now_us)
        return max(0, total - self.used)

    def take(self, now_us: int) -> None:
        self._roll(now_us)
        self.used += 1

    def _roll(self, now_us: int) -> None:
        window = now_us // MINUTE_US
        if window != self.window:
            self.window, self.used = window, 0


def resets_in(now_us: int) -> int:
    """Whole seconds until the current minute window ends (at least 1)."""
    return max(1, math.ceil((MINUTE_US - now_us % MINUTE_US) / MICROS))


@dataclass
class RateLimiter:
    """Counts requests per limit and decides 429s; reads the limits from the config each time."""

    config: SandboxConfig
    buckets: dict[str, Bucket] = field(default_factory=dict)

    def limits_for(self, path: str) -> list[tuple[str, int]]:
        """(limit name, requests a minute) that apply to a path; 0 means off."""
        out = [("account", self.config.zendesk_per_min)]
        if path.startswith(INCREMENTAL_PREFIX):
            per_min = self.config.zendesk_incremental_per_min
            out.append(("incremental-exports", per_min))
            if path.removesuffix(".json") == USERS_CURSOR:
                out.append(("incremental-exports-cursor", 2 * per_min))
        return [(name, total) for name, total in out if total > 0]

    def admit(self, path: str, now_us: int) -> dict[str, str]:
        """Count one request and return the rate headers, or raise the 429 with them."""
        limits = self.limits_for(path)
        for name, total in limits:
            if self._bucket(name).remaining(total, now_us) <= 0:
                headers = self.headers(limits, now_us)
                headers["Retry-After"] = str(resets_in(now_us))
                raise ApiError(
                    429,
                    {
                        "error": "APIRateLimitExceeded",
                        "description": "Number of allowed API requests per minute exceeded",
                    },
                    headers,
                )
        for name, _ in limits:
            self._bucket(name).take(now_us)
        return self.headers(limits, now_us)

    def headers(self, limits: list[tuple[str, int]], now_us: int) -> dict[str, str]:
        out: dict[str, str] = {}
        reset = str(resets_in(now_us))
        for name, total in limits:
            left = self._bucket(name).remaining(total, now_us)
            if name == "account":
                out.update(
                    {
                        "X-Rate-Limit": str(total),
                        "X-Rate-Limit-Remaining": str(left),
                        "ratelimit-limit": str(total),
                        "ratelimit-remaining": str(left),
                        "ratelimit-reset": reset,
                    }
                )
            else:
                out[f"Zendesk-RateLimit-{name}"] = (
                    f"total={total}; remaining={left}; resets={reset}"
                )
        return out

    def clear(self) -> None:
        self.buckets.clear()

    def _bucket(self, name: str) -> Bucket:
        return self.buckets.setdefault(name, Bucket())
