"""Output mappings (``mappings/salesforce/outputs/*.toml``): how each output object is written.

Which CRM object and External Id field carries an output, which of its fields the connector
owns (hashed, updated when they change), which are the rule's value only on create (a person
owns them after that), constants and stamps, the parent reference and the status model that
tells reconcile whether a person closed the record. Every problem is named ``file:key``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from connector.errors import ConfigError, ConfigErrors
from connector.mapping_schema import did_you_mean, pydantic_problems, read_toml

OUTPUTS = (
    "cta",
    "task",
    "timeline_entry",
    "milestone",
    "health_snapshot",
    "success_plan",
    "objective",
    "persona",
    "account_health",
)
# Parents before children: a child refers to its parent by External Id in the same push.
WRITE_ORDER = (
    "cta",
    "success_plan",
    "task",
    "objective",
    "milestone",  # after the tasks it completes (``after_siblings``), before its timeline note
    "timeline_entry",
    "health_snapshot",
    "account_health",
    "persona",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class ParentFile(_Strict):
    output: Literal[OUTPUTS]  # type: ignore[valid-type]
    relationship: str | None = None  # e.g. "What", "CTA__r"; none: ordering and keys only
    # Written only once every sibling under the same parent landed in this push: a rule that
    # reads this record as "done" (the IVM milestone) must not see it before the tasks exist.
    after_siblings: bool = False


class StatusFile(_Strict):
    field: str | None = None  # a status picklist (CTA)
    open: list[str] = Field(default_factory=list)
    successful: list[str] = Field(default_factory=list)
    auto_close: str | None = None
    snooze_field: str | None = None
    closed_flag: str | None = None  # a boolean meaning closed (Task.IsClosed)


class TargetFile(_Strict):
    output: Literal[OUTPUTS]  # type: ignore[valid-type]
    object: str
    match: Literal["external_id", "id"] = "external_id"
    external_id: str | None = None
    hash_field: str | None = None
    id_from: str | None = None  # match = "id": the desired field holding the record Id
    stream: str | None = None
    guard: str | None = None  # match = "id": a field written only if blank or still ours
    parent: ParentFile | None = None
    fields: dict[str, str] = Field(min_length=1)
    unhashed: dict[str, str] = Field(default_factory=dict)
    on_create: dict[str, str] = Field(default_factory=dict)
    constants: dict[str, Any] = Field(default_factory=dict)
    stamps: dict[str, Literal["now", "today"]] = Field(default_factory=dict)
    status: StatusFile | None = None


@dataclass(frozen=True)
class Target:
    """One output object's write rules (see the module docstring)."""

    output: str
    sobject: str
    origin: str  # the file, for messages
    match: str
    external_id: str | None
    hash_field: str | None
    id_from: str | None
    stream: str | None
    guard: str | None
    parent: ParentFile | None
    fields: Mapping[str, str]
    unhashed: Mapping[str, str]
    on_create: Mapping[str, str]
    constants: Mapping[str, Any]
    stamps: Mapping[str, str]
    status: StatusFile | None
    lengths: Mapping[str, int] = field(default_factory=dict)  # CRM text field -> max length

    @property
    def by_id(self) -> bool:
        return self.match == "id"

    def crm_field(self, name: str) -> str | None:
        """The CRM field of a desired field, wherever it is declared."""
        for section in (self.fields, self.unhashed, self.on_create):
            if name in section:
                return section[name]
        return None


def load_targets(root: Path) -> dict[str, Target]:
    """Every output mapping under ``root/salesforce/outputs``, checked; all problems at once."""
    folder = root / "salesforce" / "outputs"
    if not folder.is_dir():
        where = "mappings/salesforce/outputs"
        raise ConfigErrors([ConfigError(where, "", "no such folder: the output mappings")])
    problems: list[ConfigError] = []
    targets: dict[str, Target] = {}
    for path in sorted(folder.glob("*.toml")):
        origin = f"mappings/salesforce/outputs/{path.name}"
        errs: list[tuple[str, str]] = []
        data = read_toml(path, errs)
        if data is None:
            problems.extend(ConfigError(origin, k, r) for k, r in errs)
            continue
        try:
            parsed = TargetFile.model_validate(data)
        except ValidationError as exc:
            problems.extend(
                ConfigError(origin, k, r) for k, r in pydantic_problems(exc, TargetFile)
            )
            continue
        problems.extend(ConfigError(origin, k, r) for k, r in _meaning(parsed))
        if parsed.output in targets:
            problems.append(
                ConfigError(
                    origin,
                    "output",
                    f"{parsed.output!r} is already mapped by {targets[parsed.output].origin}",
                )
            )
            continue
        targets[parsed.output] = Target(
            output=parsed.output,
            sobject=parsed.object,
            origin=origin,
            match=parsed.match,
            external_id=parsed.external_id,
            hash_field=parsed.hash_field,
            id_from=parsed.id_from,
            stream=parsed.stream,
            guard=parsed.guard,
            parent=parsed.parent,
            fields=parsed.fields,
            unhashed=parsed.unhashed,
            on_create=parsed.on_create,
            constants=parsed.constants,
            stamps=parsed.stamps,
            status=parsed.status,
        )
    for output in OUTPUTS:
        if output not in targets and not problems:
            problems.append(
                ConfigError(
                    f"mappings/salesforce/outputs/{output}.toml",
                    "",
                    "missing: every output "
                    f"object needs its output mapping (known: {', '.join(OUTPUTS)})",
                )
            )
    if problems:
        raise ConfigErrors(problems)
    return targets


def _meaning(t: TargetFile) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if t.match == "external_id" and not t.external_id:
        out.append(("external_id", "missing: the External Id field that holds the output key"))
    if t.match == "id" and not t.id_from:
        out.append(("id_from", "missing: the desired field that holds the record Id"))
    if t.guard is not None and t.guard not in t.fields:
        hint = did_you_mean(t.guard, list(t.fields))
        out.append(("guard", f"not one of [fields]{hint}"))
    seen: dict[str, str] = {}
    for section in ("fields", "unhashed", "on_create"):
        for name, crm in getattr(t, section).items():
            if crm in seen:
                out.append((f"{section}.{name}", f"{crm} is already written by {seen[crm]}"))
            seen[crm] = f"{section}.{name}"
    return out


def with_lengths(
    targets: Mapping[str, Target], describe: Callable[[str], Mapping[str, Any] | None]
) -> dict[str, Target]:
    """The targets with their text fields' lengths from the org's describe, so text taken from
    tickets and CRM records is cut to fit instead of failing the write (STRING_TOO_LONG)."""
    out: dict[str, Target] = {}
    for name, t in targets.items():
        found = describe(t.sobject) or {}
        lengths = {
            str(f["name"]): int(f["length"])
            for f in found.get("fields", [])
            if f.get("type") in ("string", "textarea", "combobox", "url", "email", "phone")
            and int(f.get("length") or 0) > 0
        }
        out[name] = replace(t, lengths=lengths)
    return out
