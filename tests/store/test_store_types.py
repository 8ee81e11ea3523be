"""Values come back as they went in; aware datetimes keep their instant and compare in SQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import StatementError

from connector.store import mirror

PARIS = timezone(timedelta(hours=2))
NEW_YORK = timezone(timedelta(hours=-5))


def test_aware_datetimes_round_trip_as_utc(store, spec, make_row):
    mirror.ensure_tables(store, [spec])
    sent = datetime(2025, 6, 1, 10, 30, 15, 123456, tzinfo=PARIS)

    with store.begin() as conn:
        mirror.upsert(conn, spec, [make_row("003A", sent)], sent)
        got = conn.execute(select(mirror.table(spec).c.modstamp)).scalar_one()

    assert got == sent
    assert got.tzinfo == UTC
    assert got.hour == 8


def test_aware_datetimes_compare_by_instant_in_sql(store, spec, make_row):
    mirror.ensure_tables(store, [spec])
    stamps = {
        "a": datetime(2025, 1, 6, 10, 30, tzinfo=PARIS),  # 08:30Z
        "b": datetime(2025, 1, 6, 9, 0, tzinfo=UTC),  # 09:00Z
        "c": datetime(2025, 1, 6, 9, 0, 0, 500000, tzinfo=UTC),  # 09:00:00.5Z
        "d": datetime(2025, 1, 6, 4, 15, tzinfo=NEW_YORK),  # 09:15Z
    }
    table = mirror.table(spec)
    cutoff = datetime(2025, 1, 6, 11, 0, tzinfo=PARIS)  # 09:00Z

    with store.begin() as conn:
        mirror.upsert(conn, spec, [make_row(i, s) for i, s in stamps.items()], cutoff)
        ordered = conn.execute(select(table.c.id).order_by(table.c.modstamp)).scalars().all()
        after = conn.execute(select(table.c.id).where(table.c.modstamp > cutoff)).scalars().all()

    assert ordered == ["a", "b", "c", "d"]
    assert sorted(after) == ["c", "d"]


def test_a_naive_datetime_is_refused(store, spec, make_row):
    mirror.ensure_tables(store, [spec])

    with pytest.raises(StatementError, match="naive datetime"), store.begin() as conn:
        mirror.upsert(conn, spec, [make_row("003A", datetime(2025, 1, 6, 9, 0))], datetime.now(UTC))


def test_every_mapped_type_round_trips(store, make_spec, make_row):
    spec = make_spec(
        "usage", t="text", i="int", f="float", b="bool", d="date", dt="datetime", j="json"
    )
    mirror.ensure_tables(store, [spec])
    values = {
        "t": "Grüße ✓",
        "i": 2**40,
        "f": 0.1 + 0.2,
        "b": True,
        "d": date(2025, 2, 28),
        "dt": datetime(2025, 2, 28, 23, 59, 59, 999999, tzinfo=UTC),
        "j": {"products": ["core", "bi"], "seats": 12, "nested": {"ok": None}},
    }

    with store.begin() as conn:
        mirror.upsert(conn, spec, [make_row("u1", **values), make_row("u2")], datetime.now(UTC))
        table = mirror.table(spec)
        full, empty = conn.execute(select(table).order_by(table.c.id)).mappings().all()

    assert {k: full[k] for k in values} == values
    assert all(empty[k] is None for k in values)
