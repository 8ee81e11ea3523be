"""What a rule is and what it produces: desired outputs with keys, owners, due dates and evidence.

A rule is pure: ``select`` builds one set-based statement over the mirror tables (building it does
no I/O) whose rows carry every figure the rule compares and a ``fires`` flag computed in SQL;
``decide`` turns a firing row into desired outputs. ``explain`` runs the same statement for one
account without the ``fires`` filter, so the figures shown are the figures that decided.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from sqlalchemy import Select, Table
from sqlalchemy.engine import RowMapping

from connector.rules.params import RuleParams
from connector.rules.templates import Templates

OutputObject = Literal[
    "cta",
    "task",
    "timeline_entry",
    "milestone",
    "health_snapshot",
    "success_plan",
    "objective",
    "persona",
    "account_health",
    "zendesk_task",
]


@dataclass(frozen=True, slots=True)
class DesiredOutput:
    """One record the CRM should hold, identified by its stable key (the External Id).

    Slotted: an evaluation holds every output until it stores them (338k at scale L); without
    a per-instance ``__dict__`` each takes ~50 bytes less.
    """

    key: str
    rule: str
    object: OutputObject
    account_id: str | None
    owner_id: str | None = None
    due_date: date | None = None
    fields: Mapping[str, Any] = field(default_factory=dict)
    parent_key: str | None = None
    evidence: str = ""


class Tables:
    """The mirror tables by stream name (``tables.account``), and what is mapped."""

    def __init__(self, by_stream: Mapping[str, Table]) -> None:
        self._by_stream = dict(by_stream)

    def __getattr__(self, stream: str) -> Table:
        try:
            return self._by_stream[stream]
        except KeyError:
            raise AttributeError(f"stream {stream!r} is not mapped") from None

    def __getitem__(self, stream: str) -> Table:
        return self.__getattr__(stream)

    def items(self) -> list[tuple[str, Table]]:
        return list(self._by_stream.items())

    def has(self, stream: str, columns: Sequence[str] = ()) -> bool:
        table = self._by_stream.get(stream)
        return table is not None and all(c in table.c for c in columns)

    def missing(self, requires: Mapping[str, Sequence[str]]) -> list[str]:
        """``stream.column`` names a rule needs that the mappings do not provide."""
        out: list[str] = []
        for stream, columns in requires.items():
            table = self._by_stream.get(stream)
            if table is None:
                out.append(stream)
                continue
            out.extend(f"{stream}.{c}" for c in columns if c not in table.c)
        return out


@dataclass(frozen=True)
class Owners:
    """Owners named in config by email, resolved to active CRM user ids at start."""

    by_role: Mapping[str, str]  # "support_manager", "cco", "vp_cs", "product_manager", "fallback"

    def __getitem__(self, role: str) -> str:
        return self.by_role[role]


@dataclass(frozen=True)
class RuleContext:
    """Everything a rule may read besides the tables' rows."""

    now: datetime  # the evaluation instant, timezone-aware
    today: date  # the calendar date of ``now`` in rules.timezone
    params: RuleParams
    tables: Tables
    owners: Owners
    customer_filter: tuple[str, tuple[str, ...]]  # account column, the values that mean customer
    templates: Templates  # Email Assist drafts
    mappings_dir: Path  # the admin's mappings/ folder (personas.toml)
    # Shared per-account subqueries ``evaluate`` materialised once for this run (name -> table
    # on its connection, see ``connector.rules.shared``); empty for ``explain`` and tests, where
    # the builders in ``scope`` return their inline subqueries instead.
    shared: Mapping[str, Table] = field(default_factory=dict, compare=False)
    # The accounts this evaluation covers (a table of ``account_id`` on its connection, see
    # ``connector.evaluation_scope``); None: every customer. ``customers`` reads only these,
    # and every rule reaches its accounts through ``customers``.
    scope: Table | None = field(default=None, compare=False)


class Rule(Protocol):
    """One rule of RULES.md."""

    id: str
    family: str
    requires: Mapping[str, Sequence[str]]  # stream -> columns it reads

    def select(self, ctx: RuleContext, account_id: str | None = None) -> Select[Any]:
        """Rows with the figures and a boolean ``fires``; all firing rows, or one account's."""
        ...

    def decide(self, row: RowMapping, ctx: RuleContext) -> list[DesiredOutput]:
        """The outputs of one firing row (empty when ``row.fires`` is false)."""
        ...
