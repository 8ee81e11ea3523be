"""Wire helpers of the Zendesk emulator: error bodies, JSON responses and list pagination.

Error bodies are the ones the Support API sends (checked against the API reference and real
responses quoted in client issues): ``RecordNotFound``/``InvalidEndpoint`` 404s, ``RecordInvalid``
422s with ``details``, ``Couldn't authenticate you`` 401s. List endpoints accept both of the
documented pagination styles: cursor (``page[size]``, ``page[after]``, with ``meta``/``links``) and
offset (``page``, ``per_page``, with ``next_page``/``previous_page``/``count``).
"""

from __future__ import annotations

import base64
import binascii
import json
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from werkzeug.wrappers import Response

Record = dict[str, Any]
JSON_TYPE = "application/json; charset=utf-8"
LIST_MAX = 100  # "Returns a maximum of 100 records per page" (list endpoints)
# Records are plain trees (no cycles): skipping the cycle check saves time on 1,000-ticket pages.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, check_circular=False)


class ApiError(Exception):
    """An error answer: HTTP status, JSON body and extra headers."""

    def __init__(
        self, status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(f"{status} {body}")
        self.status = status
        self.body = dict(body)
        self.headers = dict(headers or {})


def not_found() -> ApiError:
    return ApiError(404, {"error": "RecordNotFound", "description": "Not found"})


def invalid_endpoint() -> ApiError:
    return ApiError(404, {"error": "InvalidEndpoint", "description": "Not found"})


def record_invalid(field: str, description: str, **extra: Any) -> ApiError:
    """422 RecordInvalid with one error under ``details[field]``."""
    return ApiError(
        422,
        {
            "error": "RecordInvalid",
            "description": "Record validation errors",
            "details": {field: [{"description": description, **extra}]},
        },
    )


def bad_request(error: str, description: str, **extra: Any) -> ApiError:
    return ApiError(400, {"error": error, "description": description, **extra})


def json_response(
    body: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """Compact JSON, as the API sends it."""
    data = _ENCODER.encode(body).encode()
    return Response(data, status=status, headers=dict(headers or {}), content_type=JSON_TYPE)


def int_arg(
    args: Mapping[str, str], name: str, default: int, low: int = 1, high: int | None = None
) -> int:
    """An integer query parameter clamped to [low, high]; a bad value is a 400."""
    raw = args.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(str(raw))
    except ValueError:
        raise bad_request("InvalidPaginationParameter", f"{name} must be an integer") from None
    value = max(low, value)
    return min(high, value) if high is not None else value


def id_list(raw: str | None) -> list[int]:
    """Comma-separated ids (``ids=1,2,3``); non-numbers are ignored, as the API does."""
    out: list[int] = []
    for part in (raw or "").split(","):
        part = part.strip()
        if part.isdigit():
            out.append(int(part))
    return out


def _encode_id(record_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": "id", "v": record_id}).encode()).decode()


def _decode_id(cursor: str) -> int:
    try:
        return int(json.loads(base64.urlsafe_b64decode(cursor.encode()))["v"])
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise bad_request("InvalidPaginationParameter", "page[after] is invalid") from None


def is_cursor_request(args: Mapping[str, str]) -> bool:
    return any(k in args for k in ("page[size]", "page[after]", "page[before]"))


def paginate(
    ids: Sequence[int], fetch: Callable[[int], Record], args: Mapping[str, str], url: str, key: str
) -> dict[str, Any]:
    """One page of a list endpoint, cursor- or offset-paginated as the request asks."""
    if is_cursor_request(args):
        return _cursor_page(ids, fetch, args, url, key)
    return _offset_page(ids, fetch, args, url, key)


def _cursor_page(
    ids: Sequence[int], fetch: Callable[[int], Record], args: Mapping[str, str], url: str, key: str
) -> dict[str, Any]:
    size = int_arg(args, "page[size]", LIST_MAX, 1, LIST_MAX)
    if args.get("page[before]"):
        stop = bisect_left(ids, _decode_id(args["page[before]"]))
        start = max(0, stop - size)
    else:
        start = bisect_right(ids, _decode_id(args["page[after]"])) if args.get("page[after]") else 0
        stop = min(len(ids), start + size)
    page = [fetch(rid) for rid in ids[start:stop]]
    after = _encode_id(ids[stop - 1]) if page else None
    before = _encode_id(ids[start]) if page else None
    has_more = stop < len(ids)
    return {
        key: page,
        "meta": {"has_more": has_more, "after_cursor": after, "before_cursor": before},
        "links": {
            "next": f"{url}?{urlencode({'page[size]': size, 'page[after]': after})}"
            if has_more and after
            else None,
            "prev": f"{url}?{urlencode({'page[size]': size, 'page[before]': before})}"
            if start > 0 and before
            else None,
        },
    }


def _offset_page(
    ids: Sequence[int], fetch: Callable[[int], Record], args: Mapping[str, str], url: str, key: str
) -> dict[str, Any]:
    per_page = int_arg(args, "per_page", LIST_MAX, 1, LIST_MAX)
    page_no = int_arg(args, "page", 1)
    start = (page_no - 1) * per_page
    page = [fetch(rid) for rid in ids[start : start + per_page]]
    more = start + per_page < len(ids)
    return {
        key: page,
        "next_page": f"{url}?{urlencode({'page': page_no + 1, 'per_page': per_page})}"
        if more
        else None,
        "previous_page": f"{url}?{urlencode({'page': page_no - 1, 'per_page': per_page})}"
        if page_no > 1
        else None,
        "count": len(ids),
    }
