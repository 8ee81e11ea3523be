"""Service fixtures: a migrated, empty store on SQLite and on PostgreSQL for every test.

Same databases as ``tests/conftest.py``'s ``store_url`` (overridden here), but migrated once
per session rather than once per test, which keeps this folder fast: SQLite tests get a copy of
a migrated template file; PostgreSQL tests share one migrated schema (per session, so per xdist
worker) whose tables are truncated after each test.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from connector.store import make_engine, upgrade
from connector.store.schema import metadata


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "cs.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # checkpoints the WAL: the file alone is the database
    return path


@pytest.fixture(scope="session")
def postgres_service_url(postgres_url: str) -> Iterator[str]:
    schema = f"t_service_{uuid.uuid4().hex[:12]}"
    admin = make_engine(postgres_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(postgres_url).update_query_dict({"options": f"-csearch_path={schema}"})
    rendered = url.render_as_string(hide_password=False)
    migrated = make_engine(rendered)
    upgrade(migrated)
    migrated.dispose()
    try:
        yield rendered
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    """The URL of a migrated store with empty tables (SQLite file or PostgreSQL schema)."""
    if request.param == "sqlite":
        path = tmp_path / "store" / "cs.db"
        path.parent.mkdir()
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url: str = request.getfixturevalue("postgres_service_url")
    yield url
    cleaner = make_engine(url)
    try:
        with cleaner.begin() as conn:
            names = ", ".join(f'"{name}"' for name in metadata.tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    finally:
        cleaner.dispose()


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    """An engine on the migrated, empty store."""
    made = make_engine(store_url)
    yield made
    made.dispose()
