"""What reconcile reads and what it decides: ledger entries, the CRM's state, writes, skips.

All plain data, so ``plan`` is a pure function that tests can call with literals.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import IO, Any, Literal, NamedTuple

Op = Literal["create", "update", "close", "delete"]
ClosedBy = Literal["person", "deleted", "connector"]


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One record the connector wrote (or adopted from the CRM by its External Id)."""

    target: str
    external_id: str
    key: str
    identity: str
    rule: str
    account_id: str | None = None
    crm_id: str | None = None
    hash: str | None = None
    written: Mapping[str, Any] | None = None
    status_set: str | None = None
    closed_at: datetime | None = None
    closed_by: ClosedBy | None = None
    created_at: datetime | None = None
    error_code: str | None = None
    error_message: str | None = None
    error_hash: str | None = None
    attempts: int = 0
    retry_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class CrmRecord:
    """What the pulled mirror says about one record the connector writes."""

    crm_id: str
    deleted: bool = False
    status: str | None = None
    closed: bool = False  # a closed status (or Task.IsClosed) set by whoever
    snooze_until: date | None = None
    guard_value: str | None = None  # persona: the field's value now
    sync_hash: str | None = None


@dataclass(frozen=True, slots=True)
class Write:
    """One record write. ``values`` are desired-field names; push maps them to CRM fields."""

    op: Op
    target: str
    external_id: str
    key: str
    identity: str
    rule: str
    account_id: str | None
    values: Mapping[str, Any]  # what to send (hashed + unhashed, and on create the rest)
    hashed: Mapping[str, Any]  # the owned values the hash covers (stored in the ledger)
    hash: str
    changed: tuple[str, ...] = ()  # fields whose value differs from the last write
    crm_id: str | None = None  # by-Id targets and updates of known records
    parent_external_id: str | None = None
    status_set: str | None = None  # the status this write sets (create: the constant)
    reason: str = ""
    # What a refused write waits on: the owned values, and for a record never created also its
    # create-only ones (owner, due date), so fixing an inactive owner retries it.
    wait_hash: str = ""


@dataclass(frozen=True, slots=True)
class Skip:
    """A desired output (or a ledger record) left alone, and why, for the plan's readers."""

    target: str
    key: str
    reason: str


@dataclass(frozen=True, slots=True)
class Observation:
    """A change of the ledger that needs no CRM write: a record seen closed or deleted."""

    target: str
    external_id: str
    closed_at: datetime | None  # None: a person reopened it
    closed_by: ClosedBy | None


@dataclass
class Plan:
    """Everything one reconcile decided, in write order."""

    writes: list[Write] = field(default_factory=list)
    skips: list[Skip] = field(default_factory=list)
    observations: list[Observation] = field(default_factory=list)
    waiting_on_jobs: int = 0  # desired writes skipped because a job still carries them
    # A part of one object planned in key ranges (``reconcile.stages``) with more to come: the
    # push keeps its short batches (and a Bulk job's rows) for the parts that follow.
    more: bool = False

    def counts(self) -> dict[str, dict[str, int]]:
        """Per target: creates, updates, closes, deletes, skips."""
        out: dict[str, dict[str, int]] = {}
        for w in self.writes:
            row = out.setdefault(w.target, _zero())
            row[w.op] += 1
        for s in self.skips:
            out.setdefault(s.target, _zero())["skip"] += 1
        return out

    def is_empty(self) -> bool:
        return not self.writes

    def extend(self, part: Plan) -> None:
        """``part`` (one object's plan) after what this plan holds: parents come first."""
        self.writes.extend(part.writes)
        self.skips.extend(part.skips)
        self.observations.extend(part.observations)
        self.waiting_on_jobs += part.waiting_on_jobs


def _zero() -> dict[str, int]:
    return {"create": 0, "update": 0, "close": 0, "delete": 0, "skip": 0}


class Planned(NamedTuple):
    """What a cycle's report keeps of a write once it is pushed: what its readers show."""

    op: str
    target: str
    external_id: str
    changed: tuple[str, ...]
    reason: str


class PlanRecord:
    """A cycle's plan as its report keeps it, one object's plan at a time (``add``): the counts
    in memory, the writes and skips spooled to a temporary file and read back on demand.

    A cycle plans and pushes one object at a time so that only that object's writes are in
    memory; the report's readers (the summary, ``sync --json``, tests) still see the whole plan.
    Holding every write's listing instead took ~90 MB at scale M.
    """

    def __init__(self) -> None:
        self._counts: dict[str, dict[str, int]] = {}
        # Open as long as the record: closed when the record is collected.
        self._spool: IO[str] = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115
        self._writes = 0
        self.waiting_on_jobs = 0

    def add(self, part: Plan) -> None:
        """One object's plan: counted, and its writes and skips listed."""
        for target, row in part.counts().items():
            mine = self._counts.setdefault(target, _zero())
            for op, n in row.items():
                mine[op] += n
        self.waiting_on_jobs += part.waiting_on_jobs
        self._writes += len(part.writes)
        self._spool.seek(0, os.SEEK_END)
        for w in part.writes:
            self._line("w", w.op, w.target, w.external_id, list(w.changed), w.reason)
        for s in part.skips:
            self._line("s", s.target, s.key, s.reason)

    def _line(self, *row: Any) -> None:
        self._spool.write(json.dumps(row, separators=(",", ":"), default=str))
        self._spool.write("\n")

    def counts(self) -> dict[str, dict[str, int]]:
        """Per target: creates, updates, closes, deletes, skips (as ``Plan.counts``)."""
        return {target: dict(row) for target, row in self._counts.items()}

    def is_empty(self) -> bool:
        return not self._writes

    def iter_writes(self) -> Iterator[Planned]:
        """The planned writes in plan order, read back from the spool."""
        for row in self._rows("w"):
            op, target, external_id, changed, reason = row
            yield Planned(op, target, external_id, tuple(changed), reason)

    def iter_skips(self) -> Iterator[Skip]:
        for target, key, reason in self._rows("s"):
            yield Skip(target, key, reason)

    @property
    def writes(self) -> list[Planned]:
        return list(self.iter_writes())

    @property
    def skips(self) -> list[Skip]:
        return list(self.iter_skips())

    def _rows(self, kind: str) -> Iterator[list[Any]]:
        self._spool.flush()
        self._spool.seek(0)
        for line in self._spool:
            row = json.loads(line)
            if row[0] == kind:
                yield row[1:]


@dataclass(frozen=True)
class Policy:
    """The per-rule reconcile settings (``mappings/rules.toml``) and the evaluation instant."""

    now: datetime
    today: date
    cool_down_days: Mapping[str, int]  # rule id -> days; missing: ``default_cool_down``
    default_cool_down: int = 14
    auto_close: frozenset[str] = frozenset({"timeline_hygiene"})
    keep_on_clear: frozenset[str] = frozenset({"ivm_handoff", "sales_handoff"})
    evaluated: frozenset[str] | None = None  # rules that ran; None: every rule seen
    keep_weeks: int = 104
    in_flight: frozenset[tuple[str, str]] = frozenset()  # (target, External Id) in a job

    def cool_down(self, rule: str) -> int:
        return self.cool_down_days.get(rule, self.default_cool_down)
