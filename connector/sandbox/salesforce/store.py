"""The sandbox org's data: records by id, written with Salesforce's rules, read by SOQL.

Records are stored in wire form and never mutated in place (a write stores a new dict), so a
query page or an open cursor keeps the rows it saw. Every write stamps SystemModstamp from the
sandbox clock, strictly later than any stamp before it, because the connector's cursors
depend on it. ``atomic()`` groups writes into one transaction that can be rolled back
(sObject Collections with ``allOrNone``); all of them share one modstamp, as in an org.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from connector.sandbox import ids
from connector.sandbox.salesforce.checks import WriteChecks
from connector.sandbox.salesforce.errors import RecordError, WriteResult
from connector.sandbox.salesforce.schema import SObjectDef
from connector.sandbox.salesforce.values import format_datetime, parse_datetime

if TYPE_CHECKING:
    from connector.sandbox.demo_data import DemoData
    from connector.sandbox.salesforce.soql import QueryResult
    from connector.sandbox.state import SandboxState

__all__ = ["Org", "RecordError", "WriteResult"]

_MS = timedelta(milliseconds=1)


class SchemaLike(Protocol):
    """What the org needs of ``sf_schema.Schema``."""

    def get(self, name: str) -> SObjectDef | None: ...

    def by_prefix(self, prefix: str) -> SObjectDef | None: ...


class Org:
    """One org's records with Salesforce write semantics; a ``RecordSource`` for SOQL."""

    def __init__(self, schema: SchemaLike, state: SandboxState) -> None:
        self.schema = schema
        self.state = state
        self._records: dict[str, dict[str, dict[str, Any]]] = {}
        self._where: dict[str, str] = {}  # id -> sObject name
        self._indexes: dict[tuple[str, str], dict[str, set[str]]] = {}
        self._minter = ids.IdMinter()
        self._last = datetime.min.replace(tzinfo=self.state.now().tzinfo)
        self._undo: list[tuple[str, str, dict[str, Any] | None]] | None = None
        self._batch_stamp: str | None = None
        self.checks = WriteChecks(self)

    # -- loading ------------------------------------------------------------------------
    def load(self, demo: DemoData) -> None:
        """Replace every record with (copies of) the demo org's; ids continue after its ones."""
        with self.state.lock:
            self._records, self._where, self._indexes = {}, {}, {}
            newest = ""
            for sobject, rows in demo.salesforce.items():
                sobj = self.schema.get(sobject)
                name = sobj.name if sobj is not None else sobject
                store = self._records.setdefault(name, {})
                for row in rows:
                    record = {k: v for k, v in row.items() if k != "attributes"}
                    if len(record["Id"]) == 15:
                        record["Id"] = ids.to18(record["Id"])
                    store[record["Id"]] = record
                    self._where[record["Id"]] = name
                    newest = max(newest, str(record.get("SystemModstamp") or ""))
            self._minter.restore(dict(demo.id_counters))
            stamp = parse_datetime(newest) if newest else None
            self._last = stamp or datetime.min.replace(tzinfo=self.state.now().tzinfo)

    # -- RecordSource -------------------------------------------------------------------
    def sobject(self, name: str) -> SObjectDef | None:
        """The sObject named ``name``, any case."""
        return self.schema.get(name)

    def records(self, sobject: str) -> Iterable[dict[str, Any]]:
        """Every record of that type, soft-deleted ones included (a snapshot list)."""
        sobj = self.schema.get(sobject)
        with self.state.lock:
            return list(self._records.get(sobj.name if sobj else sobject, {}).values())

    def get(self, record_id: str) -> tuple[str, dict[str, Any]] | None:
        """(sObject name, record) for a 15- or 18-character id, deleted or not."""
        key = self.normalize_id(record_id)
        if key is None:
            return None
        with self.state.lock:
            sobject = self._where.get(key)
            return (sobject, self._records[sobject][key]) if sobject else None

    def is_hidden(self, sobject: str, field: str) -> bool:
        """Fields the ``hidden_fields`` fault hides from the integration user."""
        hidden = self.state.faults.settings.hidden_fields
        names = next((v for k, v in hidden.items() if k.lower() == sobject.lower()), ())
        return field.lower() in {n.lower() for n in names}

    @staticmethod
    def normalize_id(record_id: Any) -> str | None:
        """The 18-character form of a well-formed id, else None."""
        if not isinstance(record_id, str) or not ids.is_valid(record_id):
            return None
        return ids.to18(record_id)

    # -- reading ------------------------------------------------------------------------
    def query(self, soql: str, *, include_deleted: bool, version: str) -> QueryResult:
        """Run SOQL over a snapshot; raises ``SoqlError`` as the API would answer 400."""
        from connector.sandbox.salesforce import soql as engine

        parsed = engine.parse(soql)
        with self.state.lock:
            bound = engine.bind(parsed, self)
            return engine.execute(
                bound, self, include_deleted=include_deleted, version=version, now=self.state.now()
            )

    def find_by_external_id(
        self, sobject: str, ext_field: str, value: str
    ) -> dict[str, Any] | None:
        """The live record whose ``ext_field`` equals ``value`` (first one when several)."""
        found = self.match_external_id(sobject, ext_field, value)
        return self._records[self._where[found[0]]][found[0]] if found else None

    def match_external_id(self, sobject: str, ext_field: str, value: Any) -> list[str]:
        """Ids of live records whose field matches, honouring the field's case sensitivity."""
        sobj = self.schema.get(sobject)
        fdef = sobj.field(ext_field) if sobj else None
        if sobj is None or fdef is None or value in (None, ""):
            return []
        if fdef.name == "Id":
            key = self.normalize_id(value)
            return (
                [key]
                if key and self._where.get(key) == sobj.name and not self._deleted(key)
                else []
            )
        with self.state.lock:
            index = self.index(sobj.name, fdef.name, fdef.case_sensitive)
            token = str(value) if fdef.case_sensitive else str(value).casefold()
            return sorted(i for i in index.get(token, ()) if not self._deleted(i))

    # -- writing ------------------------------------------------------------------------
    def insert(
        self, sobject: str, values: dict[str, Any], *, user_id: str, as_person: bool = False
    ) -> WriteResult:
        """Create a record (SaveResult); ``as_person`` skips the integration user's faults."""
        with self.state.lock:
            return self.checks.insert(sobject, values, user_id, as_person)

    def update(
        self,
        sobject: str,
        record_id: str,
        values: dict[str, Any],
        *,
        user_id: str,
        as_person: bool = False,
    ) -> WriteResult:
        """Change fields of a live record (SaveResult)."""
        with self.state.lock:
            return self.checks.update(sobject, record_id, values, user_id, as_person)

    def upsert(
        self,
        sobject: str,
        ext_field: str,
        ext_value: Any,
        values: dict[str, Any],
        *,
        user_id: str,
        as_person: bool = False,
    ) -> WriteResult:
        """Insert or update by External Id (UpsertResult: ``created``; MULTIPLE_CHOICES)."""
        with self.state.lock:
            return self.checks.upsert(sobject, ext_field, ext_value, values, user_id, as_person)

    def delete(self, record_id: str, *, user_id: str, as_person: bool = False) -> WriteResult:
        """Soft delete to the recycle bin (IsDeleted, still visible to queryAll); cascades."""
        with self.state.lock:
            return self.checks.delete(record_id, user_id, as_person)

    def purge(self, record_id: str) -> bool:
        """Hard delete (emptied recycle bin): gone even from queryAll, with cascaded children."""
        with self.state.lock:
            key = self.normalize_id(record_id)
            if key is None or key not in self._where:
                return False
            for child in self.checks.cascade_children(key):
                if self._deleted(child):
                    self.purge(child)
            self.remove(key)
            return True

    @contextmanager
    def atomic(self) -> Iterator[Transaction]:
        """One transaction: shared modstamp; ``rollback()`` undoes every write made in it."""
        with self.state.lock:
            if self._undo is not None:  # nested: join the outer transaction
                yield Transaction(self, None)
                return
            self._undo, self._batch_stamp = [], None
            try:
                yield Transaction(self, self._undo)
            finally:
                self._undo, self._batch_stamp = None, None

    # -- primitives used by the write checks ----------------------------------------------
    def stamp(self) -> str:
        """A SystemModstamp later than every earlier one (one per transaction)."""
        if self._undo is not None and self._batch_stamp is not None:
            return self._batch_stamp
        now = self.state.now()
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)
        self._last = max(now, self._last + _MS)
        text = format_datetime(self._last)
        if self._undo is not None:
            self._batch_stamp = text
        return text

    def mint(self, sobj: SObjectDef) -> str:
        return self._minter.mint(sobj.key_prefix)

    def current(self, record_id: str) -> tuple[str, dict[str, Any]] | None:
        sobject = self._where.get(record_id)
        return (sobject, self._records[sobject][record_id]) if sobject else None

    def put(self, sobject: str, record: dict[str, Any]) -> None:
        """Store ``record`` (a new dict), keeping indexes and the undo log."""
        record_id = record["Id"]
        old = self._records.get(sobject, {}).get(record_id)
        if self._undo is not None:
            self._undo.append((sobject, record_id, old))
        self._reindex(sobject, old, record)
        self._records.setdefault(sobject, {})[record_id] = record
        self._where[record_id] = sobject

    def remove(self, record_id: str) -> None:
        sobject = self._where.pop(record_id)
        old = self._records[sobject].pop(record_id)
        if self._undo is not None:
            self._undo.append((sobject, record_id, old))
        self._reindex(sobject, old, None)

    def _restore(self, log: list[tuple[str, str, dict[str, Any] | None]]) -> None:
        for sobject, record_id, old in reversed(log):
            current = self._records.get(sobject, {}).pop(record_id, None)
            self._where.pop(record_id, None)
            self._reindex(sobject, current, None)
            if old is not None:
                self._records[sobject][record_id] = old
                self._where[record_id] = sobject
                self._reindex(sobject, None, old)
        log.clear()

    def _deleted(self, record_id: str) -> bool:
        found = self.current(record_id)
        return found is None or bool(found[1].get("IsDeleted"))

    def index(self, sobject: str, field: str, case_sensitive: bool) -> dict[str, set[str]]:
        """Ids by value of one field, built on first use and kept current by every write."""
        index = self._indexes.get((sobject, field))
        if index is None:
            index = {}
            for record in self._records.get(sobject, {}).values():
                _add(index, record, field, case_sensitive)
            self._indexes[(sobject, field)] = index
        return index

    def _reindex(
        self, sobject: str, old: dict[str, Any] | None, new: dict[str, Any] | None
    ) -> None:
        sobj = self.schema.get(sobject)
        for (name, field), index in self._indexes.items():
            if name != sobject or sobj is None:
                continue
            sensitive = sobj.fields[field].case_sensitive
            if old is not None:
                _discard(index, old, field, sensitive)
            if new is not None:
                _add(index, new, field, sensitive)


class Transaction:
    """Handle on an ``Org.atomic()`` block."""

    def __init__(self, org: Org, log: list[tuple[str, str, dict[str, Any] | None]] | None):
        self._org, self._log = org, log

    def rollback(self) -> None:
        """Undo every write of the transaction (no-op when nested in an outer one)."""
        if self._log is not None:
            self._org._restore(self._log)


def _token(record: dict[str, Any], field: str, case_sensitive: bool) -> str | None:
    value = record.get(field)
    if value in (None, ""):
        return None
    return str(value) if case_sensitive else str(value).casefold()


def _add(index: dict[str, set[str]], record: dict[str, Any], field: str, sensitive: bool) -> None:
    token = _token(record, field, sensitive)
    if token is not None:
        index.setdefault(token, set()).add(record["Id"])


def _discard(
    index: dict[str, set[str]], record: dict[str, Any], field: str, sensitive: bool
) -> None:
    token = _token(record, field, sensitive)
    if token is not None and token in index:
        index[token].discard(record["Id"])
        if not index[token]:
            del index[token]
