"""The sandbox's call log read back: what kind each call was, and which stream spent it.

The pull reads its streams one after another on one thread, so a Salesforce call belongs to the
stream whose query (or ``COUNT()``) came last; a Zendesk call names its endpoint in its path.
Logins, describes and discovery made before the streams are the run's fixed overhead.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from connector.sandbox.calllog import Call

SOQL_PAGE = 2000  # REST query rows a page (batchSize=2000, the connector's setting)
BULK_PAGE = 50_000  # Bulk 2.0 result rows a page: the sandbox's default (Salesforce's is by size)
EXPORT_PAGE = 1000  # Zendesk incremental exports, per_page maximum
LIST_PAGE = 100  # Zendesk list endpoints, page[size] maximum
FIXED_KINDS = ("login", "describe", "discovery")

_FROM = re.compile(r"\bFROM\s+(\w+)", re.IGNORECASE)
_DESCRIBE = re.compile(r"/sobjects/(\w+)/describe")
_ZENDESK = re.compile(r"^/api/v2/(?:incremental/)?(\w+)")


def kind(call: Mapping[str, Any]) -> str:
    """login, describe, discovery, count, query, query_more, bulk_*, export or list."""
    path = str(call["path"])
    if call["api"] == "zendesk":
        if path.startswith("/api/v2/incremental/"):
            return "export"
        return "discovery" if path.startswith("/api/v2/ticket_fields") else "list"
    if path.startswith(("/services/oauth2/", "/services/Soap/")):
        return "login"
    if "/jobs/query" in path:
        if call["method"] == "POST":
            return "bulk_create"
        return "bulk_results" if path.endswith("/results") else "bulk_status"
    if path.endswith(("/query/", "/queryAll/")):
        return "count" if "COUNT()" in _soql(call).upper() else "query"
    if "/query/" in path or "/queryAll/" in path:
        return "query_more"
    return "describe" if _DESCRIBE.search(path) else "discovery"


def _soql(call: Mapping[str, Any]) -> str:
    return (parse_qs(str(call["query"])).get("q") or [""])[0]


@dataclass
class StreamCalls:
    """The calls one stream spent, by kind, and the records the sandbox served it."""

    kinds: Counter[str] = field(default_factory=Counter)
    records_read: int = 0

    @property
    def total(self) -> int:
        return sum(self.kinds.values())

    @property
    def path(self) -> str:
        """How the stream was read: rest, bulk, export, time export or list."""
        if self.kinds["bulk_create"]:
            return "bulk"
        if self.kinds["export"]:
            return "export"
        if self.kinds["time_export"]:
            return "time export"
        return "list" if self.kinds["list"] else "rest"


@dataclass
class Attributed:
    """A phase's calls: per stream, the fixed overhead by kind, and the writes."""

    streams: dict[str, StreamCalls]
    fixed: Counter[str]
    writes: int
    serving_s: float  # the sandbox's own time answering them (its call log's duration_ms)

    @property
    def total(self) -> int:
        return sum(s.total for s in self.streams.values()) + sum(self.fixed.values())


def attribute(
    calls: Iterable[Mapping[str, Any]],
    objects: Mapping[str, str],
    endpoints: Mapping[str, str],
) -> Attributed:
    """Split a phase's calls among streams (``objects``: sObject -> stream, any case;
    ``endpoints``: Zendesk endpoint -> stream); what no stream spent is fixed overhead."""
    by_object = {k.lower(): v for k, v in objects.items()}
    streams: dict[str, StreamCalls] = {}
    fixed: Counter[str] = Counter()
    writes = 0
    serving_ms = 0.0
    current: str | None = None
    for call in sorted(calls, key=lambda c: int(c["seq"])):
        what = kind(call)
        writes += Call(**call).is_write
        serving_ms += float(call["duration_ms"])
        stream: str | None = None
        if call["api"] == "zendesk" and what in ("export", "list"):
            found = _ZENDESK.match(str(call["path"]))
            stream = endpoints.get(found.group(1)) if found else None
            if stream and found and found.group(1) == "organizations" and what == "export":
                what = "time_export"
        elif what in ("count", "query"):
            found = _FROM.search(_soql(call))
            current = by_object.get(found.group(1).lower()) if found else None
            stream = current
        elif what == "query_more" or what.startswith("bulk_"):
            stream = current
        elif what == "describe" and current is not None:
            found = _DESCRIBE.search(str(call["path"]))
            if found and by_object.get(found.group(1).lower()) == current:
                stream = current  # read during the stream (Bulk results need field types)
        if stream is None:
            fixed[what] += 1
            continue
        entry = streams.setdefault(stream, StreamCalls())
        entry.kinds[what] += 1
        entry.records_read += int(call["records_read"])
    return Attributed(streams, fixed, writes, round(serving_ms / 1000, 3))


def floor(path: str, records: int) -> int:
    """The fewest calls that can read ``records`` rows by ``path`` (one, when there are none)."""
    if path == "bulk":  # create the job, one status poll, the result pages
        return 2 + max(1, math.ceil(records / BULK_PAGE))
    per_page = {"rest": SOQL_PAGE, "export": EXPORT_PAGE, "time export": EXPORT_PAGE}
    return max(1, math.ceil(records / per_page.get(path, LIST_PAGE)))
