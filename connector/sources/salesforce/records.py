"""Salesforce records into store rows: REST JSON as it comes, Bulk CSV first put in REST form.

Rows are built by the mapping's row builder, so both paths store the same values. A record the
builder refuses becomes a ``RecordIssue`` and is skipped; the rest of its page proceeds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from connector.errors import RecordError
from connector.model import RecordIssue, Row, StreamSpec
from connector.sources.base import check_order, from_iso
from connector.sources.salesforce.soql import cursor_field
from connector.transforms import RowBuilder

_INTEGER = {"int", "long"}
_NUMBER = {"double", "currency", "percent"}


class RecordReader:
    """Turns one stream's records into rows, keeping the sweep's sort check."""

    def __init__(self, spec: StreamSpec, build: RowBuilder) -> None:
        self.spec = spec
        self.cursor = cursor_field(spec)
        self._build = build
        self.last: datetime | None = None  # the cursor value of the last record seen

    def rows(
        self,
        records: Iterable[Mapping[str, Any]],
        *,
        sorted_by_cursor: bool = False,
        floor: datetime | None = None,
    ) -> tuple[list[Row], list[RecordIssue]]:
        """Rows and issues; a sorted sweep checks order and drops rows before ``floor``."""
        rows: list[Row] = []
        issues: list[RecordIssue] = []
        for record in records:
            record_id = str(record.get("Id") or "")
            try:
                modstamp = from_iso(str(record[self.cursor]))
            except (KeyError, ValueError):
                issues.append(RecordIssue(record_id, f"no valid {self.cursor}", "NO_CURSOR"))
                continue
            if sorted_by_cursor:
                check_order(self.last, modstamp, stream=self.spec.name)
            self.last = modstamp
            if floor is not None and modstamp < floor:
                continue  # read and committed before the checkpoint this sweep resumed from
            raw = {k: v for k, v in record.items() if k != "attributes"}
            try:
                rows.append(self._build(record_id, modstamp, bool(raw.get("IsDeleted")), raw))
            except RecordError as exc:
                issues.append(RecordIssue(exc.record_id, exc.reason, exc.code))
        return rows, issues


def field_types(describe: Mapping[str, Any]) -> dict[str, str]:
    """Field name -> Salesforce type (``boolean``, ``datetime``, ...) from a describe."""
    return {str(f["name"]): str(f["type"]) for f in describe.get("fields", ())}


def from_bulk(row: Mapping[str, str], types: Mapping[str, str]) -> dict[str, Any]:
    """A Bulk CSV row in REST form: "" is null, typed values, relationship paths nested."""
    record: dict[str, Any] = {}
    for key, text in row.items():
        *parents, name = key.split(".")
        node = record
        for part in parents:
            node = node.setdefault(part, {})
        node[name] = _wire_value(text, None if parents else types.get(key))
    return {key: _null_lookups(value) for key, value in record.items()}


def _null_lookups(value: Any) -> Any:
    """REST answers an empty lookup with null, not with an object of nulls."""
    if not isinstance(value, dict):
        return value
    inner = {k: _null_lookups(v) for k, v in value.items()}
    return None if all(v is None for v in inner.values()) else inner


def _wire_value(text: str, sf_type: str | None) -> Any:
    """One CSV cell as the REST API would send it for a field of ``sf_type``."""
    if text == "":
        return None
    try:
        if sf_type == "boolean":
            return text.strip().lower() == "true"
        if sf_type in _INTEGER:
            return int(text)
        if sf_type in _NUMBER:
            return float(text)
        if sf_type == "datetime":
            moment = from_iso(text).astimezone(UTC)
            return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"
    except ValueError:
        return text
    return text
