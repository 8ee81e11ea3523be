"""A small world for rule tests: the shipped mappings' mirror tables on SQLite, plain rows in.

Rules are pure statements over the store; these tests insert exactly the rows a sentence needs
(``world.customer(...)``, ``world.ticket(...)``) and read the desired outputs back.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, insert

from connector.demo import default_mappings_dir
from connector.mappings import load_mappings, resolve
from connector.model import StreamSpec
from connector.rules.model import DesiredOutput, Owners, Rule, RuleContext, Tables
from connector.rules.params import RuleParams
from connector.rules.templates import Templates
from connector.sandbox.ids import IdMinter
from connector.sandbox.salesforce.schema import load_schema
from connector.store import make_engine, mirror, upgrade

NOW = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)  # a Wednesday
OWNERS = {
    "support_manager": "005SUPPORTMANAGER1",
    "cco": "005CCO000000000001",
    "vp_cs": "005VPCS00000000001",
    "product_manager": "005PRODUCTMANAGER1",
    "fallback": "005FALLBACK0000001",
}


@pytest.fixture(scope="session")
def specs() -> list[StreamSpec]:
    schema = load_schema()
    mappings = load_mappings(default_mappings_dir())
    return resolve(
        mappings,
        salesforce_describe=lambda name: (
            schema.describe(name, "62.0") if schema.get(name) else None
        ),
        zendesk_ticket_fields=None,
    )


class World:
    """Rows in, desired outputs out."""

    def __init__(self, engine: Engine, specs: list[StreamSpec]) -> None:
        self.engine = engine
        self.specs = {s.name: s for s in specs}
        self.tables = Tables({name: mirror.table(s) for name, s in self.specs.items()})
        self.ids = IdMinter()
        self._zd = itertools.count(1000)
        self.orgs: dict[str, str] = {}
        for role, user_id in OWNERS.items():
            self.user(user_id, name=role)

    # -- rows -------------------------------------------------------------------------------
    def add(
        self, stream: str, record_id: str | None = None, *, deleted: bool = False, **values: Any
    ) -> str:
        record_id = record_id or self.ids.mint(_PREFIX.get(stream, "a0Z"))
        table = self.tables.__getattr__(stream)
        unknown = set(values) - set(table.c.keys())
        assert not unknown, f"{stream} has no column(s) {unknown}"
        with self.engine.begin() as conn:
            conn.execute(
                insert(table).values(
                    id=record_id, deleted=deleted, modstamp=NOW, pulled_at=NOW, **values
                )
            )
        return record_id

    def user(self, user_id: str | None = None, *, active: bool = True, **values: Any) -> str:
        values.setdefault("email", f"{user_id or 'u'}@example.com".lower())
        return self.add("user", user_id, active=active, **values)

    def customer(
        self,
        name: str = "Acme",
        *,
        segment: str = "Enterprise",
        type: str = "Customer - Direct",  # noqa: A002
        csm_id: str | None = None,
        owner_id: str | None = None,
        **values: Any,
    ) -> str:
        csm_id = csm_id or self.user()
        owner_id = owner_id or self.user()
        return self.add(
            "account",
            name=name,
            type=type,
            segment=segment,
            csm_id=csm_id,
            owner_id=owner_id,
            **values,
        )

    def organization(self, account_id: str | None) -> str:
        if account_id in self.orgs:
            return self.orgs[account_id]
        org_id = str(next(self._zd))
        self.add("zendesk_organization", org_id, account_id=account_id, name=f"org {org_id}")
        if account_id is not None:
            self.orgs[account_id] = org_id
        return org_id

    def ticket(
        self,
        account_id: str | None,
        *,
        created_at: datetime,
        status: str = "open",
        priority: str | None = "normal",
        tags: list[str] | None = None,
        type: str | None = "question",  # noqa: A002
        **values: Any,
    ) -> str:
        return self.add(
            "zendesk_ticket",
            str(next(self._zd)),
            organization_id=self.organization(account_id),
            status=status,
            priority=priority,
            tags=tags or [],
            type=type,
            created_at=created_at,
            updated_at=created_at,
            **values,
        )

    # -- evaluation -------------------------------------------------------------------------
    def ctx(self, now: datetime = NOW, params: RuleParams | None = None) -> RuleContext:
        params = params or RuleParams()
        return RuleContext(
            now=now,
            today=now.date(),
            params=params,
            tables=self.tables,
            owners=Owners(OWNERS),
            customer_filter=("type", ("Customer - Direct", "Customer - Channel")),
            templates=Templates(default_mappings_dir() / "templates"),
            mappings_dir=default_mappings_dir(),
        )

    def rows(
        self, rule: Rule, ctx: RuleContext | None = None, account_id: str | None = None
    ) -> list[Any]:
        ctx = ctx or self.ctx()
        with self.engine.connect() as conn:
            return list(conn.execute(rule.select(ctx, account_id)).mappings())

    def run(self, rule: Rule, ctx: RuleContext | None = None) -> list[DesiredOutput]:
        ctx = ctx or self.ctx()
        return [o for row in self.rows(rule, ctx) for o in rule.decide(row, ctx)]

    def keys(self, rule: Rule, ctx: RuleContext | None = None) -> set[str]:
        """The keys of the rule's top-level outputs (children ``<parent>/<step>`` left out)."""
        return {o.key for o in self.run(rule, ctx) if o.parent_key is None or o.key == o.parent_key}


_PREFIX = {
    "account": "001",
    "contact": "003",
    "user": "005",
    "opportunity": "006",
    "task": "00T",
    "event": "00U",
    "opportunity_contact_role": "00K",
    "account_contact_role": "02Z",
}


@pytest.fixture
def world(tmp_path, specs) -> Iterator[World]:
    engine = make_engine(f"sqlite:///{tmp_path / 'rules.db'}")
    upgrade(engine)
    mirror.ensure_tables(engine, specs)
    yield World(engine, specs)
    engine.dispose()


def days(n: float) -> Any:
    from datetime import timedelta

    return timedelta(days=n)


def on(day: date) -> date:
    return day
