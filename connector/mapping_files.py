"""One mapping file read and checked on its own: names, columns, transforms, Zendesk attributes.

Each problem is a (key, reason) pair, collected rather than raised, so that ``load_mappings`` can
report every file's problems in one pass.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from connector.mapping_schema import (
    FILE_MODELS,
    CsvFile,
    CustomerFilter,
    FieldMap,
    FieldRef,
    SalesforceFile,
    StreamMapping,
    ZendeskFile,
    did_you_mean,
    pydantic_problems,
    read_toml,
)
from connector.model import SourceName
from connector.transforms import CUSTOM_FIELD_PREFIX, TRANSFORMS

NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,55}$")  # mirror_<name> fits PostgreSQL's 63 characters
API_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
RESERVED_COLUMNS = {  # the mirror table's own columns (connector.store.mirror)
    "id": "record id",
    "modstamp": "modstamp",
    "deleted": "deleted flag",
    "pulled_at": "time of the pull",
}
SF_IMPLICIT = {
    "id": "the record id",
    "isdeleted": "the deleted flag",
    "systemmodstamp": "the modstamp",
}
ZENDESK_DICT_ATTRIBUTES = frozenset(
    {"organization_fields", "user_fields", "via", "satisfaction_rating"}
)
# The attributes each Zendesk endpoint returns (Support API reference); dict-valued ones
# (organization_fields, user_fields, via, satisfaction_rating) take a dotted path.
_TICKET = (
    "url external_id type subject raw_subject description priority status recipient "
    "requester_id submitter_id assignee_id organization_id group_id collaborator_ids "
    "follower_ids email_cc_ids forum_topic_id problem_id has_incidents is_public due_at tags "
    "satisfaction_rating sharing_agreement_ids custom_status_id followup_ids ticket_form_id "
    "brand_id allow_channelback allow_attachments from_messaging_channel generated_timestamp "
    "via created_at updated_at"
)
_USER = (
    "url name email created_at updated_at time_zone iana_time_zone phone shared_phone_number "
    "photo locale_id locale organization_id role verified external_id tags alias active shared "
    "shared_agent last_login_at two_factor_auth_enabled signature details notes role_type "
    "custom_role_id moderator ticket_restriction only_private_comments restricted_agent "
    "suspended default_group_id report_csv user_fields"
)
_ORGANIZATION = (
    "url external_id name created_at updated_at deleted_at domain_names details notes group_id "
    "shared_tickets shared_comments tags organization_fields"
)
_GROUP = "url name description default deleted is_public created_at updated_at"
ZENDESK_ATTRIBUTES: dict[str, frozenset[str]] = {
    "tickets": frozenset(_TICKET.split()),
    "users": frozenset(_USER.split()),
    "organizations": frozenset(_ORGANIZATION.split()),
    "groups": frozenset(_GROUP.split()),
}


Problems = list[tuple[str, str]]
_ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "latin-1", "cp1252")
_NAME_RULE = "lower-case letters, digits and _, starting with a letter"
_FILTER_MISSING = (
    'missing: which accounts are customers? (e.g. field = "Type", values = ["Customer - Direct"])'
)
_FIELD_IDS = "ticket field ids are numbers (Admin Center > Objects and rules > Tickets > Fields)"


def load_file(
    path: Path, source: SourceName, origin: str, errs: Problems, *, base: Path
) -> StreamMapping | None:
    """One file as a ``StreamMapping`` (None if unreadable); ``base`` anchors relative folders."""
    data = read_toml(path, errs)
    if data is None:
        return None
    model: type[BaseModel] = FILE_MODELS[source]
    try:
        parsed = model.model_validate(data)
    except ValidationError as exc:
        errs.extend(pydantic_problems(exc, model))
        return None
    if isinstance(parsed, SalesforceFile):
        return _salesforce(parsed, origin, errs)
    if isinstance(parsed, ZendeskFile):
        return _zendesk(parsed, origin, errs)
    assert isinstance(parsed, CsvFile)
    return _csv(parsed, origin, base, errs)


def _check_name(value: str, key: str, errs: Problems) -> None:
    if not NAME_RE.match(value):
        errs.append((key, f"'{value}' is not a valid {key} name ({_NAME_RULE}; at most 56)"))


class _Columns:
    """Collects a file's field references, refusing bad, reserved and repeated columns."""

    def __init__(self, errs: Problems) -> None:
        self.errs, self.refs, self.seen = errs, list[FieldRef](), dict[str, str]()

    def add(self, source_field: str, entry: FieldMap, key: str) -> None:
        column, transform = entry.column, entry.transform
        if not NAME_RE.match(column):
            self.errs.append((key, f"column '{column}' is not a valid column name ({_NAME_RULE})"))
        elif column in RESERVED_COLUMNS:
            what = RESERVED_COLUMNS[column]
            self.errs.append((key, f"column '{column}' is reserved for the mirror table's {what}"))
        elif column in self.seen:
            self.errs.append((key, f"column '{column}' is also mapped from {self.seen[column]}"))
        if transform is not None and transform not in TRANSFORMS:
            known = ", ".join(sorted(TRANSFORMS))
            self.errs.append((key, f"unknown transform '{transform}' (known: {known})"))
        self.seen.setdefault(column, key)
        self.refs.append(FieldRef(source_field, column, transform, key))


def _salesforce(f: SalesforceFile, origin: str, errs: Problems) -> StreamMapping:
    _check_name(f.stream, "stream", errs)
    if not API_NAME_RE.match(f.object):
        errs.append(("object", f"'{f.object}' is not a Salesforce API name"))
    implicit = {**SF_IMPLICIT, f.cursor_field.lower(): "the modstamp (cursor_field)"}
    cols = _Columns(errs)
    for name, entry in f.fields.items():
        key = f"fields.{name}"
        if name.lower() in implicit:
            errs.append((key, f"pulled implicitly as {implicit[name.lower()]}: remove this line"))
        elif not API_NAME_RE.match(name):
            errs.append((key, f"'{name}' is not a Salesforce field API name"))
        else:
            cols.add(name, entry, key)
    mapping = StreamMapping(
        "salesforce", f.stream, f.object, origin, tuple(cols.refs), f.enabled, f.cursor_field
    )
    is_account = f.object.lower() == "account"
    if f.customer_filter is None:
        if is_account:
            errs.append(("customer_filter", _FILTER_MISSING))
        return mapping
    if not is_account:
        errs.append(("customer_filter", "only the Account mapping has a customer filter"))
        return mapping
    column = mapping.column_for(f.customer_filter.field)
    if column is None:
        reason = f"'{f.customer_filter.field}' is not mapped in [fields]: map it to a column first"
        errs.append(("customer_filter.field", reason))
        return mapping
    cf = CustomerFilter(f.stream, f.customer_filter.field, column, tuple(f.customer_filter.values))
    return StreamMapping(
        "salesforce", f.stream, f.object, origin, mapping.fields, f.enabled, f.cursor_field, {}, cf
    )


def _zendesk_attribute(endpoint: str, name: str, key: str, errs: Problems) -> bool:
    first = name.split(".", 1)[0]
    known = ZENDESK_ATTRIBUTES[endpoint]
    if first == "id":
        errs.append((key, "pulled implicitly as the record id: remove this line"))
    elif first not in known:
        errs.append((key, f"{endpoint} have no attribute '{first}'{did_you_mean(first, known)}"))
    elif "." in name and first not in ZENDESK_DICT_ATTRIBUTES:
        errs.append((key, f"'{first}' is not an object: a dotted path cannot go into it"))
    else:
        return True
    return False


def _zendesk(f: ZendeskFile, origin: str, errs: Problems) -> StreamMapping:
    _check_name(f.stream, "stream", errs)
    cols = _Columns(errs)
    for name, entry in f.fields.items():
        if _zendesk_attribute(f.endpoint, name, f"fields.{name}", errs):
            cols.add(name, entry, f"fields.{name}")
    options: dict[str, Any] = {"endpoint": f.endpoint}
    if f.custom_fields and f.endpoint != "tickets":
        errs.append(("custom_fields", "only tickets have custom fields in this mapping"))
    elif f.custom_fields:
        options["custom_fields"] = _custom_fields(f.custom_fields, cols, errs)
    if f.account_link is not None and f.endpoint != "organizations":
        errs.append(("account_link", "only the organizations mapping links to accounts"))
    elif f.account_link is not None:
        link = f.account_link.field
        if _zendesk_attribute(f.endpoint, link, "account_link.field", errs):
            cols.add(link, FieldMap(column="account_id", transform="id18"), "account_link")
            options["account_link"] = {"field": link, "column": "account_id"}
    cursor = None if f.endpoint == "groups" else "updated_at"
    return StreamMapping(
        "zendesk", f.stream, f.endpoint, origin, tuple(cols.refs), f.enabled, cursor, options
    )


def _custom_fields(
    entries: Mapping[str, FieldMap], cols: _Columns, errs: Problems
) -> dict[int, str]:
    found: dict[int, str] = {}
    for raw_id, entry in entries.items():
        key = f"custom_fields.{raw_id}"
        if not raw_id.isdigit():
            errs.append((key, _FIELD_IDS))
            continue
        cols.add(f"{CUSTOM_FIELD_PREFIX}{int(raw_id)}", entry, key)
        found[int(raw_id)] = entry.column
    return found


def _csv(f: CsvFile, origin: str, base: Path, errs: Problems) -> StreamMapping:
    _check_name(f.stream, "stream", errs)
    if not f.id_column.strip():
        errs.append(("id_column", "must name the CSV column that holds each row's id"))
    cols = _Columns(errs)
    for name, entry in f.fields.items():
        cols.add(name, entry, f"fields.{name}")
    try:
        codecs.lookup(f.encoding)
    except LookupError:
        errs.append(
            ("encoding", f"unknown encoding '{f.encoding}'{did_you_mean(f.encoding, _ENCODINGS)}")
        )
    folder = Path(f.folder).expanduser()
    if not folder.is_absolute():
        folder = base / folder  # relative to the folder that holds mappings/
    options = {
        "folder": str(folder),
        "pattern": f.pattern,
        "id_column": f.id_column,
        "delimiter": f.delimiter,
        "encoding": f.encoding,
    }
    return StreamMapping(
        "csv", f.stream, str(folder), origin, tuple(cols.refs), f.enabled, None, options
    )
