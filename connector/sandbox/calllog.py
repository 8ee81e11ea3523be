"""The sandbox's call log: one entry per request, read by tests and benchmarks to count calls."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Call:
    """One request as the sandbox answered it."""

    seq: int
    at: float
    api: str  # "salesforce", "zendesk" or "admin"
    method: str
    host: str
    path: str
    query: str
    status: int
    records_read: int
    records_written: int
    duration_ms: float

    @property
    def is_write(self) -> bool:
        return (
            self.records_written > 0
            or self.method in {"POST", "PATCH", "PUT", "DELETE"}
            and (not _is_read_only_post(self.path))
        )


def _is_read_only_post(path: str) -> bool:
    """POSTs that do not change data: logins, token grants, Bulk query job creation."""
    return (
        path.startswith("/services/Soap/u/")
        or path == "/services/oauth2/token"
        or "/jobs/query" in path
    )


class CallLog:
    """Append-only, thread-safe list of calls; admin calls are recorded but excluded by default."""

    def __init__(self) -> None:
        self._calls: list[Call] = []
        self._lock = threading.Lock()

    def record(self, **fields: Any) -> Call:
        with self._lock:
            call = Call(seq=len(self._calls) + 1, at=time.time(), **fields)
            self._calls.append(call)
            return call

    def calls(
        self, api: str | None = None, where: Callable[[Call], bool] | None = None
    ) -> list[Call]:
        with self._lock:
            out = (
                [c for c in self._calls if c.api != "admin"]
                if api is None
                else [c for c in self._calls if c.api == api]
            )
        return [c for c in out if where(c)] if where else out

    def writes(self, api: str | None = None) -> list[Call]:
        return self.calls(api, where=lambda c: c.is_write)

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()

    def as_dicts(self, api: str | None = None) -> list[dict[str, Any]]:
        return [asdict(c) for c in self.calls(api)]
