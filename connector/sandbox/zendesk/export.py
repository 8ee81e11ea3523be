"""The incremental exports: cursor-based (tickets, users) and time-based (organizations).

Incremental Exports reference: ``per_page`` up to 1,000 (default 1,000); ``start_time`` must be
more than a minute in the past and data for the most recent minute is not returned; a cursor
page carries ``after_cursor``/``after_url``/``before_cursor``/``before_url``/``end_of_stream`` and
its ``after_cursor`` is the start of the next export; a time-based page carries ``end_time``,
``next_page``, ``count`` and ``end_of_stream``, and ``end_time`` (the newest time in the page) is
the next ``start_time``, so records sharing that second come again on the next page, and a page
may exceed ``per_page`` when records share the last timestamp.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from connector.sandbox.zendesk.http import ApiError, int_arg
from connector.sandbox.zendesk.store import (
    ID_MASK,
    MICROS,
    Collection,
    Record,
    ZendeskStore,
    pack,
    unpack,
)

EXPORT_MAX = 1000
SIDELOADS = {  # include name -> (collection, ticket/user fields holding its ids)
    "users": ("users", ("requester_id", "submitter_id", "assignee_id")),
    "organizations": ("organizations", ("organization_id",)),
    "groups": ("groups", ("group_id",)),
}


def encode_cursor(key: int, backward: bool = False) -> str:
    """An opaque cursor in the API's style: base64 of ``<epoch>.<micros>||<id>|``."""
    ts_us, rid = unpack(key)
    text = f"{ts_us // MICROS}.{ts_us % MICROS:06d}||{rid}|{'<' if backward else ''}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, bool]:
    """The (packed key, backward?) a cursor stands for; a malformed cursor is a 422."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, rest = text.split("||", 1)
        rid_text, marker = rest.split("|", 1)
        seconds, _, micros = stamp.partition(".")
        ts_us = int(seconds) * MICROS + int((micros or "0").ljust(6, "0")[:6])
        return pack(ts_us, int(rid_text)), marker == "<"
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ApiError(422, {"error": "InvalidValue", "description": "Invalid cursor"}) from None


def start_time_us(args: Mapping[str, str], now_us: int, delay_us: int) -> int:
    """The ``start_time`` parameter in microseconds, checked as the API checks it."""
    raw = args.get("start_time")
    if raw in (None, ""):
        raise ApiError(422, {"error": "InvalidValue", "description": "start_time is required"})
    try:
        start = int(str(raw))
    except ValueError:
        raise ApiError(
            422, {"error": "InvalidValue", "description": "start_time must be an integer"}
        ) from None
    if start * MICROS > now_us - delay_us:
        raise ApiError(
            422,
            {
                "error": "InvalidValue",
                "description": "Too recent start_time. Use a start_time older than 1 minute",
            },
        )
    return max(0, start) * MICROS


def cursor_page(
    coll: Collection, args: Mapping[str, str], now_us: int, delay_us: int, url: str, key: str
) -> dict[str, Any]:
    """One page of a cursor-based export (tickets or users), in (updated_at, id) order."""
    per_page = int_arg(args, "per_page", EXPORT_MAX, 1, EXPORT_MAX)
    cutoff = coll.position_after(pack(now_us - delay_us, ID_MASK))
    cursor = args.get("cursor") or ""
    if cursor:
        position, backward = decode_cursor(cursor)
        if backward:
            stop = min(coll.position_from(position), cutoff)
            start = max(0, stop - per_page)
        else:
            start = coll.position_after(position)
            stop = min(cutoff, start + per_page)
    else:
        start = coll.position_from(pack(start_time_us(args, now_us, delay_us), 0))
        stop = min(cutoff, start + per_page)
    stop = max(start, stop)
    records = coll.in_update_order(start, stop)
    if args.get("exclude_deleted") == "true":
        records = [r for r in records if r.get("status") != "deleted"]
    after = encode_cursor(coll.keys[stop - 1]) if stop > start else (cursor or None)
    before = encode_cursor(coll.keys[start], True) if stop > start and start > 0 else None
    return {
        key: records,
        "after_url": f"{url}?{urlencode({'cursor': after})}" if after else None,
        "after_cursor": after,
        "before_url": f"{url}?{urlencode({'cursor': before})}" if before else None,
        "before_cursor": before,
        "end_of_stream": stop >= cutoff,
    }


def time_page(
    coll: Collection, args: Mapping[str, str], now_us: int, delay_us: int, url: str, key: str
) -> dict[str, Any]:
    """One page of a time-based export (organizations), with the API's boundary repeats."""
    per_page = int_arg(args, "per_page", EXPORT_MAX, 1, EXPORT_MAX)
    start_us = start_time_us(args, now_us, delay_us)
    cutoff = coll.position_after(pack(now_us - delay_us, ID_MASK))
    start = coll.position_from(pack(start_us, 0))
    stop = max(start, min(cutoff, start + per_page))
    end_time = start_us // MICROS
    if stop > start:
        end_time = unpack(coll.keys[stop - 1])[0] // MICROS
        if stop - start >= per_page:  # take the rest of the last second too
            stop = min(cutoff, coll.position_from(pack((end_time + 1) * MICROS, 0)))
    records = coll.in_update_order(start, stop)
    full = len(records) >= per_page
    if full and end_time == start_us // MICROS:
        end_time += 1  # the whole second is in this page: move on, or it would repeat forever
    query = {
        "start_time": end_time,
        **({"per_page": args["per_page"]} if args.get("per_page") else {}),
    }
    return {
        key: records,
        "next_page": f"{url}?{urlencode(query)}",
        "count": len(records),
        "end_time": end_time,
        "end_of_stream": not full,
    }


def sideload(store: ZendeskStore, records: list[Record], include: str | None) -> dict[str, Any]:
    """The ``include=`` side-loads (users, organizations, groups) the records refer to."""
    out: dict[str, Any] = {}
    for name in (include or "").split(","):
        spec = SIDELOADS.get(name.strip())
        if spec is None:
            continue
        coll = store.collection(spec[0])
        ids = sorted({r[f] for r in records for f in spec[1] if r.get(f) is not None})
        out[name.strip()] = [rec for rid in ids if (rec := coll.get(int(rid))) is not None]
    return out
