"""Every SOQL the Salesforce source sends, built from the stream's mapping through ``format_soql``.

Values go through ``format_soql`` (quoting, aware UTC datetimes); names cannot be quoted in
SOQL, so object and field names from the mapping are checked against the shape of an API name
(``Account.Owner.Name`` included) before they are placed in a query.
"""

from __future__ import annotations

import re
from datetime import datetime

from simple_salesforce.format import format_soql

from connector.errors import ConfigError
from connector.model import StreamSpec

DEFAULT_CURSOR = "SystemModstamp"
_SELECT = "SELECT {fields:literal} FROM {sobject:literal}"
_ORDER = " ORDER BY {cursor:literal}, Id"
_ALL = _SELECT + _ORDER
_FROM = _SELECT + " WHERE {cursor:literal} >= {since}" + _ORDER
_AFTER = _SELECT + " WHERE {cursor:literal} > {since}" + _ORDER
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*")


def cursor_field(spec: StreamSpec) -> str:
    """The field sweeps sort and resume by (SystemModstamp unless the mapping says otherwise)."""
    return spec.cursor_field or DEFAULT_CURSOR


def has_is_deleted(spec: StreamSpec) -> bool:
    """Most objects have IsDeleted; a few (User) do not, and say so in the mapping's options."""
    return bool(spec.options.get("has_is_deleted", True))


def fields(spec: StreamSpec) -> list[str]:
    """Id, the cursor field, IsDeleted where it exists, then the mapped fields; no repeats."""
    wanted = ["Id", cursor_field(spec)]
    if has_is_deleted(spec):
        wanted.append("IsDeleted")
    wanted += [column.source_field for column in spec.columns]
    names: list[str] = []
    for name in wanted:
        if not _NAME.fullmatch(name):
            raise ConfigError(spec.origin, f"fields.{name}", "not a Salesforce field name")
        if name.lower() not in {n.lower() for n in names}:
            names.append(name)
    return names


def _sobject(spec: StreamSpec) -> str:
    if not _NAME.fullmatch(spec.source_object) or "." in spec.source_object:
        raise ConfigError(spec.origin, "object", f"not an sObject name: {spec.source_object!r}")
    return spec.source_object


def incremental(spec: StreamSpec, since: datetime | None, inclusive: bool) -> str:
    """The sorted sweep: rows changed after (or from) ``since``, oldest first, ties by Id."""
    template = _ALL if since is None else _FROM if inclusive else _AFTER
    return format_soql(
        template,
        fields=", ".join(fields(spec)),
        sobject=_sobject(spec),
        cursor=cursor_field(spec),
        since=None if since is None else _aware(since),
    )


def bulk(spec: StreamSpec) -> str:
    """The initial load as a Bulk API 2.0 job: every row, no ORDER BY (Bulk refuses to sort)."""
    return format_soql(
        _SELECT,
        fields=", ".join(fields(spec)),
        sobject=_sobject(spec),
    )


def count(spec: StreamSpec) -> str:
    """How many rows an initial load would read (it picks REST or Bulk)."""
    return format_soql("SELECT COUNT() FROM {sobject:literal}", sobject=_sobject(spec))


def all_ids(spec: StreamSpec) -> str:
    """Every live Id, for the nightly sweep that finds hard-deleted rows."""
    return format_soql("SELECT Id FROM {sobject:literal} ORDER BY Id", sobject=_sobject(spec))


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: SOQL cursors are timezone-aware UTC")
    return moment
