"""Engines: a SQLite file is ready to use with WAL and foreign keys; URLs pick psycopg 3."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from connector.store import make_engine


def test_a_sqlite_store_creates_its_directory_and_uses_wal(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'new' / 'dir' / 'cs.db'}")
    with engine.connect() as conn:
        pragmas = {
            name: conn.execute(text(f"PRAGMA {name}")).scalar_one()
            for name in ("journal_mode", "foreign_keys", "synchronous", "busy_timeout")
        }
    engine.dispose()

    assert (tmp_path / "new" / "dir" / "cs.db").exists()
    assert pragmas == {
        "journal_mode": "wal",
        "foreign_keys": 1,
        "synchronous": 1,
        "busy_timeout": 30000,
    }


@pytest.mark.parametrize("url", ["postgresql://u@h/db", "postgres://u@h/db"])
def test_a_bare_postgresql_url_means_psycopg_3(url):
    assert make_engine(url).dialect.driver == "psycopg"  # nothing connects yet


def test_an_unsupported_database_is_refused():
    with pytest.raises(ValueError, match="unsupported store database 'mysql'"):
        make_engine("mysql://u@h/db")
