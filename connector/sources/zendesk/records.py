"""Zendesk records to rows: the id, the deleted flag, the modstamp; the mapping does the rest.

Kept apart from the paging so each endpoint's quirks (a deleted ticket is ``status: deleted``, a
deleted user is ``active: false``) live in one table, and a bad record becomes a
``RecordIssue`` instead of stopping the page. Ticket custom fields (``custom_fields: [{id,
value}]``) are read by ``row_builder`` for columns whose source field is ``custom_fields.<id>``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from connector.errors import RecordError
from connector.model import RecordIssue, Row, StreamSpec
from connector.transforms import row_builder, source_instant

Record = Mapping[str, Any]


def _ticket_deleted(record: Record) -> bool:
    return record.get("status") == "deleted"


def _user_deleted(record: Record) -> bool:
    return record.get("active") is False  # Zendesk deletes a user by deactivating it


def _organization_deleted(record: Record) -> bool:
    return bool(record.get("deleted_at"))


def _group_deleted(record: Record) -> bool:
    return record.get("deleted") is True


DELETED: dict[str, Callable[[Record], bool]] = {
    "tickets": _ticket_deleted,
    "users": _user_deleted,
    "organizations": _organization_deleted,
    "groups": _group_deleted,
}


def parse_time(text: Any) -> datetime:
    """A Zendesk time (``2024-05-01T10:00:00Z``) as an aware UTC datetime."""
    if not isinstance(text, str) or not text:
        raise ValueError(f"not a time: {text!r}")
    instant = source_instant(text)  # the API's own form, kept for the store (no isoformat)
    if instant is not None:
        return instant
    parsed = datetime.fromisoformat(text)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


class RecordParser:
    """Turns one endpoint's records into rows through the mapping's ``row_builder``."""

    def __init__(self, spec: StreamSpec, endpoint: str) -> None:
        self._build = row_builder(spec)
        self._deleted = DELETED[endpoint]
        self._endpoint = endpoint

    def rows(self, records: Iterable[Record]) -> tuple[list[Row], list[RecordIssue]]:
        rows: list[Row] = []
        issues: list[RecordIssue] = []
        for record in records:
            try:
                rows.append(self.row(record))
            except RecordError as err:
                issues.append(RecordIssue(err.record_id, err.reason, err.code))
        return rows, issues

    def row(self, record: Record) -> Row:
        """One row; raises ``RecordError`` naming the record when it cannot be read."""
        rid = record.get("id")
        if rid is None or isinstance(rid, bool):
            raise RecordError(f"{self._endpoint}:?", "record has no id")
        record_id = str(rid)
        try:
            modstamp = parse_time(record.get("updated_at") or record.get("created_at"))
        except ValueError as exc:
            raise RecordError(record_id, f"updated_at: {exc}") from None
        return self._build(record_id, modstamp, self._deleted(record), record)


def record_second(record: Record) -> int | None:
    """``updated_at`` in whole epoch seconds (the time-based export's unit), or None."""
    try:
        return int(parse_time(record.get("updated_at")).timestamp())
    except ValueError:
        return None
