"""The sandbox org's schema: standard objects plus the SFDX metadata the project ships.

The connector's own objects are read from ``salesforce/force-app`` and the demo org's input
fields from ``salesforce/demo-inputs``, so the deployable metadata and the emulator cannot drift.
Names are case-insensitive in SOQL and the REST API, so lookups here are too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class FieldDef:
    """One field as describe reports it. ``type`` uses describe's names (string, reference, ...)."""

    name: str
    type: str  # id string textarea picklist multipicklist boolean double currency percent int
    #            date datetime reference email phone url
    label: str = ""
    length: int = 0  # strings, textareas, picklists; 0 for other types
    precision: int = 0  # numbers: total digits
    scale: int = 0  # numbers: digits after the point
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    defaulted_on_create: bool = False
    default_value: Any = None
    external_id: bool = False
    unique: bool = False
    case_sensitive: bool = False
    picklist_values: tuple[str, ...] = ()
    restricted_picklist: bool = False
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None  # e.g. "Account" for AccountId, "CSM__r" for CSM__c
    calculated: bool = False
    custom: bool = False
    name_field: bool = False
    id_lookup: bool = False  # usable to find a record: Id, External Ids, Username, ...
    child_relationship_name: str | None = None  # what the parent calls us (Account.Contacts)
    cascade_delete: bool = False  # deleting the parent deletes this record (master-detail)

    @property
    def polymorphic(self) -> bool:
        """A reference to several object types (Task.WhatId)."""
        return len(self.reference_to) > 1

    @property
    def required_on_create(self) -> bool:
        """Salesforce requires a value on create when not nillable, createable, not defaulted."""
        return (
            (not self.nillable)
            and self.createable
            and not self.defaulted_on_create
            and (self.type != "boolean")
        )


@dataclass(frozen=True)
class ChildRelationship:
    """A child relationship as describe lists it (e.g. Account.Contacts)."""

    child_sobject: str
    field: str
    relationship_name: str | None
    cascade_delete: bool = False


@dataclass(frozen=True)
class SObjectDef:
    """One sObject: its fields in describe order and how records of it are identified."""

    name: str
    label: str
    label_plural: str
    key_prefix: str
    custom: bool
    fields: dict[str, FieldDef]
    child_relationships: tuple[ChildRelationship, ...] = ()
    queryable: bool = True
    createable: bool = True
    updateable: bool = True
    deletable: bool = True
    activities_enabled: bool = False  # Tasks and Events may point to its records (WhatId)
    _lower: dict[str, FieldDef] = field(default_factory=dict, compare=False, repr=False)
    _relationships: dict[str, FieldDef] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        """Index fields and relationships by lower-case name: the API ignores case."""
        self._lower.update({name.lower(): f for name, f in self.fields.items()})
        self._relationships.update(
            {f.relationship_name.lower(): f for f in self.fields.values() if f.relationship_name}
        )

    def field(self, name: str) -> FieldDef | None:
        """The field named ``name``, any case."""
        return self._lower.get(name.lower())

    def relationship(self, name: str) -> FieldDef | None:
        """The reference field behind relationship ``name`` (``Account``, ``CSM__r``), any case."""
        return self._relationships.get(name.lower())


class Schema:
    """The org's objects by name (any case) and key prefix; describe output for the REST API."""

    def __init__(self, objects: Iterable[SObjectDef]) -> None:
        """Index ``objects``, keeping their order (standard first, as ``load_schema`` builds)."""
        self._objects = {obj.name.lower(): obj for obj in objects}
        self._prefixes = {obj.key_prefix: obj for obj in self._objects.values()}

    def get(self, name: str) -> SObjectDef | None:
        """The object named ``name``, any case; None when the org has no such object."""
        return self._objects.get(name.lower())

    def by_prefix(self, prefix: str) -> SObjectDef | None:
        """The object whose ids start with ``prefix`` (the first three characters of an id)."""
        return self._prefixes.get(prefix[:3])

    def names(self) -> list[str]:
        """Object API names: standard objects first, then custom ones."""
        return [obj.name for obj in self._objects.values()]

    def __iter__(self) -> Iterator[SObjectDef]:
        """Every object, in ``names()`` order."""
        return iter(self._objects.values())

    def describe_global(
        self, version: str, hidden: Callable[[str], bool] | None = None
    ) -> dict[str, Any]:
        """``GET /services/data/vXX.X/sobjects/``; ``hidden(name)`` drops objects from the list."""
        from connector.sandbox.salesforce.describe import describe_global

        return describe_global(
            [o for o in self if hidden is None or not hidden(o.name)], _bare(version)
        )

    def describe(
        self, name: str, version: str, hidden_fields: AbstractSet[str] = frozenset()
    ) -> dict[str, Any]:
        """``GET .../sobjects/<name>/describe``; raises KeyError for an unknown object."""
        from connector.sandbox.salesforce.describe import describe_sobject

        obj = self.get(name)
        if obj is None:
            raise KeyError(name)
        return describe_sobject(obj, _bare(version), {h.lower() for h in hidden_fields})


def _bare(version: str) -> str:
    return version.removeprefix("v")


def load_schema(metadata_dirs: Sequence[Path] | None = None) -> Schema:
    """Standard objects from the packaged data file, then the SFDX packages' objects and fields.

    ``metadata_dirs`` are SFDX package directories; by default ``salesforce/force-app`` and
    ``salesforce/demo-inputs`` of this checkout (or the copy shipped inside the wheel).
    """
    from connector.sandbox.salesforce.schema_build import build_objects

    dirs = default_metadata_dirs() if metadata_dirs is None else [Path(d) for d in metadata_dirs]
    return Schema(build_objects(dirs))


_HERE = Path(__file__).resolve().parent
METADATA_ROOTS = (_HERE.parents[2] / "salesforce", _HERE / "data" / "metadata")
PACKAGES = ("force-app", "demo-inputs")


def default_metadata_dirs() -> list[Path]:
    """The repo's SFDX packages, else the copy a wheel build puts under ``sandbox/data``."""
    for root in METADATA_ROOTS:
        dirs = [root / pkg for pkg in PACKAGES]
        if all(d.is_dir() for d in dirs):
            return dirs
    raise FileNotFoundError(f"no SFDX packages {PACKAGES} under any of {METADATA_ROOTS}")
