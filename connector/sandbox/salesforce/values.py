"""What the org does to the values of a write before it stores them.

Field names arrive in any case and leave canonical; values are checked and converted to the
wire form the REST API returns (datetimes ``...T...000+0000``, floats for numbers, 18-character
ids); defaults and derived fields are filled as Salesforce fills them. Pure functions: the data
the checks need (other records) is passed in.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from connector.sandbox import ids
from connector.sandbox.salesforce import errors as err
from connector.sandbox.salesforce.errors import RecordError
from connector.sandbox.salesforce.schema import FieldDef, SObjectDef

SYSTEM_FIELDS = (
    "CreatedDate",
    "CreatedById",
    "LastModifiedDate",
    "LastModifiedById",
    "SystemModstamp",
)
TEXT_TYPES = frozenset(
    {
        "string",
        "textarea",
        "picklist",
        "multipicklist",
        "email",
        "phone",
        "url",
        "combobox",
        "encryptedstring",
    }
)
NUMBER_TYPES = frozenset({"double", "currency", "percent", "int", "long"})
CLOSED_TASK_STATUSES = frozenset({"Completed"})
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?$")

Lookup = Callable[[str], tuple[str, dict[str, Any]] | None]


def format_datetime(moment: datetime) -> str:
    """The REST API's datetime form, always UTC with milliseconds."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{moment.microsecond // 1000:03d}+0000"


def parse_datetime(text: str) -> datetime | None:
    """Read the datetime forms clients send (``Z``, ``+00:00``, ``+0000``, with or without ms)."""
    if not _DATETIME.match(text):
        return None
    text = text.replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass
class Checked:
    """Values of one write after the name and type checks."""

    values: dict[str, Any] = field(default_factory=dict)
    foreign: dict[str, tuple[FieldDef, dict[str, Any]]] = field(default_factory=dict)
    errors: list[RecordError] = field(default_factory=list)


def check_values(
    sobj: SObjectDef, values: dict[str, Any], *, creating: bool, hidden: Callable[[str], bool]
) -> Checked:
    """Canonical names, access and types; errors of the first failing phase only."""
    out = Checked()
    for key, value in values.items():
        fdef = sobj.field(key)
        if key == "attributes":
            continue
        if fdef is None or hidden(fdef.name):
            rel = sobj.relationship(key)
            if rel is not None and isinstance(value, dict) and not hidden(rel.name):
                out.foreign[rel.name] = (rel, value)
            else:
                out.errors.append(err.no_such_column(key, sobj.name))
            continue
        if fdef.name == "Id":
            if creating and value not in (None, ""):
                out.errors.append(err.id_on_insert())
            continue
        if not (fdef.createable if creating else fdef.updateable):
            out.errors.append(err.read_only(fdef.name))
            continue
        out.values[fdef.name] = value
    if out.errors:
        return out
    for name in list(out.values):
        fdef = sobj.fields[name]
        converted, problem = coerce(fdef, out.values[name])
        if problem is not None:
            out.errors.append(problem)
        out.values[name] = converted
    return out


def coerce(fdef: FieldDef, value: Any) -> tuple[Any, RecordError | None]:
    """One value in its stored form, or the error Salesforce gives for it."""
    label = fdef.label or fdef.name
    if fdef.type == "boolean":
        return _boolean(fdef, label, value)
    if value is None or value == "":
        return None, None
    if fdef.type in NUMBER_TYPES:
        return _number(fdef, label, value)
    if fdef.type == "date":
        return _date(fdef, label, value)
    if fdef.type == "datetime":
        moment = parse_datetime(value) if isinstance(value, str) else None
        return (
            (format_datetime(moment), None)
            if moment
            else (value, err.wrong_type(label, fdef.name, value))
        )
    if fdef.type in ("reference", "id"):
        if not isinstance(value, str) or not ids.is_valid(value):
            return value, err.id_of_wrong_type(label, fdef.name, str(value))
        return ids.to18(value), None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return value, err.wrong_type(label, fdef.name, value)
    return _text(fdef, label, str(value))


def _boolean(fdef: FieldDef, label: str, value: Any) -> tuple[Any, RecordError | None]:
    if value is None:
        return False, None
    if isinstance(value, bool):
        return value, None
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true", None
    return value, err.wrong_type(label, fdef.name, value)


def _number(fdef: FieldDef, label: str, value: Any) -> tuple[Any, RecordError | None]:
    if isinstance(value, bool):
        return value, err.wrong_type(label, fdef.name, value)
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return value, err.wrong_type(label, fdef.name, value)
    if not number.is_finite():
        return value, err.wrong_type(label, fdef.name, value)
    if fdef.precision:
        whole = len(str(abs(int(number)))) if int(number) else 0
        if whole > fdef.precision - fdef.scale:
            return value, err.out_of_range(label, fdef.name, value)
    if fdef.type in ("int", "long"):
        return int(number), None
    return round(float(number), fdef.scale) if fdef.precision else float(number), None


def _date(fdef: FieldDef, label: str, value: Any) -> tuple[Any, RecordError | None]:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10]).isoformat(), None
        except ValueError:
            pass
    return value, err.wrong_type(label, fdef.name, value)


def _text(fdef: FieldDef, label: str, value: str) -> tuple[Any, RecordError | None]:
    if fdef.type in ("picklist", "multipicklist") and fdef.restricted_picklist:
        parts = value.split(";") if fdef.type == "multipicklist" else [value]
        for part in parts:
            if part not in fdef.picklist_values:
                return value, err.bad_picklist(label, fdef.name, part)
    if fdef.type == "email" and not _EMAIL.match(value):
        return value, RecordError(
            "INVALID_EMAIL_ADDRESS", f"{label}: invalid email address: {value}", (fdef.name,)
        )
    if fdef.length and len(value) > fdef.length:
        return value, err.too_long(label, fdef.name, value, fdef.length)
    return value, None


def missing_required(
    sobj: SObjectDef,
    record: dict[str, Any],
    changed: set[str] | None,
    hidden: Callable[[str], bool],
) -> RecordError | None:
    """REQUIRED_FIELD_MISSING for a create (``changed`` None) or for fields an update emptied."""
    missing = []
    for fdef in sobj.fields.values():
        if fdef.name in ("Id", "OwnerId") or fdef.calculated or hidden(fdef.name):
            continue
        if changed is None:
            needed = fdef.required_on_create
        else:
            needed = fdef.name in changed and not fdef.nillable and fdef.type != "boolean"
        if needed and record.get(fdef.name) in (None, ""):
            missing.append(fdef.name)
    return err.required_missing(missing) if missing else None


def defaults(sobj: SObjectDef) -> dict[str, Any]:
    """Every field of a new record: schema defaults, unchecked boxes, nulls."""
    out: dict[str, Any] = {}
    for fdef in sobj.fields.values():
        value = fdef.default_value
        if fdef.type == "boolean":
            value = bool(value) if isinstance(value, bool) else str(value).lower() == "true"
        out[fdef.name] = value
    return out


def derive(sobject: str, record: dict[str, Any], lookup: Lookup) -> None:
    """Fields Salesforce computes on save, so the connector reads them as it would in an org."""
    if sobject == "Contact":
        parts = [record.get("FirstName"), record.get("LastName")]
        record["Name"] = " ".join(p for p in parts if p) or None
    elif sobject == "Opportunity":
        stage = record.get("StageName") or ""
        record["IsClosed"] = stage.startswith("Closed")
        record["IsWon"] = stage == "Closed Won"
    elif sobject in ("Task", "Event"):
        if sobject == "Task":
            record["IsClosed"] = record.get("Status") in CLOSED_TASK_STATUSES
        record["AccountId"] = _activity_account(record, lookup)


def _activity_account(record: dict[str, Any], lookup: Lookup) -> str | None:
    for key in ("WhatId", "WhoId"):
        found = lookup(record[key]) if record.get(key) else None
        if found is None:
            continue
        sobject, related = found
        if sobject == "Account":
            return str(related["Id"])
        if related.get("AccountId"):
            return str(related["AccountId"])
    return None
