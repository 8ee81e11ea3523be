"""Portable SQL pieces: ids compare in byte order on SQLite and PostgreSQL alike (RULES.md)."""

from __future__ import annotations

from sqlalchemy import Column, MetaData, String, Table, func, select
from sqlalchemy.dialects import postgresql, sqlite

from connector.rules.sqlfn import byte_order

CONTACT = Table("contact", MetaData(), Column("id", String))


def sql(statement, dialect) -> str:
    return str(statement.compile(dialect=dialect.dialect()))


def test_byte_order_collates_c_on_postgresql() -> None:
    statement = select(func.min(byte_order(CONTACT.c.id)))
    assert 'min((contact.id) COLLATE "C")' in sql(statement, postgresql)


def test_byte_order_is_the_bare_column_on_sqlite_whose_binary_collation_is_bytes() -> None:
    statement = select(CONTACT.c.id).order_by(byte_order(CONTACT.c.id).desc())
    assert sql(statement, sqlite).endswith("ORDER BY contact.id DESC")


def test_byte_order_puts_upper_case_before_lower_case_on_sqlite(world) -> None:
    for contact_id in ("003b", "003B", "003a"):
        world.add("contact", contact_id, name=contact_id)
    table = world.tables.contact
    with world.engine.connect() as conn:
        lowest = conn.execute(select(func.min(byte_order(table.c.id)))).scalar_one()
    assert lowest == "003B"
