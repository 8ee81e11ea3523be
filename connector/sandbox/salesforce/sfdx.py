"""Read SFDX source-format metadata (``objects/<Object>/...-meta.xml``) into field specs.

The sandbox builds its schema from the same files an admin deploys, so the emulator cannot drift
from the org. A field spec is a plain dict in the vocabulary of ``standard_objects.toml``
(``FieldDef`` attribute names plus ``values``, ``default`` and ``child``), so standard and
custom fields go through one builder in ``sf_schema``. The files are ours, hence ElementTree.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

METADATA_NS = "http://soap.sforce.com/2006/04/metadata"
_NS = {"m": METADATA_NS}

FieldSpec = dict[str, Any]


@dataclass
class ObjectSource:
    """One ``objects/<name>`` folder: the object header (custom objects only) and its fields."""

    name: str
    fields: dict[str, FieldSpec] = field(default_factory=dict)
    label: str | None = None
    label_plural: str | None = None
    name_label: str = "Name"
    activities_enabled: bool = False
    sharing_model: str = "ReadWrite"


def read_packages(package_dirs: list[Path]) -> list[ObjectSource]:
    """Every object folder under each package dir (``<pkg>/**/objects/<Object>``), in order."""
    out: list[ObjectSource] = []
    for pkg in package_dirs:
        for objects_dir in sorted(pkg.glob("**/objects")):
            for obj_dir in sorted(p for p in objects_dir.iterdir() if p.is_dir()):
                out.append(read_object_dir(obj_dir))
    return out


def read_object_dir(obj_dir: Path) -> ObjectSource:
    """Parse ``<Object>.object-meta.xml`` (if present) and ``fields/*.field-meta.xml``."""
    source = ObjectSource(name=obj_dir.name)
    header = obj_dir / f"{obj_dir.name}.object-meta.xml"
    if header.exists():
        _read_header(header, source)
    for path in sorted((obj_dir / "fields").glob("*.field-meta.xml")):
        name, spec = parse_field(path)
        source.fields[name] = spec
    return source


def _root(path: Path, tag: str) -> ET.Element:
    root = ET.parse(path).getroot()
    if root.tag != f"{{{METADATA_NS}}}{tag}":
        raise ValueError(f"{path}: expected <{tag}> in the Metadata API namespace, got {root.tag}")
    return root


def _text(el: ET.Element, tag: str, default: str | None = None) -> str | None:
    child = el.find(f"m:{tag}", _NS)
    return child.text if child is not None and child.text is not None else default


def _flag(el: ET.Element, tag: str) -> bool:
    return _text(el, tag) == "true"


def _int(el: ET.Element, tag: str, default: int = 0) -> int:
    return int(_text(el, tag) or default)


def _read_header(path: Path, source: ObjectSource) -> None:
    root = _root(path, "CustomObject")
    source.label = _text(root, "label")
    source.label_plural = _text(root, "pluralLabel")
    source.activities_enabled = _flag(root, "enableActivities")
    source.sharing_model = _text(root, "sharingModel") or "ReadWrite"
    name_field = root.find("m:nameField", _NS)
    if name_field is not None:
        if _text(name_field, "type") != "Text":
            raise ValueError(f"{path}: only Text name fields are supported")
        source.name_label = _text(name_field, "label") or "Name"


def parse_field(path: Path) -> tuple[str, FieldSpec]:
    """One ``CustomField`` file as (API name, field spec); unknown types are an error."""
    root = _root(path, "CustomField")
    name = _text(root, "fullName") or path.name.removesuffix(".field-meta.xml")
    kind = _text(root, "type") or ""
    build = _BUILDERS.get(kind)
    if build is None:
        raise ValueError(f"{path}: field type {kind!r} is not supported by the sandbox")
    spec: FieldSpec = {
        "label": _text(root, "label") or name,
        "custom": True,
        "nillable": not _flag(root, "required"),
    }
    spec.update(build(root, name))
    return name, spec


def _text_spec(root: ET.Element, name: str) -> FieldSpec:
    return {
        "type": "string",
        "length": _int(root, "length", 255),
        "external_id": _flag(root, "externalId"),
        "unique": _flag(root, "unique"),
        "case_sensitive": _flag(root, "caseSensitive"),
    }


def _long_text_spec(root: ET.Element, name: str) -> FieldSpec:
    return {"type": "textarea", "length": _int(root, "length", 32768)}


def _picklist_values(root: ET.Element) -> tuple[list[str], str | None, bool]:
    value_set = root.find("m:valueSet", _NS)
    if value_set is None:
        return [], None, False
    values: list[str] = []
    default = None
    for value in value_set.iterfind("m:valueSetDefinition/m:value", _NS):
        full_name = _text(value, "fullName") or ""
        values.append(full_name)
        if _flag(value, "default"):
            default = full_name
    return values, default, _flag(value_set, "restricted")


def _picklist_spec(root: ET.Element, name: str) -> FieldSpec:
    values, default, restricted = _picklist_values(root)
    return {
        "type": "picklist",
        "length": 255,
        "values": values,
        "default": default,
        "restricted_picklist": restricted,
    }


def _multi_spec(root: ET.Element, name: str) -> FieldSpec:
    return {**_picklist_spec(root, name), "type": "multipicklist", "length": 4099}


def _checkbox_spec(root: ET.Element, name: str) -> FieldSpec:
    return {"type": "boolean", "default": _text(root, "defaultValue") == "true"}


def _number(kind: str) -> Callable[[ET.Element, str], FieldSpec]:
    def spec(root: ET.Element, name: str) -> FieldSpec:
        return {
            "type": kind,
            "precision": _int(root, "precision", 18),
            "scale": _int(root, "scale"),
        }

    return spec


def _lookup_spec(root: ET.Element, name: str) -> FieldSpec:
    child = _text(root, "relationshipName")
    master = _text(root, "type") == "MasterDetail"
    spec: FieldSpec = {
        "type": "reference",
        "reference_to": [_text(root, "referenceTo") or ""],
        "relationship_name": name.removesuffix("__c") + "__r",
        "child": f"{child}__r" if child else None,
        "cascade_delete": master or _text(root, "deleteConstraint") == "Cascade",
    }
    if master:
        spec.update(nillable=False, updateable=_flag(root, "reparentableMasterDetail"))
    return spec


def _fixed(kind: str, length: int = 0) -> Callable[[ET.Element, str], FieldSpec]:
    def spec(root: ET.Element, name: str) -> FieldSpec:
        return {"type": kind, "length": length}

    return spec


_BUILDERS: dict[str, Callable[[ET.Element, str], FieldSpec]] = {
    "Text": _text_spec,
    "TextArea": _fixed("textarea", 255),
    "LongTextArea": _long_text_spec,
    "Picklist": _picklist_spec,
    "MultiselectPicklist": _multi_spec,
    "Checkbox": _checkbox_spec,
    "Number": _number("double"),
    "Currency": _number("currency"),
    "Percent": _number("percent"),
    "Date": _fixed("date"),
    "DateTime": _fixed("datetime"),
    "Lookup": _lookup_spec,
    "MasterDetail": _lookup_spec,
    "Email": _fixed("email", 80),
    "Phone": _fixed("phone", 40),
    "Url": _fixed("url", 255),
}


def metadata_files(package_dirs: list[Path]) -> Iterator[Path]:
    """Every ``*-meta.xml`` file under the package dirs (for validation tests and checks)."""
    for pkg in package_dirs:
        yield from sorted(pkg.glob("**/*-meta.xml"))
