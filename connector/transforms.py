"""Named value transforms the mappings refer to, and the row builder every source calls.

Mappings name a transform by string (``transform = "split_semicolons"``); ``TRANSFORMS`` maps the
name to code, so an admin changes *what* happens without touching *how*. ``row_builder`` compiles
a stream's columns once into a tuple of (column, field, converter) steps: building a row is then
one dictionary read and one function call per column, with no registry lookup per value.
"""

from __future__ import annotations

import contextlib
import json as _json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from connector.errors import RecordError
from connector.model import Column, ColumnType, Row, StreamSpec

Convert = Callable[[Any], Any]
RowBuilder = Callable[[str, datetime | None, bool, Mapping[str, Any]], Row]
CUSTOM_FIELD_PREFIX = "custom_fields."  # Column.source_field of a Zendesk ticket custom field


@dataclass(frozen=True)
class Transform:
    """A named converter: what it returns, and which source types it makes sense for."""

    name: str
    output: ColumnType
    fn: Convert
    accepts: frozenset[ColumnType] | None  # source column types it applies to; None: any
    doc: str


TRANSFORMS: dict[str, Transform] = {}


def register(
    name: str, output: ColumnType, *, accepts: set[ColumnType] | None = None
) -> Callable[[Convert], Convert]:
    """Add ``fn`` to ``TRANSFORMS`` as ``name``; ``fn`` never sees None or ""."""

    def add(fn: Convert) -> Convert:
        doc = (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else ""
        TRANSFORMS[name] = Transform(name, output, fn, frozenset(accepts) if accepts else None, doc)
        return fn

    return add


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected text, got {_shown(value)}")
    return value


@register("strip", "text", accepts={"text"})
def strip(value: Any) -> str | None:
    """Trim surrounding white space; a blank value becomes null."""
    return _text(value).strip() or None


@register("lower", "text", accepts={"text"})
def lower(value: Any) -> str:
    """Lower-case text (emails, tags) so comparisons ignore case."""
    return _text(value).lower()


@register("split_semicolons", "json", accepts={"text", "json"})
def split_semicolons(value: Any) -> list[str]:
    """A multi-select picklist ("A;B") as a JSON list of its values."""
    if isinstance(value, list):
        return [str(v) for v in value]
    if not isinstance(value, str):
        raise ValueError(f"expected text such as 'A;B', got {_shown(value)}")
    return [part.strip() for part in value.split(";") if part.strip()]


@register("json", "json")
def to_json(value: Any) -> Any:
    """Keep a list or object as JSON; text is parsed as JSON (CSV cells)."""
    if isinstance(value, str):
        try:
            return _json.loads(value)
        except ValueError:
            raise ValueError(f"not valid JSON: {_shown(value)}") from None
    if isinstance(value, list | dict | int | float | bool):
        return value
    raise ValueError(f"cannot store {_shown(value)} as JSON")


@register("int", "int", accepts={"text", "int", "float"})
def to_int(value: Any) -> int:
    """A whole number (counts, licences); 200.0 becomes 200, 4.5 is an error."""
    if isinstance(value, bool):
        raise ValueError(f"expected a whole number, got {_shown(value)}")
    if isinstance(value, int):
        return value
    number = to_float(value)
    if not number.is_integer():
        raise ValueError(f"expected a whole number, got {_shown(value)}")
    return int(number)


@register("float", "float", accepts={"text", "int", "float"})
def to_float(value: Any) -> float:
    """A decimal number."""
    number = math.nan
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        with contextlib.suppress(ValueError):
            number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"expected a number, got {_shown(value)}")
    return number


_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "0"})


@register("bool", "bool", accepts={"text", "bool", "int"})
def to_bool(value: Any) -> bool:
    """true/false, yes/no, 1/0 (any case)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
    raise ValueError(f"expected true or false, got {_shown(value)}")


@register("date", "date", accepts={"text", "date", "datetime"})
def to_date(value: Any) -> date:
    """A calendar date written YYYY-MM-DD (Salesforce, CSV)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return date.fromisoformat(value.strip())
    raise ValueError(f"expected a date YYYY-MM-DD, got {_shown(value)}")


class SourceInstant(datetime):
    """An aware UTC datetime read from the API's own UTC text, which it keeps (``source``).

    Every timestamp the APIs send is text that already says UTC (``2025-06-17T00:26:58Z``,
    ``2025-12-02T09:07:03.000+0000``); the SQLite store keeps text too. Formatting a datetime
    back into text (``isoformat``) cost more than the rest of a value's way into the store
    (about 2.5 µs, three times a ticket row), so ``utc_text`` rewrites the kept source text
    instead. It is a ``datetime`` in every other respect: compares, hashes, binds as one.
    """

    __slots__ = ("source",)
    source: str


# The API forms read without a full parse: length -> zone suffix, and whether a fraction of
# exactly three digits comes before it.
_UTC_FORMS = {
    20: ("Z", False),  # 2025-06-17T00:26:58Z (Zendesk)
    24: ("Z", True),  # 2025-06-17T00:26:58.000Z (ISO with milliseconds)
    28: ("+0000", True),  # 2025-12-02T09:07:03.000+0000 (Salesforce REST, Bulk after records.py)
    29: ("+00:00", True),  # 2025-12-02T09:07:03.000+00:00
}


def source_instant(text: str) -> SourceInstant | None:
    """``text`` as a ``SourceInstant`` when it is one of ``_UTC_FORMS``, else None.

    ``fromisoformat`` checks the numbers; the layout ``utc_text`` slices is checked here, since
    ``fromisoformat`` also takes basic forms such as ``20250617T002658.123Z``, a comma before
    the fraction and, from Python 3.12, an hour 24. Anything else is left to the caller's full
    parse, which may accept more (other zones, spaces, naive text) or explain the error. The
    last two texts read are remembered, so a text read again returns the same instant.
    """
    newer, older = _recent
    if newer[0] == text:  # a record's modstamp is often a column too (Zendesk updated_at,
        return newer[1]  # Salesforce CompletedDateTime): read once
    if older[0] == text:
        return older[1]
    form = _UTC_FORMS.get(len(text))
    if (
        form is None
        or not text.endswith(form[0])
        or text[4] != "-"
        or text[13] != ":"
        or text[16] != ":"
        or (form[1] and text[19] != ".")
        or text[11:13] == "24"
    ):
        return None
    try:
        moment = SourceInstant.fromisoformat(text)
    except ValueError:
        return None
    moment.source = text
    _remember(text, moment)
    return moment


_Recent = tuple[str, SourceInstant | None]
_recent: tuple[_Recent, _Recent] = (("", None), ("", None))


def _remember(text: str, moment: SourceInstant) -> None:
    """Keep the last two instants read, for the next reads of the same texts (one tuple,
    assigned at once, so threads reading records at the same time only see matching pairs)."""
    global _recent
    _recent = ((text, moment), _recent[0])


def utc_text(moment: datetime) -> str:
    """``YYYY-MM-DD HH:MM:SS.ffffff`` of an aware instant in UTC; a ``SourceInstant``'s from its
    source text (no formatting).

    Equal to ``moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")``,
    which a test checks for every form in ``_UTC_FORMS``. A ``SourceInstant`` derived by
    ``replace`` or arithmetic has no source text of its own and is formatted.
    """
    text: str | None = getattr(moment, "source", None)
    if text is None:
        return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    if len(text) == 20:
        return text.replace("T", " ")[:19] + ".000000"
    return text.replace("T", " ")[:23] + "000"


def parse_datetime(value: Any) -> datetime:
    """An instant in UTC from ISO 8601 text (…T10:00:00.000+0000, …Z), a datetime or epoch seconds.

    Naive values are taken as UTC: the APIs the connector reads always mean UTC.
    """
    if isinstance(value, str):
        instant = source_instant(value)
        if instant is not None:
            return instant
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"expected an ISO 8601 date-time, got {_shown(value)}") from None
    elif isinstance(value, datetime):
        moment = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    else:
        raise ValueError(f"expected an ISO 8601 date-time, got {_shown(value)}")
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


register("datetime", "datetime", accepts={"text", "datetime", "date", "int"})(parse_datetime)

_ID_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def salesforce_id18(value: str) -> str:
    """The 18-character form of a 15- or 18-character Salesforce id.

    An 18-character id's suffix encodes the case of the first 15 characters, so an id that a
    case-insensitive tool lower-cased is restored; ids compare case-sensitively in the store.
    """
    if len(value) not in (15, 18) or not (value.isalnum() and value.isascii()):
        raise ValueError(f"not a Salesforce id (15 or 18 letters and digits): {_shown(value)}")
    if len(value) == 18:
        suffix = value[15:].upper()
        if any(ch not in _ID_SUFFIX for ch in suffix):
            raise ValueError(f"not a Salesforce id (bad checksum): {_shown(value)}")
        upper = [bool(_ID_SUFFIX.index(ch) >> i & 1) for ch in suffix for i in range(5)]
        body = "".join(c.upper() if up else c.lower() for c, up in zip(value, upper, strict=False))
        return body + suffix
    chunks = (value[start : start + 5] for start in (0, 5, 10))
    bits = (sum(1 << i for i, ch in enumerate(chunk) if "A" <= ch <= "Z") for chunk in chunks)
    return value + "".join(_ID_SUFFIX[b] for b in bits)


@register("id18", "text", accepts={"text"})
def id18(value: Any) -> str:
    """A Salesforce id in its 18-character form, so 15- and 18-character ids join."""
    if not isinstance(value, str):
        raise ValueError(f"not a Salesforce id: {_shown(value)}")
    return salesforce_id18(value.strip())


@register("zendesk_id", "text", accepts={"text", "int"})
def zendesk_id(value: Any) -> str:
    """A Zendesk id (a JSON number) as text, like every other id in the store."""
    if type(value) is int:
        return str(value)
    if (isinstance(value, float) and value.is_integer()) or (
        isinstance(value, str) and value.strip().isdigit()
    ):
        return str(int(value))
    raise ValueError(f"expected a Zendesk id, got {_shown(value)}")


def to_text(value: Any) -> str:
    """Text as is; numbers written out; anything else is an error (use a transform)."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"expected text, got {_shown(value)} (add a transform such as 'json')")


DEFAULT_CONVERTERS: dict[ColumnType, Convert] = {
    "text": to_text,
    "int": to_int,
    "float": to_float,
    "bool": to_bool,
    "date": to_date,
    "datetime": parse_datetime,
    "json": to_json,
}


def converter(column: Column) -> Convert:
    """The one function that turns a source value into ``column``'s store value."""
    if column.transform is None:
        return DEFAULT_CONVERTERS[column.type]
    return TRANSFORMS[column.transform].fn


def _path_getter(path: str) -> Callable[[Mapping[str, Any]], Any]:
    parts = tuple(path.split("."))

    def get(raw: Mapping[str, Any]) -> Any:
        value: Any = raw
        for part in parts:
            if not isinstance(value, Mapping):
                return None
            value = value.get(part)
        return value

    return get


Step = tuple[str, str, Callable[[Mapping[str, Any]], Any] | None, Convert, str]


def _steps(columns: tuple[Column, ...]) -> tuple[tuple[Step, ...], dict[int, tuple[Step, ...]]]:
    plain: list[Step] = []
    custom: dict[int, list[Step]] = {}
    for col in columns:
        field, conv = col.source_field, converter(col)
        if field.startswith(CUSTOM_FIELD_PREFIX):
            field_id = int(field.removeprefix(CUSTOM_FIELD_PREFIX))
            custom.setdefault(field_id, []).append((col.name, field, None, conv, field))
        else:
            getter = _path_getter(field) if "." in field else None
            plain.append((col.name, field, getter, conv, f"fields.{field}"))
    return tuple(plain), {k: tuple(v) for k, v in custom.items()}


def _store(values: dict[str, Any], step: Step, value: Any, record_id: str) -> None:
    values[step[0]] = _converted(step[3], value, record_id, step[4])


def _converted(conv: Convert, value: Any, record_id: str, label: str) -> Any:
    """``conv(value)``, or None for an empty value; a value it rejects raises ``RecordError``."""
    if value is None or value == "":
        return None
    try:
        return conv(value)
    except (ValueError, TypeError, OverflowError) as exc:
        raise RecordError(record_id, f"{label}: {exc}") from None


def row_builder(spec: StreamSpec) -> RowBuilder:
    """Compile ``spec``'s columns once; the result builds one ``Row`` per source record.

    An empty value ("" or missing) is stored as null. A value its converter rejects raises
    ``RecordError(record_id, "fields.<field>: <why>")``: the source skips that record only.
    """
    plain, custom = _steps(spec.columns)
    custom_columns = tuple(step[0] for steps in custom.values() for step in steps)

    def build(
        record_id: str, modstamp: datetime | None, deleted: bool, raw: Mapping[str, Any]
    ) -> Row:
        values: dict[str, Any] = {}
        for name, key, getter, conv, label in plain:
            value = raw.get(key) if getter is None else getter(raw)
            if value is None:
                values[name] = None
            elif value.__class__ is str and conv is to_text:
                values[name] = value or None  # to_text's answer without the call (most columns)
            elif value.__class__ is int and conv is zendesk_id:
                values[name] = str(value)  # zendesk_id's answer without the call (ids)
            else:
                values[name] = _converted(conv, value, record_id, label)
        if custom:
            values.update(dict.fromkeys(custom_columns))
            for item in raw.get("custom_fields") or ():
                steps = custom.get(item.get("id"))
                value = item.get("value")
                if steps is not None and value is not None:  # null: already None above
                    for step in steps:
                        _store(values, step, value, record_id)
        return Row(record_id, modstamp, deleted, values)

    return build


_BUILDERS: dict[int, tuple[StreamSpec, RowBuilder]] = {}


def to_row(
    spec: StreamSpec,
    record_id: str,
    modstamp: datetime | None,
    deleted: bool,
    raw: Mapping[str, Any],
) -> Row:
    """One record in store form; compiles ``spec`` on first use (hot loops: ``row_builder``)."""
    cached = _BUILDERS.get(id(spec))
    if cached is None or cached[0] is not spec:
        if len(_BUILDERS) > 256:
            _BUILDERS.clear()
        cached = _BUILDERS[id(spec)] = (spec, row_builder(spec))
    return cached[1](record_id, modstamp, deleted, raw)
