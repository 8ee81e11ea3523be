"""The shape of a mapping: the file as pydantic models, the loaded form as dataclasses.

Only structure is checked here (keys, types, required entries), and pydantic's errors are put in
an admin's words; what the keys must *mean* (known transforms, unique columns, fields that exist
in the org) is checked by ``connector.mapping_files`` and ``connector.mapping_resolve``.
"""

from __future__ import annotations

import difflib
import re
import tomllib
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from connector.model import SourceName


def _field_entry(value: Any) -> Any:
    if isinstance(value, str):
        return {"column": value}
    if not isinstance(value, dict):
        raise ValueError(
            f"expected a column name or {{ column = ..., transform = ... }}, got {toml_repr(value)}"
        )
    if "column" not in value and not any(did_you_mean(k, ("column", "transform")) for k in value):
        # ``a.b = "x"`` without quotes is a nested table in TOML
        raise ValueError(
            'expected { column = ... }; write a dotted field name in quotes: "a.b" = ...'
        )
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class FieldMap(_Strict):
    """One source field: the store column it fills and an optional named transform."""

    column: str
    transform: str | None = None


FieldEntry = Annotated[FieldMap, BeforeValidator(_field_entry)]
Fields = dict[str, FieldEntry]


class CustomerFilterFile(_Strict):
    """Accounts whose ``field`` holds one of ``values`` are customers."""

    field: str = "Type"
    values: list[str] = Field(min_length=1)


class AccountLinkFile(_Strict):
    """The organization field holding the Salesforce Account Id (15 or 18 characters)."""

    field: str = "external_id"


class SalesforceFile(_Strict):
    """``mappings/salesforce/<stream>.toml``."""

    object: str
    stream: str
    enabled: bool = True
    cursor_field: str = "SystemModstamp"
    fields: Fields = Field(default_factory=dict)
    customer_filter: CustomerFilterFile | None = None


ZendeskEndpoint = Literal["tickets", "organizations", "users", "groups"]


class ZendeskFile(_Strict):
    """``mappings/zendesk/<stream>.toml``."""

    endpoint: ZendeskEndpoint
    stream: str
    enabled: bool = True
    fields: Fields = Field(default_factory=dict)
    custom_fields: dict[str, FieldEntry] = Field(default_factory=dict)
    account_link: AccountLinkFile | None = None


class CsvFile(_Strict):
    """``mappings/csv/<stream>.toml``: a folder of CSV drops read as a stream."""

    stream: str
    enabled: bool = True
    folder: str
    pattern: str = "*.csv"
    id_column: str
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    encoding: str = "utf-8-sig"
    fields: Fields = Field(default_factory=dict)


FILE_MODELS: dict[str, type[_Strict]] = {
    "salesforce": SalesforceFile,
    "zendesk": ZendeskFile,
    "csv": CsvFile,
}


@dataclass(frozen=True)
class FieldRef:
    """One mapped source field; ``key`` locates it in its file for messages."""

    source_field: str
    column: str
    transform: str | None
    key: str


@dataclass(frozen=True)
class CustomerFilter:
    """Accounts of ``stream`` whose ``column`` (from ``field``) is one of ``values``."""

    stream: str
    field: str
    column: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class StreamMapping:
    """One mapping file after load: what to read and where each field goes."""

    source: SourceName
    stream: str
    source_object: str  # sObject, Zendesk endpoint, or CSV folder (absolute)
    origin: str  # "mappings/salesforce/contact.toml"
    fields: tuple[FieldRef, ...]
    enabled: bool = True
    cursor_field: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    customer_filter: CustomerFilter | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(ref.column for ref in self.fields)

    def column_for(self, source_field: str) -> str | None:
        """The column ``source_field`` fills (Salesforce names compare in any case)."""
        wanted = source_field.lower()
        return next((r.column for r in self.fields if r.source_field.lower() == wanted), None)

    def field_for(self, column: str) -> str | None:
        """The source field that fills ``column``."""
        return next((r.source_field for r in self.fields if r.column == column), None)


def did_you_mean(word: str, choices: Any) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``choices`` (any case), or ""."""
    by_lower = {str(c).lower(): str(c) for c in choices}
    close = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=0.6)
    return f" (did you mean '{by_lower[close[0]]}'?)" if close else ""


def toml_repr(value: Any) -> str:
    """A value as the admin wrote it in TOML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "[" + ", ".join(toml_repr(v) for v in value) + "]"
    return str(value)


def _model_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys the model accepts at ``loc`` (a path into the file), for suggestions."""
    annotation: Any = model
    for part in loc:
        annotation = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(str(part))
            annotation = field.annotation if field else None
        elif get_origin(annotation) is dict:
            annotation = get_args(annotation)[1]
        else:
            return []
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return list(annotation.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            annotation = next(a for a in get_args(annotation) if a is not type(None))
        else:
            return annotation


_EXPECTED = {
    "string_type": "a string",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "path_type": "a path",
    "list_type": "a list",
    "tuple_type": "a list",
    "dict_type": "a table",
    "model_type": "a table",
    "model_attributes_type": "a table",
}


MISSING_HINTS = {
    "object": 'missing: the sObject\'s API name (e.g. "Contact")',
    "stream": "missing: the stream's name (its store table is mirror_<stream>)",
    "endpoint": "missing: one of tickets, organizations, users, groups",
    "folder": "missing: the folder the CSV files are dropped in",
    "id_column": "missing: each row must carry its own id; name its CSV column",
}
_BOUNDS = {
    "greater_than": "more than",
    "greater_than_equal": "at least",
    "less_than": "less than",
    "less_than_equal": "at most",
}


def pydantic_problems(exc: ValidationError, model: type[BaseModel]) -> list[tuple[str, str]]:
    """Each pydantic error as (dotted key, reason), worded for the person editing the file."""
    problems = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        key = ".".join(str(p) for p in loc)
        kind, given = err["type"], err.get("input")
        if kind == "missing":
            reason = MISSING_HINTS.get(key, "missing (required)")
        elif kind == "extra_forbidden":
            known = _model_keys(model, loc[:-1])
            hint = did_you_mean(str(loc[-1]), known) or f" (known: {', '.join(known)})"
            reason = "unknown key" + hint
        elif kind in _EXPECTED:
            reason = f"expected {_EXPECTED[kind]}, got {toml_repr(given)}"
        elif kind == "literal_error":
            choices = str(err.get("ctx", {}).get("expected", "")).replace(" or ", ", ")
            hint = did_you_mean(str(given), [c.strip(" '") for c in choices.split(",")])
            reason = f"expected one of {choices}, got {toml_repr(given)}{hint}"
        elif kind in _BOUNDS:
            bound = next(iter(err.get("ctx", {}).values()), "?")
            bound = f"{bound:g}" if isinstance(bound, float) else bound
            reason = f"must be {_BOUNDS[kind]} {bound}, got {toml_repr(given)}"
        elif kind == "too_short":
            reason = "must not be empty"
        elif kind == "too_long":
            reason = f"too long: {toml_repr(given)}"
        else:
            reason = str(err["msg"]).removeprefix("Value error, ")
        problems.append((key, reason))
    return problems


_TOML_WHERE = re.compile(
    r"^(?P<msg>.*?)\s*\((?P<where>at line \d+, column \d+|at end of document)\)$"
)


def read_toml(path: Path, errs: list[tuple[str, str]]) -> dict[str, Any] | None:
    """The TOML file as a dict, or None after adding its problem (with line and column)."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        match = _TOML_WHERE.match(str(exc))
        msg, where = (match["msg"], match["where"]) if match else (str(exc), "")
        errs.append(("", f"invalid TOML {where}: {msg}" if where else f"invalid TOML: {msg}"))
    except UnicodeDecodeError:
        errs.append(("", "not UTF-8 text"))
    except OSError as exc:
        errs.append(("", f"cannot read: {exc.strerror or exc}"))
    return None
