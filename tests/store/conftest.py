"""Store fixtures: every store test runs on a SQLite file and on PostgreSQL.

PostgreSQL comes from ``CS_TEST_POSTGRES_URL`` (default: trust auth on loopback); each test gets
a fresh schema, reached through ``search_path`` in the URL, dropped afterwards. An unreachable
server skips those tests, unless ``CS_REQUIRE_POSTGRES=1`` (CI), which fails them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine

from connector.model import Column, ColumnType, Row, StreamSpec
from connector.store import make_engine, upgrade

T0 = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    """An engine on the empty database (no migrations applied)."""
    made = make_engine(store_url)
    yield made
    made.dispose()


@pytest.fixture
def store(engine: Engine) -> Engine:
    """An engine on a migrated database."""
    upgrade(engine)
    return engine


def _make_spec(name: str = "contact", /, **columns: ColumnType) -> StreamSpec:
    columns = columns or {"name": "text", "seats": "int"}
    return StreamSpec(
        name=name,
        source="salesforce",
        source_object=name.title(),
        columns=tuple(Column(col, kind, col.title()) for col, kind in columns.items()),
        cursor_field="SystemModstamp",
        origin=f"mappings/salesforce/{name}.toml",
    )


def _make_row(id: str, modstamp: datetime | None = T0, deleted: bool = False, **values: Any) -> Row:
    return Row(id=id, modstamp=modstamp, deleted=deleted, values=values)


@pytest.fixture
def make_spec() -> Callable[..., StreamSpec]:
    """``make_spec("contact", title="text")``: a spec as the mappings would build it."""
    return _make_spec


@pytest.fixture
def make_row() -> Callable[..., Row]:
    """``make_row("003A", modstamp, deleted=False, title="CFO")``: a row in store form."""
    return _make_row


@pytest.fixture
def spec() -> StreamSpec:
    """The default stream: ``contact`` with ``name`` (text) and ``seats`` (int)."""
    return _make_spec()
