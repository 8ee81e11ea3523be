"""``persona_assignment`` and the persona machinery other rules rely on (RULES.md, personas).

Personas are computed in Python (SQL regular-expression dialects differ) over one set-based
fetch: every customer contact with its title, its CRM persona and, per role rule of
``mappings/personas.toml``, the contact role that matches it (whole values, any case). The
evaluate shell stores the result in ``persona_state``; the other rules read the effective persona
there.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field, model_validator
from sqlalchemy import (
    Connection,
    Select,
    String,
    and_,
    case,
    func,
    literal,
    not_,
    select,
    true,
    union_all,
)
from sqlalchemy.engine import RowMapping
from sqlalchemy.sql.elements import ColumnElement

from connector.rules.bands import Section
from connector.rules.model import DesiredOutput, RuleContext
from connector.rules.params import load_toml
from connector.rules.scope import column, customers
from connector.rules.sqlfn import is_true

EXECUTIVE = ("Executive Sponsor", "Big Boss")  # RULES.md: the executive personas, preferred first
END_USER = "End User"
BIG_BOSS_TITLE = (
    r"\b(ceo|cto|cfo|coo|cio|cmo|cro|cpo|cdo|cco|ciso|chief\b.*\bofficer)\b"
    r"|(?<!vice )\bpresident\b|\b(co-?)?founder\b"
)
ADMIN_TITLE = r"\badmin(istrator)?\b"


# -- the persona mapping ----------------------------------------------------------------------
class PersonaRule(Section):
    """One ordered rule: a role list or a title pattern, and the persona it gives."""

    persona: str = Field(min_length=1)
    roles: tuple[str, ...] = ()
    title: str | None = None

    @model_validator(mode="after")
    def _one_condition(self) -> PersonaRule:
        if bool(self.roles) == (self.title is not None):
            raise ValueError("give either roles or title")
        if self.title is not None:
            try:
                re.compile(self.title, re.IGNORECASE)
            except re.error as exc:
                raise ValueError(f"title is not a valid regular expression: {exc}") from None
        return self


class PersonaConfig(Section):
    """``mappings/personas.toml``: the rules in order, and the persona when none matches."""

    default: str = Field(default=END_USER, min_length=1)
    rule: tuple[PersonaRule, ...] = (
        PersonaRule(
            persona="Executive Sponsor",
            roles=("Executive Sponsor", "Economic Buyer", "Decision Maker"),
        ),
        PersonaRule(persona="Big Boss", title=BIG_BOSS_TITLE),
        PersonaRule(persona="Admin", title=ADMIN_TITLE),
        PersonaRule(persona="Adoption Champion", roles=("Champion",)),
    )


def load_personas(path: Path, origin: str | None = None) -> PersonaConfig:
    """``personas.toml`` (absent: RULES.md's rules); problems as ``file:key: reason``."""
    return load_toml(path, PersonaConfig, origin)


def personas_for(ctx: RuleContext) -> PersonaConfig:
    """The admin's persona mapping, ``mappings/personas.toml``."""
    path = ctx.mappings_dir / "personas.toml"
    stamp = path.stat().st_mtime_ns if path.is_file() else 0
    return _load_cached(path, stamp)


@lru_cache(maxsize=8)
def _load_cached(path: Path, stamp: int) -> PersonaConfig:
    return load_personas(path, f"mappings/{path.name}")


@lru_cache(maxsize=64)
def _pattern(text: str) -> re.Pattern[str]:
    return re.compile(text, re.IGNORECASE)


# -- SQL pieces -------------------------------------------------------------------------------
def contact_active(contact: Any) -> ColumnElement[bool]:
    """Not deleted, and the mapped inactive condition does not hold (RULES.md)."""
    if "inactive" in contact.c:
        return and_(not_(contact.c.deleted), not_(is_true(contact.c.inactive)))
    return and_(not_(contact.c.deleted))


def _roles(ctx: RuleContext, contacts: Any) -> Any:
    """Every (contact, role) of the mapped role sources: any opportunity or account, any age;
    in an incremental evaluation (``ctx.scope``) only those of the ``contacts`` (a select of
    its accounts' contact ids, looked up through the ``contact_id`` index)."""
    scoped = ctx.scope is not None
    parts = [
        select(t.c.contact_id.label("contact_id"), t.c.role.label("role")).where(
            *([t.c.contact_id.in_(contacts)] if scoped else []),
            not_(t.c.deleted),
            t.c.role.is_not(None),
        )
        for name in ("opportunity_contact_role", "account_contact_role")
        if ctx.tables.has(name, ("contact_id", "role"))
        for t in [getattr(ctx.tables, name)]
    ]
    if not parts:
        return None
    return union_all(*parts).subquery("contact_roles")


def contacts_with_roles(ctx: RuleContext, config: PersonaConfig) -> Select[Any]:
    """Customers' contacts (not deleted): title, CRM persona, active, and ``role_<i>``: a role
    matching role rule ``i`` (null when none does)."""
    con = ctx.tables.contact
    c = customers(ctx)
    theirs = con.alias("customer_contact")
    roles = _roles(ctx, select(theirs.c.id).where(theirs.c.account_id.in_(select(c.c.account_id))))
    role_columns = []
    for i, rule in enumerate(config.rule):
        if not rule.roles:
            continue
        if roles is None:
            role_columns.append(literal(None, String).label(f"role_{i}"))
            continue
        wanted = sorted({r.strip().lower() for r in rule.roles})
        match = func.lower(func.trim(roles.c.role)).in_(wanted)
        role_columns.append(func.min(case((match, roles.c.role))).label(f"role_{i}"))
    base = c.join(con, con.c.account_id == c.c.account_id)
    if roles is not None:
        base = base.outerjoin(roles, roles.c.contact_id == con.c.id)
    mapped = [con.c[n] for n in ("name", "title", "persona", "inactive") if n in con.c]
    return (
        select(
            con.c.id.label("contact_id"),
            c.c.account_id,
            column(con, "name").label("contact_name"),
            column(con, "title").label("title"),
            column(con, "persona").label("crm_value"),
            contact_active(con).label("active"),
            *role_columns,
        )
        .select_from(base)
        .where(not_(con.c.deleted))
        .group_by(con.c.id, c.c.account_id, con.c.deleted, *mapped)
    )


# -- Python: the ordered rules ----------------------------------------------------------------
def classify(row: RowMapping, config: PersonaConfig) -> tuple[str, str]:
    """The persona of a contact row and why (first matching rule wins)."""
    title = row["title"] or ""
    for i, rule in enumerate(config.rule):
        if rule.roles:
            role = row.get(f"role_{i}")
            if role is not None:
                return rule.persona, (
                    f"role '{role.strip()}' (one of {', '.join(rule.roles)}) -> {rule.persona}"
                )
        elif rule.title is not None and _pattern(rule.title).search(title):
            return rule.persona, f"title '{title}' matches the {rule.persona} pattern"
    return config.default, (f"no role or title rule matches (title '{title}') -> {config.default}")


def effective_persona(crm_value: str | None, last_written: str | None, computed: str) -> str:
    """A person's CRM value (non-blank, not what the connector last wrote), else computed."""
    crm = (crm_value or "").strip()
    if crm and crm != (last_written or "").strip():
        return crm
    return computed


@dataclass(frozen=True)
class PersonaRow:
    """One customer contact's persona this cycle."""

    contact_id: str
    account_id: str
    computed: str
    crm_value: str | None
    active: bool


def compute_personas(conn: Connection, ctx: RuleContext) -> list[PersonaRow]:
    """Every (not deleted) customer contact's computed persona, from one fetch."""
    return [
        PersonaRow(r["contact_id"], r["account_id"], r["persona"], r["crm_value"], r["active"])
        for r in classified_contacts(conn, ctx)
    ]


def classified_contacts(conn: Connection, ctx: RuleContext) -> Iterator[dict[str, Any]]:
    """Each customer contact with its persona, the reason (``why``) and what ``persona_state``
    needs: one fetch and one classification for ``persona_state`` and ``persona_assignment``
    (which reads them staged, ``ctx.shared["personas"]``, ``PERSONA_COLUMNS``)."""
    config = personas_for(ctx)
    for r in conn.execute(contacts_with_roles(ctx, config)).mappings():
        persona, why = classify(r, config)
        yield {
            "contact_id": r["contact_id"],
            "account_id": r["account_id"],
            "contact_name": r["contact_name"],
            "persona": persona,
            "why": why,
            "crm_value": r["crm_value"],
            "active": bool(r["active"]),
        }


# The columns of the classified contacts ``persona_assignment`` reads when they are staged.
PERSONA_COLUMNS = ("contact_id", "account_id", "contact_name", "persona", "why")


# -- the rule ---------------------------------------------------------------------------------
class PersonaAssignment:
    """The computed persona of every customer contact; reconcile writes it only where the CRM
    field is blank or still holds the connector's last value."""

    id = "persona_assignment"
    family = "persona"
    requires = {"contact": ("account_id", "title", "persona")}

    def __init__(self) -> None:
        self._config: tuple[RuleContext, PersonaConfig] | None = None

    def select(self, ctx: RuleContext, account_id: str | None = None) -> Select[Any]:
        staged = ctx.shared.get("personas")
        if staged is not None and account_id is None:
            # The evaluation classified every contact for ``persona_state`` a moment ago, from
            # this very statement: read that, rather than fetch and classify them again.
            return select(*(staged.c[n] for n in PERSONA_COLUMNS), true().label("fires"))
        query = contacts_with_roles(ctx, self._personas(ctx)).add_columns(true().label("fires"))
        if account_id is not None:
            return query.where(ctx.tables.contact.c.account_id == account_id)
        return query

    def _personas(self, ctx: RuleContext) -> PersonaConfig:
        """``personas_for(ctx)`` once per context (an evaluation), not once per contact: it
        stats and path-joins ``personas.toml`` each call, a third of this rule's decide."""
        cached = self._config
        if cached is None or cached[0] is not ctx:
            cached = self._config = (ctx, personas_for(ctx))
        return cached[1]

    def decide(self, row: RowMapping, ctx: RuleContext) -> list[DesiredOutput]:
        if not row["fires"]:
            return []
        if "why" in row:  # classified already (``select`` read the staged classification)
            persona, why = row["persona"], row["why"]
        else:
            persona, why = classify(row, self._personas(ctx))
        contact = row["contact_id"]
        evidence = f"{row['contact_name'] or contact} ({contact}): {why}"
        return [
            DesiredOutput(
                f"{self.id}:{contact}",
                self.id,
                "persona",
                row["account_id"],
                fields={"persona": persona, "contact_id": contact},
                evidence=evidence,
            )
        ]


RULES = [PersonaAssignment()]
