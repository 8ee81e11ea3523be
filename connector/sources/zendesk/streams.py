"""Zendesk streams: tickets and users by cursor export, organizations by time, groups listed.

Every page carries the state that is true once its rows are stored, so a kill between pages
resumes where it stopped. The export cursors live server-side and already hold back the most
recent minute, so ``run_start`` needs no cap here.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from functools import partial
from typing import Any

from connector.errors import ConfigError, FatalApiError
from connector.model import JsonDict, Page, StreamSpec
from connector.sources.base import Prefetch, paginate
from connector.sources.zendesk.client import ZendeskClient
from connector.sources.zendesk.records import RecordParser, record_second

CURSOR_EXPORTS = {
    "tickets": "/api/v2/incremental/tickets/cursor.json",
    "users": "/api/v2/incremental/users/cursor.json",
}
ORGANIZATIONS_EXPORT = "/api/v2/incremental/organizations.json"
LISTS = {name: f"/api/v2/{name}.json" for name in ("users", "organizations", "groups")}
ENDPOINTS = ("tickets", "users", "organizations", "groups")
EXPORT_PAGE = 1000  # the exports' maximum per_page
LIST_PAGE = 100  # the list endpoints' maximum page[size]


class ZendeskSource:
    """Reads the Zendesk streams named by ``spec.options["endpoint"]``."""

    def __init__(self, client: ZendeskClient, *, start_time: int = 0) -> None:
        self.client = client
        self.start_time = start_time  # epoch seconds the first export starts from

    def read(
        self, stream: StreamSpec, state: JsonDict | None, *, run_start: datetime, full: bool
    ) -> Iterator[Page]:
        """Yield pages from the saved state onward (``full``: from the configured start)."""
        endpoint = _endpoint(stream)
        parser = RecordParser(stream, endpoint)
        saved = {} if full else dict(state or {})
        if endpoint in CURSOR_EXPORTS:
            return self._cursor_export(stream, endpoint, parser, saved)
        if endpoint == "organizations":
            return self._time_export(stream, parser, saved)
        return self._listing(endpoint, parser, saved)

    def all_ids(self, stream: StreamSpec) -> Iterator[Sequence[str]]:
        """Live ids in batches: list endpoints, or for tickets the export without deletions.

        Tickets come from the export because the list endpoint leaves archived tickets out; a
        ticket updated in the export's held-back last minute is missing from it, and the next
        pull brings it back as live.
        """
        endpoint = _endpoint(stream)
        if endpoint == "tickets":
            state: JsonDict = {}
            params = {"exclude_deleted": "true"}
            for body in self._cursor_bodies(stream, "tickets", state, params):
                yield [str(t["id"]) for t in body.get("tickets") or () if t.get("id") is not None]
            return
        for body in self._list_bodies(LISTS[endpoint]):
            yield [str(r["id"]) for r in body.get(endpoint) or () if r.get("id") is not None]

    # -- cursor-based exports (tickets, users) ----------------------------------------------
    def _cursor_export(
        self, stream: StreamSpec, endpoint: str, parser: RecordParser, state: JsonDict
    ) -> Iterator[Page]:
        calls = self.client.stats.api_calls
        for body in self._cursor_bodies(stream, endpoint, state, {}):
            rows, issues = parser.rows(body.get(endpoint) or ())
            used, calls = self.client.stats.api_calls - calls, self.client.stats.api_calls
            done = bool(body.get("end_of_stream"))
            yield Page(rows, dict(state), api_calls=used, issues=issues, done=done)

    def _cursor_bodies(
        self, stream: StreamSpec, endpoint: str, state: JsonDict, extra: dict[str, str]
    ) -> Iterator[dict[str, Any]]:
        """Export bodies to ``end_of_stream``; ``state`` is updated in place after each."""
        state.setdefault("start_time", self.start_time)
        state.setdefault("after_cursor", None)
        path = CURSOR_EXPORTS[endpoint]
        params: dict[str, Any] = {"per_page": _per_page(stream, EXPORT_PAGE), **extra}

        def first() -> dict[str, Any]:
            cursor = state["after_cursor"]
            start = {"cursor": cursor} if cursor else {"start_time": state["start_time"]}
            return self._export(path, {**params, **start}, endpoint)

        def fetch(cursor: str) -> dict[str, Any]:
            return self.client.get(path, {**params, "cursor": cursor})

        def prefetch(cursor: str) -> Prefetch | None:
            return self.client.prefetch_get(path, {**params, "cursor": cursor})

        for body in paginate(first, fetch, _after_cursor, prefetch=prefetch):
            state["after_cursor"] = body.get("after_cursor") or state["after_cursor"]
            yield body

    # -- time-based export (organizations) -------------------------------------------------
    def _time_export(
        self, stream: StreamSpec, parser: RecordParser, state: JsonDict
    ) -> Iterator[Page]:
        """Pages by ``start_time``; repeats of the boundary second are dropped, across runs too.

        The API hands back the page's last second again as the next start. A record is a repeat
        when the same id comes with the same ``updated_at`` second; the ids at the saved start
        second are kept in state so the next cycle's idle read stores nothing.
        """
        start = int(state.get("start_time", self.start_time))
        boundary = [int(i) for i in state.get("boundary_ids", ())]
        seen = {(i, start) for i in boundary}
        per_page = _per_page(stream, EXPORT_PAGE)

        def fetch(start_time: str) -> dict[str, Any]:
            params = {"start_time": int(start_time), "per_page": per_page}
            return self._export(ORGANIZATIONS_EXPORT, params, "organizations")

        def prefetch(start_time: str) -> Prefetch | None:
            params = {"start_time": int(start_time), "per_page": per_page}
            return self.client.prefetch_get(ORGANIZATIONS_EXPORT, params)

        calls = self.client.stats.api_calls
        pages = paginate(partial(fetch, str(start)), fetch, _end_time, prefetch=prefetch)
        for body in pages:
            fresh, boundary, start = _fresh(body, seen, start, boundary)
            rows, issues = parser.rows(fresh)
            used, calls = self.client.stats.api_calls - calls, self.client.stats.api_calls
            state = {"start_time": start, "boundary_ids": boundary}
            done = bool(body.get("end_of_stream"))
            yield Page(rows, state, api_calls=used, issues=issues, done=done)

    def _export(self, path: str, params: dict[str, Any], key: str) -> dict[str, Any]:
        """One export call; a start_time the API finds too recent reads as "nothing new yet"."""
        try:
            return self.client.get(path, params)
        except FatalApiError as err:
            if not _too_recent(err):
                raise
            start = params.get("start_time")
            return {key: [], "after_cursor": None, "end_time": start, "end_of_stream": True}

    # -- listed (groups, and the id sweep) -------------------------------------------------
    def _listing(self, endpoint: str, parser: RecordParser, state: JsonDict) -> Iterator[Page]:
        """A full listing, passing on only records new or changed since the last one.

        The list endpoints have no incremental form; remembering each id's ``updated_at`` keeps
        an idle pull at zero records read into the store, like the exports.
        """
        seen: dict[str, str] = dict(state.get("seen") or {})
        current: dict[str, str] = {}
        calls = self.client.stats.api_calls
        for body in self._list_bodies(LISTS[endpoint]):
            records = body.get(endpoint) or ()
            for r in records:
                current[str(r.get("id"))] = str(r.get("updated_at"))
            changed = [r for r in records if seen.get(str(r.get("id"))) != str(r.get("updated_at"))]
            rows, issues = parser.rows(changed)
            used, calls = self.client.stats.api_calls - calls, self.client.stats.api_calls
            done = _list_after(body) is None
            yield Page(
                rows,
                {"seen": current} if done else dict(state),
                api_calls=used,
                issues=issues,
                done=done,
            )

    def _list_bodies(self, path: str) -> Iterator[dict[str, Any]]:
        """A list endpoint, cursor-paginated (``page[size]``/``page[after]``) to the end."""
        return paginate(
            lambda: self.client.get(path, {"page[size]": LIST_PAGE}),
            lambda after: self.client.get(path, {"page[size]": LIST_PAGE, "page[after]": after}),
            _list_after,
        )


def _after_cursor(body: dict[str, Any]) -> str | None:
    if body.get("end_of_stream"):
        return None
    cursor = body.get("after_cursor")
    if not cursor:
        raise FatalApiError("Zendesk export: no after_cursor before end_of_stream")
    return str(cursor)


def _end_time(body: dict[str, Any]) -> str | None:
    return None if body.get("end_of_stream") else str(body.get("end_time"))


def _list_after(body: dict[str, Any]) -> str | None:
    meta = body.get("meta") or {}
    after = meta.get("after_cursor")
    return str(after) if meta.get("has_more") and after else None


def _fresh(
    body: dict[str, Any], seen: set[tuple[int, int]], start: int, boundary: list[int]
) -> tuple[list[dict[str, Any]], list[int], int]:
    """(records not seen before, ids at the new end second, the new end second)."""
    end = int(body.get("end_time") or start)
    fresh: list[dict[str, Any]] = []
    at_end = set(boundary) if end == start else set()
    for record in body.get("organizations") or ():
        second, rid = record_second(record), record.get("id")
        if isinstance(rid, int) and second is not None:
            if (rid, second) in seen:
                continue
            seen.add((rid, second))
            if second == end:
                at_end.add(rid)
        fresh.append(record)
    return fresh, sorted(at_end), end


def _too_recent(err: FatalApiError) -> bool:
    """The exports refuse a start_time within the last minute: nothing new to read yet."""
    return err.status == 422 and "too recent" in str(err).lower()


def _endpoint(stream: StreamSpec) -> str:
    endpoint = stream.options.get("endpoint")
    if endpoint not in ENDPOINTS:
        raise ConfigError(
            stream.origin, "options.endpoint", f"must be one of {', '.join(ENDPOINTS)}"
        )
    return str(endpoint)


def _per_page(stream: StreamSpec, default: int) -> int:
    value = stream.options.get("per_page", default)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= default:
        raise ConfigError(stream.origin, "options.per_page", f"must be 1..{default}")
    return value
