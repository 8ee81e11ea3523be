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


def parse_datetime(value: Any) -> datetime:
    """An instant in UTC from ISO 8601 text (…T10:00:00.000+0000, …Z), a datetime or epoch seconds.

    Naive values are taken as UTC: the APIs the connector reads always mean UTC.
    """
    if isinstance(value, str):
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
    if value is None or value == "":
        values[step[0]] = None
        return
    try:
        values[step[0]] = step[3](value)
    except (ValueError, TypeError, OverflowError) as exc:
        raise RecordError(record_id, f"{step[4]}: {exc}") from None


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
            if value is None or value == "":
                values[name] = None
                continue
            try:
                values[name] = conv(value)
            except (ValueError, TypeError, OverflowError) as exc:
                raise RecordError(record_id, f"{label}: {exc}") from None
        if custom:
            values.update(dict.fromkeys(custom_columns))
            for item in raw.get("custom_fields") or ():
                for step in custom.get(item.get("id"), ()):
                    _store(values, step, item.get("value"), record_id)
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
