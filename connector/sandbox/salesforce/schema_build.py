"""Build the sandbox org's ``SObjectDef``s: standard objects from data, custom ones from SFDX.

Standard objects come from ``data/standard_objects.toml``; each SFDX object folder either adds
fields to one of them (``Activity`` fields go to both Task and Event, as in a real org) or defines
a custom object, which gets the system fields every custom object has. Child relationships are
derived from reference fields, so ``Account.Contacts`` and ``CS_CTA__c.Tasks`` need no listing.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connector.sandbox.salesforce.schema import ChildRelationship, FieldDef, SObjectDef
from connector.sandbox.salesforce.sfdx import FieldSpec, ObjectSource, read_packages

STANDARD_OBJECTS = Path(__file__).resolve().parent / "data" / "standard_objects.toml"
ACTIVITY_OBJECTS = ("Task", "Event")
_SPEC_ONLY = ("values", "default", "child")


@dataclass
class _Draft:
    name: str
    label: str
    label_plural: str
    key_prefix: str
    custom: bool
    fields: dict[str, FieldSpec]
    createable: bool = True
    updateable: bool = True
    deletable: bool = True
    activities_enabled: bool = False


def build_objects(package_dirs: list[Path]) -> list[SObjectDef]:
    """All objects: the standard ones, then each package's custom objects, prefixes assigned."""
    data = tomllib.loads(STANDARD_OBJECTS.read_text(encoding="utf-8"))
    groups: dict[str, dict[str, FieldSpec]] = data["groups"]
    drafts = {name: _standard(name, obj, groups) for name, obj in data["objects"].items()}
    prefixes: dict[str, str] = data.get("custom_key_prefixes", {})
    for source in read_packages(package_dirs):
        _merge(drafts, source, groups)
    _assign_prefixes(drafts, prefixes)
    _point_activities(drafts)
    fields = {d.name: _fields(d) for d in drafts.values()}
    children = _children(fields)
    return [
        SObjectDef(
            name=d.name,
            label=d.label,
            label_plural=d.label_plural,
            key_prefix=d.key_prefix,
            custom=d.custom,
            fields=fields[d.name],
            child_relationships=tuple(children.get(d.name, ())),
            createable=d.createable,
            updateable=d.updateable,
            deletable=d.deletable,
            activities_enabled=d.activities_enabled,
        )
        for d in drafts.values()
    ]


def _standard(name: str, obj: dict[str, Any], groups: dict[str, dict[str, FieldSpec]]) -> _Draft:
    specs: dict[str, FieldSpec] = {}
    for group in obj.get("head", []):
        specs.update(groups[group])
    specs.update(obj.get("fields", {}))
    for group in obj.get("tail", []):
        specs.update(groups[group])
    if "Id" in specs:
        specs["Id"] = {**specs["Id"], "label": f"{obj['label']} ID"}
    return _Draft(
        name,
        obj["label"],
        obj["label_plural"],
        obj["key_prefix"],
        False,
        specs,
        createable=obj.get("createable", True),
        updateable=obj.get("updateable", True),
        deletable=obj.get("deletable", True),
    )


def _merge(drafts: dict[str, _Draft], source: ObjectSource, groups: dict[str, Any]) -> None:
    targets = ACTIVITY_OBJECTS if source.name == "Activity" else (source.name,)
    for target in targets:
        draft = drafts.get(target)
        if draft is None:
            draft = drafts[target] = _custom(source, groups)
        clash = draft.fields.keys() & source.fields.keys()
        if clash:
            raise ValueError(f"{target}: fields defined twice: {sorted(clash)}")
        draft.fields.update(source.fields)


def _custom(source: ObjectSource, groups: dict[str, Any]) -> _Draft:
    """A custom object with the system fields a real org adds to every one."""
    if not source.name.endswith("__c") or source.label is None:
        raise ValueError(f"objects/{source.name}: not a known standard object nor a custom one")
    specs: dict[str, FieldSpec] = {"Id": {**groups["id"]["Id"], "label": "Record ID"}}
    if source.sharing_model != "ControlledByParent":  # detail records have no owner
        specs.update(groups["owner"])
    specs.update(groups["deleted"])
    specs["Name"] = {
        "type": "string",
        "label": source.name_label,
        "length": 80,
        "name_field": True,
        "id_lookup": True,
        "defaulted_on_create": True,
    }
    specs.update(groups["audit"])
    if source.activities_enabled:
        specs.update(groups["activity"])
    return _Draft(
        source.name,
        source.label,
        source.label_plural or source.label,
        "",
        True,
        specs,
        activities_enabled=source.activities_enabled,
    )


def _assign_prefixes(drafts: dict[str, _Draft], fixed: dict[str, str]) -> None:
    """Listed prefixes first; any other custom object takes the next free ``aNN`` by name."""
    taken = {d.key_prefix for d in drafts.values() if d.key_prefix} | set(fixed.values())
    free = (p for p in (f"a{n:02d}" for n in range(1, 100)) if p not in taken)
    for draft in sorted(drafts.values(), key=lambda d: d.name):
        if draft.custom:
            draft.key_prefix = fixed.get(draft.name) or next(free)


def _point_activities(drafts: dict[str, _Draft]) -> None:
    """Task/Event ``WhatId`` may point to every custom object that enables activities."""
    enabled = [d.name for d in drafts.values() if d.activities_enabled]
    for name in ACTIVITY_OBJECTS:
        what = drafts[name].fields["WhatId"]
        what["reference_to"] = [*what["reference_to"], *enabled]


def _fields(draft: _Draft) -> dict[str, FieldDef]:
    return {name: to_field(name, spec) for name, spec in draft.fields.items()}


def to_field(name: str, spec: FieldSpec) -> FieldDef:
    """A ``FieldDef`` from a spec, with describe's rules: booleans are never null, ids are 18."""
    kw = {k: v for k, v in spec.items() if k not in _SPEC_ONLY}
    default = spec.get("default")
    kind = kw["type"]
    if kind == "boolean":
        kw.update(nillable=False, defaulted_on_create=True, default_value=bool(default))
    elif default is not None:
        kw.update(defaulted_on_create=True, default_value=default)
    if kind in ("id", "reference"):
        kw["length"] = 18
    if kind == "id" or kw.get("external_id"):
        kw["id_lookup"] = True
    kw.setdefault("label", name)
    kw["picklist_values"] = tuple(spec.get("values") or ())
    kw["reference_to"] = tuple(kw.get("reference_to", ()))
    kw["child_relationship_name"] = spec.get("child")
    return FieldDef(name=name, **kw)


def _children(fields: dict[str, dict[str, FieldDef]]) -> dict[str, list[ChildRelationship]]:
    out: dict[str, list[ChildRelationship]] = {}
    for child, by_name in fields.items():
        for f in by_name.values():
            for parent in f.reference_to:
                rel = ChildRelationship(child, f.name, f.child_relationship_name, f.cascade_delete)
                out.setdefault(parent, []).append(rel)
    return out
