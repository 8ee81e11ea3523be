"""Logging for the CLI and the service: text or JSON lines, with every secret redacted.

Redaction happens in the handler, so it covers every library's records (requests, urllib3,
simple-salesforce, APScheduler), not only ours: errors from the clients carry URLs and bodies.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import IO, Literal

from connector.http.redact import redact

LogFormat = Literal["text", "json"]
_sources: list[Callable[[], Iterable[str]]] = []


def add_secrets(source: Callable[[], Iterable[str]]) -> None:
    """Register a provider of secrets (asked at each record: tokens change on re-login)."""
    _sources.append(source)


def _secrets() -> list[str]:
    found: list[str] = []
    for source in _sources:
        try:
            found.extend(s for s in source() if s)
        except Exception:  # noqa: S112 (a provider must never break logging, nor log from it)
            continue
    return found


class _Redacting(logging.Formatter):
    def __init__(self, fmt: LogFormat) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.kind = fmt

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + self.formatException(record.exc_info)
        message = redact(message, _secrets())
        if self.kind == "json":
            return json.dumps(
                {
                    "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
                    "level": record.levelname.lower(),
                    "logger": record.name,
                    "message": message,
                }
            )
        stamp = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%d %H:%M:%S")
        return f"{stamp} {record.levelname} {record.name}: {message}"


def setup(level: str = "warning", fmt: LogFormat = "text", stream: IO[str] | None = None) -> None:
    """One handler on the root logger (replacing any earlier one of ours)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_cs_connector", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(_Redacting(fmt))
    handler._cs_connector = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())
