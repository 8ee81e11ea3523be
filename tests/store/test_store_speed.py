"""How fast pages are written: 20,000 rows in pages of 2,000, each page with its state (the
benchmark measures at scale).

Reported, not asserted (machines differ); run with ``-s`` or read the printed line.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from connector.store import UnitOfWork, mirror, state

ROWS = 20_000
PAGE = 2_000
T0 = datetime(2025, 1, 1, tzinfo=UTC)


def pages(make_row, offset):
    """Every page built up front, so the timing covers the writes only."""
    return [
        [
            make_row(
                f"003{n:015d}",
                T0 + timedelta(seconds=n + offset),
                name=f"Contact {n}",
                title="VP Customer Success",
                seats=n % 500,
                score=n / 7,
                active=n % 3 == 0,
                last_login=T0 + timedelta(minutes=n),
            )
            for n in range(start, start + PAGE)
        ]
        for start in range(0, ROWS, PAGE)
    ]


def write_all(store, spec, make_row, offset):
    built = pages(make_row, offset)
    started = time.perf_counter()
    for page in built:
        with UnitOfWork(store) as uow:
            mirror.upsert(uow.conn, spec, page, datetime.now(UTC))
            state.save(uow.conn, spec.name, {"cursor": page[-1].modstamp.isoformat()})
            uow.commit()
    return ROWS / (time.perf_counter() - started)


@pytest.mark.slow
def test_upsert_speed_is_reported(store, store_url, make_spec, make_row, capsys):
    spec = make_spec(
        "contact",
        name="text",
        title="text",
        seats="int",
        score="float",
        active="bool",
        last_login="datetime",
    )
    mirror.ensure_tables(store, [spec])

    inserted = write_all(store, spec, make_row, 0)
    updated = write_all(store, spec, make_row, 1)

    with store.connect() as conn:
        assert mirror.count(conn, spec) == ROWS
    with capsys.disabled():
        backend = store_url.split(":", 1)[0]
        rates = f"insert {inserted:,.0f} rows/s, update {updated:,.0f} rows/s"
        print(f"\n[store speed] {backend}: {rates} ({ROWS:,} rows, pages of {PAGE:,})")
