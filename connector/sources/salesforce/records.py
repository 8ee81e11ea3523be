"""Salesforce records into store rows: REST JSON as it comes, Bulk CSV first put in REST form.

Rows are built by the mapping's row builder, so both paths store the same values. A record the
builder refuses becomes a ``RecordIssue`` and is skipped; the rest of its page proceeds.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
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
        # REST records carry an ``attributes`` object (type, url) that is no field: a column
        # naming it reads null. The record is copied without it only where a column names it
        # (a copy of every record cost about 1 µs each).
        self._copy = any(c.source_field.split(".", 1)[0] == "attributes" for c in spec.columns)

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
            raw = {k: v for k, v in record.items() if k != "attributes"} if self._copy else record
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
    return bulk_converter(tuple(row), types)(row)


class CsvRows:
    """A CSV text's rows, parsed once as they are iterated: as dicts keyed by the header (what
    ``csv.DictReader`` gives), or as ``header`` and ``lists()``, without a dict per row.

    Bulk result pages are up to 50,000 rows; ``from_bulk_rows`` reads the lists, since the
    dict ``DictReader`` builds for each row was thrown away again after conversion.
    """

    def __init__(self, text: Iterable[str]) -> None:
        self._reader = csv.reader(text)
        self.header: tuple[str, ...] = tuple(next(self._reader, ()))

    def lists(self) -> Iterator[list[str]]:
        """The rows after the header as lists of cells; blank lines skipped, as DictReader does."""
        for row in self._reader:
            if row:
                yield row

    def __iter__(self) -> Iterator[dict[str, str]]:
        """Each row as ``csv.DictReader`` would give it (short rows padded with None)."""
        for row in self.lists():
            yield _as_dict(self.header, row)


def _as_dict(header: tuple[str, ...], row: list[str]) -> dict[str, Any]:
    """``csv.DictReader``'s dict of a row: missing cells None, extra ones in a list under None."""
    record: dict[Any, Any] = dict(zip(header, row, strict=False))
    if len(row) > len(header):
        record[None] = row[len(header) :]
    for key in header[len(row) :]:
        record[key] = None
    return record


def from_bulk_rows(
    rows: Iterable[Mapping[str, str]], types: Mapping[str, str]
) -> Iterator[dict[str, Any]]:
    """``from_bulk`` over a result page, each column's conversion chosen once per header."""
    if isinstance(rows, CsvRows):
        yield from _from_lists(rows, types)
        return
    convert: Callable[[Mapping[str, str]], dict[str, Any]] | None = None
    header: tuple[str, ...] = ()
    for row in rows:
        if convert is None or len(row) != len(header):
            header = tuple(row)
            convert = bulk_converter(header, types)
        yield convert(row) if tuple(row) == header else from_bulk(row, types)


def _from_lists(rows: CsvRows, types: Mapping[str, str]) -> Iterator[dict[str, Any]]:
    """``from_bulk`` of each row of ``rows``, read from its list of cells.

    A header of plain fields (no relationship paths) is converted by one dict comprehension a
    row, text cells inline (``""`` is null); anything else goes the general way, by dict.
    """
    header = rows.header
    if any("." in key for key in header):
        convert = bulk_converter(header, types)
        for row in rows.lists():
            yield (
                convert(_as_dict(header, row))
                if len(row) == len(header)
                else from_bulk(_as_dict(header, row), types)
            )
        return
    plan = [(i, key, _CELL.get(types.get(key) or "")) for i, key in enumerate(header)]
    width = len(header)
    for row in rows.lists():
        if len(row) != width:
            yield from_bulk(_as_dict(header, row), types)
            continue
        yield {key: (row[i] or None) if cell is None else cell(row[i]) for i, key, cell in plan}


def bulk_converter(
    header: tuple[str, ...], types: Mapping[str, str]
) -> Callable[[Mapping[str, str]], dict[str, Any]]:
    """The conversion of rows with ``header``: each cell by ``_wire_value`` for its type."""
    plan: list[tuple[str, Callable[[str], Any], tuple[str, ...] | None]] = []
    roots: dict[str, None] = {}  # relationship objects, in header order
    for key in header:
        path = tuple(key.split("."))
        if len(path) > 1:
            plan.append((key, _text_cell, path))
            roots[path[0]] = None
        else:
            plan.append((key, _CELL.get(types.get(key) or "", _text_cell), None))

    def convert(row: Mapping[str, str]) -> dict[str, Any]:
        record: dict[str, Any] = {}
        for key, cell, path in plan:
            if path is None:
                record[key] = cell(row[key])
                continue
            node = record
            for part in path[:-1]:
                node = node.setdefault(part, {})
            node[path[-1]] = cell(row[key])
        for root in roots:
            record[root] = _null_lookups(record[root])
        return record

    return convert


def _null_lookups(value: Any) -> Any:
    """REST answers an empty lookup with null, not with an object of nulls."""
    if not isinstance(value, dict):
        return value
    inner = {k: _null_lookups(v) for k, v in value.items()}
    return None if all(v is None for v in inner.values()) else inner


def _wire_value(text: str, sf_type: str | None) -> Any:
    """One CSV cell as the REST API would send it for a field of ``sf_type``."""
    return _CELL.get(sf_type or "", _text_cell)(text)


def _text_cell(text: str) -> Any:
    return None if text == "" else text


def _bool_cell(text: str) -> Any:
    return None if text == "" else text.strip().lower() == "true"


def _int_cell(text: str) -> Any:
    if text == "":
        return None
    try:
        return int(text)
    except ValueError:
        return text


def _float_cell(text: str) -> Any:
    if text == "":
        return None
    try:
        return float(text)
    except ValueError:
        return text


def _datetime_cell(text: str) -> Any:
    if text == "":
        return None
    if (
        len(text) == 24
        and text[23] == "Z"
        and text[19] == "."
        and text[10] == "T"
        and text[0] != "0"
    ):  # 2025-01-06T09:00:00.000Z: the text below, without strftime (and from_iso's zone work)
        try:
            datetime.fromisoformat(text)
        except ValueError:
            return text
        return text[:23] + "+0000"
    try:
        moment = from_iso(text)
    except ValueError:
        return text
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


_CELL: dict[str, Callable[[str], Any]] = {
    "boolean": _bool_cell,
    **dict.fromkeys(_INTEGER, _int_cell),
    **dict.fromkeys(_NUMBER, _float_cell),
    "datetime": _datetime_cell,
}
