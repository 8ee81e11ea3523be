"""Check loaded mappings against the org's describe and Zendesk's ticket fields; type columns.

A column's type comes from the source's own schema (the Salesforce describe type, the Zendesk
ticket field type) unless its transform declares one; CSV and Zendesk system attributes have no
schema, so they are text unless a transform says otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from connector.errors import ConfigError, ConfigErrors
from connector.mapping_schema import did_you_mean
from connector.mappings import FieldRef, MappingSet, StreamMapping
from connector.model import Column, ColumnType, StreamSpec
from connector.transforms import CUSTOM_FIELD_PREFIX, TRANSFORMS

Describe = Callable[[str], Mapping[str, Any] | None]
DescribeGlobal = Callable[[], Mapping[str, Any]]
Problems = list[tuple[str, str]]

_TEXT_TYPES = (
    "string picklist multipicklist textarea id reference email phone url combobox"
    " encryptedstring time anyType"
)
SALESFORCE_TYPES: dict[str, ColumnType] = {
    **dict.fromkeys(_TEXT_TYPES.split(), "text"),
    "boolean": "bool",
    **dict.fromkeys(("double", "currency", "percent"), "float"),
    **dict.fromkeys(("int", "long"), "int"),
    "date": "date",
    "datetime": "datetime",
}
ZENDESK_FIELD_TYPES: dict[str, ColumnType] = {
    "checkbox": "bool",
    "integer": "int",
    "decimal": "float",
    "date": "date",
    "multiselect": "json",
}
_NOT_FOUND = " (is it deployed, and visible to the integration user?)"


def resolve_streams(
    mappings: MappingSet,
    salesforce_describe: Describe | None,
    zendesk_ticket_fields: Sequence[Mapping[str, Any]] | None,
    salesforce_describe_global: DescribeGlobal | None,
) -> list[StreamSpec]:
    """See ``connector.mappings.resolve``."""
    org = _Org(salesforce_describe, salesforce_describe_global) if salesforce_describe else None
    tickets = (
        None
        if zendesk_ticket_fields is None
        else {int(f["id"]): f for f in zendesk_ticket_fields if "id" in f}
    )
    problems: list[ConfigError] = []
    specs: list[StreamSpec] = []
    for m in mappings.streams:
        errs: Problems = []
        spec: StreamSpec | None
        if m.source == "salesforce":
            spec = _salesforce(m, org, errs) if org else None
        elif m.source == "zendesk":
            spec = _zendesk(m, tickets, errs)
        else:
            spec = _csv(m, errs)
        problems.extend(ConfigError(m.origin, key, reason) for key, reason in errs)
        if spec is not None:
            specs.append(spec)
    if problems:
        raise ConfigErrors(problems)
    return specs


class _Org:
    """Describe results, fetched once per object."""

    def __init__(self, describe: Describe, describe_global: DescribeGlobal | None) -> None:
        self._describe, self._cache = describe, dict[str, Mapping[str, Any] | None]()
        names = describe_global()["sobjects"] if describe_global else None
        self.names = [str(o["name"]) for o in names] if names is not None else None

    def describe(self, name: str) -> Mapping[str, Any] | None:
        if self.names is not None and name.lower() not in {n.lower() for n in self.names}:
            return None
        if name.lower() not in self._cache:
            try:
                self._cache[name.lower()] = self._describe(name)
            except LookupError:
                self._cache[name.lower()] = None
        return self._cache[name.lower()]


def _typed(ref: FieldRef, source_type: ColumnType | None, what: str, errs: Problems) -> ColumnType:
    """The column type: the transform's output, else the source's type, else text."""
    if ref.transform is None:
        return source_type or "text"
    transform = TRANSFORMS[ref.transform]
    if source_type and transform.accepts is not None and source_type not in transform.accepts:
        errs.append((ref.key, f"transform '{ref.transform}' does not apply to {what}"))
    return transform.output


def _salesforce(m: StreamMapping, org: _Org, errs: Problems) -> StreamSpec | None:
    describe = org.describe(m.source_object)
    if describe is None:
        hint = did_you_mean(m.source_object, org.names or ())
        errs.append(("object", f"no sObject '{m.source_object}' in the org{hint}"))
        return None
    obj = str(describe.get("name") or m.source_object)
    fields = {str(f["name"]).lower(): f for f in describe.get("fields", ())}
    names = [str(f["name"]) for f in fields.values()]
    columns = []
    for ref in m.fields:
        found = fields.get(ref.source_field.lower())
        if found is None:
            hint = did_you_mean(ref.source_field, names) or _NOT_FOUND
            errs.append((ref.key, f"no field '{ref.source_field}' on {obj}{hint}"))
            continue
        name, sf_type = str(found["name"]), str(found["type"])
        source_type = SALESFORCE_TYPES.get(sf_type)
        if source_type is None:
            errs.append((ref.key, f"{obj}.{name} is a {sf_type} field, which cannot be mirrored"))
            continue
        if sf_type == "multipicklist" and ref.transform == "json":
            reason = f"{obj}.{name} holds 'A;B', not JSON: use transform 'split_semicolons'"
            errs.append((ref.key, reason))
        col_type = _typed(ref, source_type, f"{obj}.{name} (a {sf_type} field)", errs)
        columns.append(Column(ref.column, col_type, name, ref.transform))
    cursor = _cursor(m, obj, fields, names, errs)
    options: dict[str, Any] = {"has_is_deleted": "isdeleted" in fields}
    if m.customer_filter is not None:
        options["customer_filter"] = _customer_filter(m, obj, fields, columns, errs)
    return StreamSpec(m.stream, "salesforce", obj, tuple(columns), cursor, m.origin, options)


def _cursor(
    m: StreamMapping, obj: str, fields: Mapping[str, Any], names: list[str], errs: Problems
) -> str | None:
    wanted = m.cursor_field or "SystemModstamp"
    found = fields.get(wanted.lower())
    if found is None:
        errs.append(("cursor_field", f"no field '{wanted}' on {obj}{did_you_mean(wanted, names)}"))
        return None
    if found["type"] != "datetime":
        reason = f"'{found['name']}' is a {found['type']} field; the cursor must be a datetime"
        errs.append(("cursor_field", reason))
    return str(found["name"])


def _customer_filter(
    m: StreamMapping,
    obj: str,
    fields: Mapping[str, Any],
    columns: list[Column],
    errs: Problems,
) -> dict[str, Any]:
    cf = m.customer_filter
    assert cf is not None
    found = fields.get(cf.field.lower())
    column = next((c for c in columns if c.name == cf.column), None)
    if found is None or column is None:
        return {"field": cf.field, "column": cf.column, "values": list(cf.values)}
    if column.type != "text":
        reason = f"{obj}.{found['name']} is stored as {column.type}; the filter compares text"
        errs.append(("customer_filter.field", reason))
    allowed = [str(p["value"]) for p in found.get("picklistValues") or ()]
    for value in cf.values if allowed else ():
        if value not in allowed:
            hint = did_you_mean(value, allowed) or f" (values: {', '.join(allowed)})"
            reason = f"'{value}' is not a value of {obj}.{found['name']}{hint}"
            errs.append(("customer_filter.values", reason))
    return {"field": str(found["name"]), "column": cf.column, "values": list(cf.values)}


def _zendesk(
    m: StreamMapping, tickets: Mapping[int, Mapping[str, Any]] | None, errs: Problems
) -> StreamSpec:
    columns = []
    for ref in m.fields:
        source_type: ColumnType | None = None
        if ref.source_field.startswith(CUSTOM_FIELD_PREFIX) and tickets is not None:
            source_type = _ticket_field_type(ref, tickets, errs)
        what = f"ticket field {ref.source_field.removeprefix(CUSTOM_FIELD_PREFIX)}"
        columns.append(
            Column(
                ref.column, _typed(ref, source_type, what, errs), ref.source_field, ref.transform
            )
        )
    return StreamSpec(
        m.stream, "zendesk", m.source_object, tuple(columns), m.cursor_field, m.origin, m.options
    )


def _ticket_field_type(
    ref: FieldRef, tickets: Mapping[int, Mapping[str, Any]], errs: Problems
) -> ColumnType | None:
    field_id = int(ref.source_field.removeprefix(CUSTOM_FIELD_PREFIX))
    found = tickets.get(field_id)
    if found is None:
        custom = [f"{i} '{f.get('title')}'" for i, f in tickets.items() if f.get("removable")]
        shown = ", ".join(custom[:12]) + (", ..." if len(custom) > 12 else "")
        errs.append((ref.key, f"no ticket field {field_id} in Zendesk (custom fields: {shown})"))
        return None
    if found.get("removable") is False:
        title = found.get("title")
        errs.append(
            (ref.key, f"ticket field {field_id} '{title}' is a system field: map it under [fields]")
        )
        return None
    return ZENDESK_FIELD_TYPES.get(str(found.get("type")), "text")


def _csv(m: StreamMapping, errs: Problems) -> StreamSpec:
    columns = tuple(
        Column(r.column, _typed(r, None, "a CSV column", errs), r.source_field, r.transform)
        for r in m.fields
    )
    if not Path(m.source_object).is_dir():
        errs.append(("folder", f"no such folder: {m.source_object}"))
    return StreamSpec(m.stream, "csv", m.source_object, columns, None, m.origin, m.options)
