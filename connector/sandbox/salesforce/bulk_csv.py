"""CSV as Bulk API 2.0 reads and writes it: delimiters, line endings, nulls and typed values.

Query results quote every value and write nulls as empty strings; booleans are ``true`` and
``false`` and datetimes end in ``Z`` (the REST API's ``+0000`` form is JSON only). Uploaded
rows follow "Prepare CSV Files": an empty cell leaves a field alone, ``#N/A`` sets it to
null, dates are ``yyyy-MM-dd``, datetimes ``yyyy-MM-ddTHH:mm:ss.SSS+/-HH:mm`` or ``...Z``, and
a header ``Rel.ExtId__c`` (``Type:Rel.ExtId__c`` when polymorphic) names a parent by external
id ("Relationship Fields in a Header Row (2.0)").
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from connector.sandbox.salesforce.schema import FieldDef

DELIMITERS = {
    "BACKQUOTE": "`",
    "CARET": "^",
    "COMMA": ",",
    "PIPE": "|",
    "SEMICOLON": ";",
    "TAB": "\t",
}
LINE_ENDINGS = {"LF": "\n", "CRLF": "\r\n"}
NULL = "#N/A"
_NUMBERS = {"double", "currency", "percent"}
_TRUE = {"true", "1", "yes", "y"}
_FALSE = {"false", "0", "no", "n"}


class Unset:
    """An empty cell: the field is not written."""


UNSET = Unset()


# -- writing --------------------------------------------------------------------------------
def write(
    header: Sequence[str],
    rows: Iterable[Sequence[str]],
    delimiter: str = "COMMA",
    line_ending: str = "LF",
    *,
    raw_header: Sequence[str] = (),
) -> bytes:
    """Every value quoted; ``raw_header`` columns follow ``header`` unquoted, as uploaded."""
    sep, end = DELIMITERS[delimiter], LINE_ENDINGS[line_ending]
    out = io.StringIO()
    head = [_quote(h) for h in header] + [_minimal(h, sep) for h in raw_header]
    out.write(sep.join(head) + end)
    writer = csv.writer(out, delimiter=sep, lineterminator=end, quoting=csv.QUOTE_ALL)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def cell(value: Any, kind: str) -> str:
    """One query-result value as Bulk CSV writes it; ``kind`` is the bound column's kind."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if kind == "datetime" and isinstance(value, str):
        return _bulk_datetime(value)
    return str(value)


def _bulk_datetime(wire: str) -> str:
    try:
        moment = datetime.fromisoformat(wire).astimezone(UTC)
    except ValueError:
        return wire
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _minimal(text: str, sep: str) -> str:
    return _quote(text) if any(c in text for c in (sep, '"', "\n", "\r")) else text


# -- reading --------------------------------------------------------------------------------
class CsvProblem(ValueError):
    """Uploaded data Salesforce would refuse as a whole (the job fails with this message)."""


def read(
    data: bytes,
    delimiter: str = "COMMA",
    line_ending: str = "LF",
) -> tuple[list[str], list[list[str]]]:
    """Header and rows of uploaded job data; a wrong line ending or ragged row is refused."""
    text = data.decode("utf-8-sig")
    if line_ending == "LF" and "\r\n" in text:
        raise CsvProblem(
            "ClientInputError : LineEnding is invalid on user data. Current "
            "LineEnding setting is LF"
        )
    if line_ending == "CRLF" and "\n" in text.replace("\r\n", ""):
        raise CsvProblem(
            "ClientInputError : LineEnding is invalid on user data. Current "
            "LineEnding setting is CRLF"
        )
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=DELIMITERS[delimiter]))
    rows = [r for r in rows if r]
    if not rows:
        raise CsvProblem("ClientInputError : No data found in the uploaded file")
    header, body = rows[0], rows[1:]
    for row in body:
        if len(row) != len(header):
            raise CsvProblem(
                "ClientInputError : Incorrect number of columns in a row: "
                f"expected {len(header)}, found {len(row)}"
            )
    return header, body


def typed(text: str, field: FieldDef | None) -> Any:
    """The value to write for one cell: UNSET, None, or text converted to the field's type.

    Text that does not convert is passed on unchanged, so the org refuses it per record as
    it refuses a wrong value on any API.
    """
    if text == "":
        return UNSET
    if text == NULL:
        return None
    kind = field.type if field is not None else "string"
    try:
        if kind == "boolean":
            low = text.strip().lower()
            if low in _TRUE | _FALSE:
                return low in _TRUE
            return text
        if kind == "int":
            return int(text)
        if kind in _NUMBERS:
            return float(text)
        if kind == "date":
            return date.fromisoformat(text.strip()).isoformat()
        if kind == "datetime":
            moment = datetime.fromisoformat(text.strip())
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
                f"{moment.microsecond // 1000:03d}+0000"
            )
    except ValueError:
        return text
    return text


def column_target(column: str) -> tuple[str, str | None, str | None]:
    """``(field_or_relationship, parent_field, parent_type)`` for one header column.

    ``Name`` -> ("Name", None, None); ``Account__r.Key__c`` -> ("Account__r", "Key__c", None);
    a polymorphic parent names its type: ``CS_CTA__c:What.Key__c`` -> ("What", "Key__c",
    "CS_CTA__c").
    """
    parent_type = None
    if ":" in column:
        parent_type, column = column.split(":", 1)
    if "." in column:
        rel, parent_field = column.split(".", 1)
        return rel, parent_field, parent_type
    return column, None, parent_type
