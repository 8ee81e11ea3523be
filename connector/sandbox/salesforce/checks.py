"""How one record write is checked and applied, in the order an org checks it.

Names and types, relationship-by-External-Id values, required fields, references (missing,
wrong type, inactive user), unique values, then what the faults add for the integration user
(custom validation rules, row locks). The caller (``Org``) holds ``state.lock``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from connector.sandbox.salesforce import errors as err
from connector.sandbox.salesforce.errors import RecordError, WriteResult
from connector.sandbox.salesforce.schema import SObjectDef
from connector.sandbox.salesforce.values import (
    Checked,
    check_values,
    defaults,
    derive,
    missing_required,
)

if TYPE_CHECKING:
    from connector.sandbox.salesforce.store import Org

Hidden = Callable[[str], bool]


class WriteChecks:
    """Insert, update, upsert and delete for ``Org``, one record at a time."""

    def __init__(self, org: Org) -> None:
        self.org = org

    # -- operations ---------------------------------------------------------------------
    def insert(
        self, sobject: str, values: dict[str, Any], user_id: str, as_person: bool
    ) -> WriteResult:
        sobj = self.org.schema.get(sobject)
        if sobj is None:
            return err.failed(err.invalid_type(sobject))
        hidden = self._hidden(sobj, as_person)
        checked = check_values(sobj, values, creating=True, hidden=hidden)
        record = defaults(sobj)
        record.update(checked.values)
        if "OwnerId" in sobj.fields and not record.get("OwnerId"):
            record["OwnerId"] = user_id
        problem = self._first_problem(sobj, checked, record, None, hidden)
        if problem:
            return err.failed(*problem)
        record["Id"] = self.org.mint(sobj)
        derive(sobj.name, record, self.org.current)
        fault = self._faults(sobj, record, None, as_person)
        if fault:
            return err.failed(fault)
        stamp = self.org.stamp()
        record.update(
            IsDeleted=False,
            CreatedDate=stamp,
            CreatedById=user_id,
            LastModifiedDate=stamp,
            LastModifiedById=user_id,
            SystemModstamp=stamp,
        )
        self.org.put(sobj.name, record)
        return WriteResult(record["Id"], True, created=True)

    def update(
        self, sobject: str, record_id: str, values: dict[str, Any], user_id: str, as_person: bool
    ) -> WriteResult:
        sobj = self.org.schema.get(sobject)
        if sobj is None:
            return err.failed(err.invalid_type(sobject))
        key, old, problem_ = self._existing(record_id, sobj)
        if problem_ is not None or old is None:
            return err.failed(problem_ or err.invalid_cross_reference())
        hidden = self._hidden(sobj, as_person)
        checked = check_values(sobj, values, creating=False, hidden=hidden)
        record = dict(old)
        record.update(checked.values)
        problem = self._first_problem(sobj, checked, record, old, hidden)
        if problem:
            return err.failed(*problem, record_id=key)
        derive(sobj.name, record, self.org.current)
        fault = self._faults(sobj, record, key, as_person)
        if fault:
            return err.failed(fault, record_id=key)
        stamp = self.org.stamp()
        record.update(LastModifiedDate=stamp, LastModifiedById=user_id, SystemModstamp=stamp)
        self.org.put(sobj.name, record)
        return WriteResult(key, True)

    def upsert(
        self,
        sobject: str,
        ext_field: str,
        ext_value: Any,
        values: dict[str, Any],
        user_id: str,
        as_person: bool,
    ) -> WriteResult:
        sobj = self.org.schema.get(sobject)
        if sobj is None:
            return err.failed(err.invalid_type(sobject))
        fdef = sobj.field(ext_field)
        if (
            fdef is None
            or self._hidden(sobj, as_person)(fdef.name)
            or not (fdef.external_id or fdef.name == "Id" or (fdef.id_lookup and not sobj.custom))
        ):
            return err.failed(err.not_external_id(ext_field))
        if ext_value in (None, ""):
            return err.failed(err.ext_id_missing(fdef.name))
        matches = self.org.match_external_id(sobj.name, fdef.name, ext_value)
        if len(matches) > 1:
            return WriteResult(
                None,
                False,
                errors=(err.multiple_choices(fdef.name, ext_value),),
                matches=tuple(matches),
            )
        rest = {k: v for k, v in values.items() if k.lower() != fdef.name.lower()}
        if matches:
            return self.update(sobj.name, matches[0], rest, user_id, as_person)
        if fdef.name != "Id":
            rest[fdef.name] = ext_value
        return self.insert(sobj.name, rest, user_id, as_person)

    def delete(self, record_id: str, user_id: str, as_person: bool) -> WriteResult:
        key = self.org.normalize_id(record_id)
        if key is None:
            return err.failed(err.malformed_id(record_id))
        found = self.org.current(key)
        if found is None:
            return err.failed(err.invalid_cross_reference())
        sobject, old = found
        if old.get("IsDeleted"):
            return err.failed(err.entity_is_deleted(), record_id=key)
        sobj = self.org.schema.get(sobject)
        if sobj is not None and not as_person and self._lock_fails():
            return err.failed(err.lock_row(key), record_id=key)
        stamp = self.org.stamp()
        self.org.put(
            sobject,
            dict(
                old,
                IsDeleted=True,
                LastModifiedDate=stamp,
                LastModifiedById=user_id,
                SystemModstamp=stamp,
            ),
        )
        for child in self.cascade_children(key):
            current = self.org.current(child)
            if current is not None and not current[1].get("IsDeleted"):
                self.delete(child, user_id, True)
        return WriteResult(key, True)

    def cascade_children(self, parent_id: str) -> list[str]:
        """Ids of records that go to the recycle bin with ``parent_id`` (master-detail)."""
        found = self.org.current(parent_id)
        sobj = self.org.schema.get(found[0]) if found else None
        out: list[str] = []
        for rel in sobj.child_relationships if sobj else ():
            if rel.cascade_delete:
                index = self.org.index(rel.child_sobject, rel.field, True)
                out.extend(sorted(index.get(parent_id, ())))
        return out

    # -- checks -------------------------------------------------------------------------
    def _existing(
        self, record_id: str, sobj: SObjectDef
    ) -> tuple[str, dict[str, Any] | None, RecordError | None]:
        key = self.org.normalize_id(record_id)
        if key is None:
            return record_id, None, err.id_of_wrong_type(sobj.label, "Id", record_id)
        if key[:3] != sobj.key_prefix:
            return key, None, err.id_of_wrong_type(sobj.label, "Id", record_id)
        found = self.org.current(key)
        if found is None:
            return key, None, err.invalid_cross_reference()
        if found[1].get("IsDeleted"):
            return key, None, err.entity_is_deleted()
        return key, found[1], None

    def _hidden(self, sobj: SObjectDef, as_person: bool) -> Hidden:
        if as_person:
            return lambda _field: False
        return lambda field: self.org.is_hidden(sobj.name, field)

    def _first_problem(
        self,
        sobj: SObjectDef,
        checked: Checked,
        record: dict[str, Any],
        old: dict[str, Any] | None,
        hidden: Hidden,
    ) -> list[RecordError]:
        """Errors of the first failing phase, in the order an org reports them."""
        if checked.errors:
            return checked.errors
        problems = self._foreign(checked, record)
        if problems:
            return problems
        changed = (
            None
            if old is None
            else set(checked.values) | {f.name for f, _ in checked.foreign.values()}
        )
        missing = missing_required(sobj, record, changed, hidden)
        if missing:
            return [missing]
        touched = set(sobj.fields) if old is None else (changed or set())
        problems = self._references(sobj, record, touched)
        return problems or self._unique(sobj, record, touched)

    def _foreign(self, checked: Checked, record: dict[str, Any]) -> list[RecordError]:
        """Resolve ``"Account__r": {"Sync_Key__c": "..."}`` values to record ids."""
        problems: list[RecordError] = []
        for fdef, spec in checked.foreign.values():
            attributes = spec.get("attributes") or {}
            target = self.org.schema.get(str(attributes.get("type") or fdef.reference_to[0]))
            keys = [(k, v) for k, v in spec.items() if k != "attributes"]
            if target is None or len(keys) != 1:
                problems.append(err.no_such_column(fdef.relationship_name or fdef.name, "?"))
                continue
            field, value = keys[0]
            tdef = target.field(field)
            name = tdef.name if tdef else field
            found = self.org.match_external_id(target.name, name, value)
            if len(found) == 1:
                record[fdef.name] = found[0]
            elif found:
                problems.append(err.foreign_key_multiple(value, name, target.name))
            else:
                problems.append(err.foreign_key_not_found(value, name, target.name))
        return problems

    def _references(
        self, sobj: SObjectDef, record: dict[str, Any], touched: set[str]
    ) -> list[RecordError]:
        problems: list[RecordError] = []
        for name in sorted(touched):
            fdef = sobj.fields.get(name)
            value = record.get(name)
            if (
                fdef is None
                or fdef.type != "reference"
                or not value
                or name in ("CreatedById", "LastModifiedById")
            ):
                continue
            target = self.org.schema.by_prefix(value[:3])
            label = fdef.label or fdef.name
            if target is None or target.name not in fdef.reference_to:
                problems.append(
                    err.id_of_wrong_type(label, name, value, "FIELD_INTEGRITY_EXCEPTION")
                )
                continue
            found = self.org.current(value)
            if found is None or found[1].get("IsDeleted"):
                problems.append(
                    RecordError(
                        "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", (name,)
                    )
                )
            elif found[0] == "User" and found[1].get("IsActive") is False:
                problems.append(err.inactive_user(value, sobj.name, name == "OwnerId"))
        return problems

    def _unique(
        self, sobj: SObjectDef, record: dict[str, Any], touched: set[str]
    ) -> list[RecordError]:
        for name in sorted(touched):
            fdef = sobj.fields.get(name)
            if fdef is None or not fdef.unique or record.get(name) in (None, ""):
                continue
            others = [
                i
                for i in self.org.match_external_id(sobj.name, name, record[name])
                if i != record.get("Id")
            ]
            if others:
                return [err.duplicate_value(name, others[0])]
        return []

    def _faults(
        self, sobj: SObjectDef, record: dict[str, Any], record_id: str | None, as_person: bool
    ) -> RecordError | None:
        """What the fault settings do to the integration user's write of this record."""
        if as_person:
            return None
        rules = self.org.state.faults.settings.validation_rules
        rule = next((r for k, r in rules.items() if k.lower() == sobj.name.lower()), None)
        if rule and all(_value(sobj, record, f) == v for f, v in rule.items()):
            return err.custom_validation(sobj.name, rule)
        if self._lock_fails():
            return err.lock_row(record_id or _lock_target(sobj, record))
        return None

    def _lock_fails(self) -> bool:
        faults = self.org.state.faults
        return faults.roll(faults.settings.lock_row_share)


def _value(sobj: SObjectDef, record: dict[str, Any], field: str) -> Any:
    fdef = sobj.field(field)
    return record.get(fdef.name) if fdef else None


def _lock_target(sobj: SObjectDef, record: dict[str, Any]) -> str:
    """A new record locks its parents: the first one it references, else itself."""
    skip = ("OwnerId", "CreatedById", "LastModifiedById")
    for fdef in sobj.fields.values():
        if fdef.type == "reference" and fdef.name not in skip and record.get(fdef.name):
            return str(record[fdef.name])
    return str(record["Id"])
