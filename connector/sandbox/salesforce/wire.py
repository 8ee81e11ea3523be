"""Shared pieces of the Salesforce REST emulator: the call being served and its JSON answers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from werkzeug.wrappers import Request, Response

from connector.sandbox.state import RequestCtx

NOT_FOUND_MESSAGE = "The requested resource does not exist"


@dataclass
class Call:
    """One authenticated REST call: the request, its API version and the session's user."""

    ctx: RequestCtx
    version: str  # "v62.0"
    user_id: str
    args: dict[str, Any] = field(default_factory=dict)

    @property
    def request(self) -> Request:
        return self.ctx.request

    def sobject_url(self, sobject: str, record_id: str) -> str:
        return f"/services/data/{self.version}/sobjects/{sobject}/{record_id}"


class BadRequest(Exception):
    """A request refused as a whole, answered with one REST error."""

    def __init__(self, status: int, error_code: str, message: str) -> None:
        super().__init__(f"{error_code}: {message}")
        self.status, self.error_code, self.message = status, error_code, message

    def response(self) -> Response:
        return error(self.status, self.error_code, self.message)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """JSON as the REST API sends it."""
    return Response(
        json.dumps(body),
        status=status,
        headers=headers,
        content_type="application/json;charset=UTF-8",
    )


def error(status: int, error_code: str, message: str) -> Response:
    """The REST API's error body: a list with one ``{message, errorCode}``."""
    return json_response([{"message": message, "errorCode": error_code}], status)


def not_found(message: str = NOT_FOUND_MESSAGE) -> Response:
    return error(404, "NOT_FOUND", message)


def read_json(call: Call) -> Any:
    """The request body as JSON, or 400 JSON_PARSER_ERROR as Salesforce answers bad JSON."""
    raw = call.request.get_data()
    try:
        return json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(400, "JSON_PARSER_ERROR", f"Unexpected character: {exc}") from exc


def read_object(call: Call) -> dict[str, Any]:
    """A JSON object body (one record's fields)."""
    body = read_json(call)
    if not isinstance(body, dict):
        raise BadRequest(
            400, "JSON_PARSER_ERROR", "Cannot deserialize instance of object from the request body"
        )
    return body
