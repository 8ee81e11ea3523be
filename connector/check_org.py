"""``cs-connector check-org``: does the org hold the objects and fields the connector writes?

Compares the org's sObject describe (as the integration user sees it: a field hidden by
field-level security is missing) with the shipped SFDX metadata (``salesforce/force-app``) and
with the output mappings. Each problem names the file to look at::

    salesforce/force-app/main/default/objects/CS_CTA__c/fields/Status__c.field-meta.xml: ...
    mappings/salesforce/outputs/cta.toml:fields.type: ...

Checked per metadata field: it exists; its describe type is the one its SFDX type deploys as
(Text -> string, LongTextArea -> textarea, Picklist -> picklist, Number -> double, Checkbox ->
boolean, Date -> date, DateTime -> datetime, Lookup/MasterDetail -> reference); an External Id
is flagged ``externalId``; every picklist value of the metadata is an active value in the org;
a text field is at least as long as the metadata says; a lookup points at the same object. Then
every CRM field an output mapping names must exist, so a mapping edited to a field the package
does not ship is caught too. An object or field reported missing from the metadata is not
reported again for the mapping that names it.

The SFDX files are read with the sandbox's parser (``connector.sandbox.salesforce.sfdx``), so
the emulator, this check and a deploy read one source.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connector.sandbox.salesforce.sfdx import FieldSpec, parse_field
from connector.targets import Target

Describe = Callable[[str], Mapping[str, Any] | None]

# An SFDX folder that is not one sObject: custom Activity fields land on Task and Event; the
# connector writes Tasks, so Task is the object whose describe must carry them.
DESCRIBED_AS = {"Activity": "Task"}
_TEXT_TYPES = frozenset({"string", "textarea"})


@dataclass(frozen=True)
class Problem:
    """One difference between the org and what the connector needs, located in a file."""

    file: str
    reason: str
    key: str = ""

    def line(self) -> str:
        where = f"{self.file}:{self.key}" if self.key else self.file
        return f"{where}: {self.reason}"


def default_metadata_dir() -> Path:
    """``salesforce/force-app`` of this checkout, else the copy shipped inside the wheel."""
    from connector.sandbox.salesforce.schema import default_metadata_dirs

    return default_metadata_dirs()[0]


def check_org(
    describe: Describe,
    metadata_dir: Path,
    targets: Mapping[str, Target],
    *,
    shown_as: str | None = None,
) -> list[Problem]:
    """Every difference between the org's describe and the metadata and mappings, in file order.

    ``describe(sobject)`` returns the sObject describe JSON, or None when the org has no such
    object (or the integration user cannot see it). ``metadata_dir`` is an SFDX package folder;
    problems name its files as ``shown_as/<path inside it>`` (default ``salesforce/<folder>``).
    """
    org = _Org(describe)
    prefix = shown_as if shown_as is not None else f"salesforce/{metadata_dir.name}"
    problems: list[Problem] = []
    missing: set[tuple[str, str]] = set()  # (object, field) reported; field "" for an object
    for obj_dir in _object_dirs(metadata_dir):
        sobject = DESCRIBED_AS.get(obj_dir.name, obj_dir.name)
        header = obj_dir / f"{obj_dir.name}.object-meta.xml"
        where = _shown(header if header.exists() else obj_dir, metadata_dir, prefix)
        fields = org.fields(sobject)
        if fields is None:
            missing.add((sobject.lower(), ""))
            problems.append(Problem(where, f"object {sobject} is not in the org{_HIDDEN}"))
            continue
        for path in sorted((obj_dir / "fields").glob("*.field-meta.xml")):
            shown = _shown(path, metadata_dir, prefix)
            try:
                name, spec = parse_field(path)
            except (ValueError, ET.ParseError) as exc:
                problems.append(Problem(shown, str(exc).removeprefix(f"{path}: ")))
                continue
            found = fields.get(name.lower())
            if found is None:
                missing.add((sobject.lower(), name.lower()))
                problems.append(Problem(shown, f"{sobject}.{name} is not in the org{_HIDDEN}"))
                continue
            problems.extend(Problem(shown, r) for r in _differences(sobject, name, spec, found))
    problems.extend(_mapping_problems(org, targets, missing))
    return problems


_HIDDEN = " (or the integration user cannot see it: check its permission sets)"


class _Org:
    """Describe each object once; fields by lower-case name (API names are case-insensitive)."""

    def __init__(self, describe: Describe) -> None:
        self._describe = describe
        self._cache: dict[str, dict[str, Mapping[str, Any]] | None] = {}

    def fields(self, sobject: str) -> dict[str, Mapping[str, Any]] | None:
        if sobject not in self._cache:
            body = self._describe(sobject)
            self._cache[sobject] = (
                None
                if body is None
                else {str(f["name"]).lower(): f for f in body.get("fields", [])}
            )
        return self._cache[sobject]


def _object_dirs(metadata_dir: Path) -> Iterator[Path]:
    for objects in sorted(metadata_dir.glob("**/objects")):
        yield from sorted(p for p in objects.iterdir() if p.is_dir())


def _shown(path: Path, metadata_dir: Path, prefix: str) -> str:
    return f"{prefix}/{path.relative_to(metadata_dir).as_posix()}"


def _differences(
    sobject: str, name: str, spec: FieldSpec, found: Mapping[str, Any]
) -> Iterator[str]:
    """What the org's field lacks that the metadata declares (type first: the rest follows it)."""
    want, got = spec["type"], found.get("type")
    if got != want:
        yield f"{sobject}.{name} is {got!r} in the org, the metadata deploys {want!r}"
        return
    if spec.get("external_id") and not found.get("externalId"):
        yield f"{sobject}.{name} is not an External Id in the org (upserts match on it)"
    if want in _TEXT_TYPES:
        length, declared = int(found.get("length") or 0), spec["length"]
        if length < declared:
            yield f"{sobject}.{name} holds {length} characters in the org, the metadata {declared}"
    values = spec.get("values") or []
    if values:
        active = {v.get("value") for v in found.get("picklistValues", []) if v.get("active", True)}
        lacking = [v for v in values if v not in active]
        if lacking:
            shown = ", ".join(repr(v) for v in lacking)
            yield f"{sobject}.{name} lacks the active picklist value(s) {shown}"
    if want == "reference":
        targets = list(found.get("referenceTo") or [])
        wanted = [t for t in spec.get("reference_to", []) if t]
        if wanted and not set(wanted) <= set(targets):
            yield f"{sobject}.{name} refers to {targets} in the org, the metadata to {wanted}"


def _mapping_problems(
    org: _Org, targets: Mapping[str, Target], missing: set[tuple[str, str]]
) -> Iterator[Problem]:
    for t in targets.values():
        fields = org.fields(t.sobject)
        if fields is None:
            if (t.sobject.lower(), "") not in missing:
                missing.add((t.sobject.lower(), ""))
                yield Problem(t.origin, f"object {t.sobject} is not in the org{_HIDDEN}", "object")
            continue
        for key, crm_field in _crm_fields(t):
            seen = (t.sobject.lower(), crm_field.lower())
            if crm_field.lower() not in fields and seen not in missing:
                missing.add(seen)
                yield Problem(t.origin, f"{t.sobject}.{crm_field} is not in the org{_HIDDEN}", key)


def _crm_fields(t: Target) -> Iterator[tuple[str, str]]:
    """(mapping key, CRM field) for every field the mapping writes or reads back."""
    for section, values in (
        ("fields", t.fields),
        ("unhashed", t.unhashed),
        ("on_create", t.on_create),
    ):
        for key, crm_field in values.items():
            yield f"{section}.{key}", crm_field
    for section, names in (("constants", t.constants), ("stamps", t.stamps)):
        for crm_field in names:
            yield f"{section}.{crm_field}", crm_field
    if t.external_id:
        yield "external_id", t.external_id
    if t.hash_field:
        yield "hash_field", t.hash_field
    if t.status is not None:
        for key in ("field", "snooze_field", "closed_flag"):
            value = getattr(t.status, key)
            if value:
                yield f"status.{key}", value
