"""The mirror's compiled upsert stores exactly what SQLAlchemy's own ``execute`` stored.

``mirror.upsert`` sends tuples through the driver's ``executemany`` with each column's bind
conversion chosen once; the reference here is the statement it replaced, run with dicts through
SQLAlchemy's parameter processing. Both must leave identical raw values in the database.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from sqlalchemy import select, text

from connector.store import mirror
from connector.store.engine import upsert_insert
from connector.transforms import SourceInstant, parse_datetime

PARIS = timezone(timedelta(hours=2))


def _reference_upsert(conn, spec, rows, pulled_at):
    table = mirror.table(spec)
    names = [c.name for c in spec.columns]
    params = [
        {
            **{n: mirror._storable(r.values.get(n)) for n in names},
            "id": mirror._storable(r.id),
            "modstamp": r.modstamp,
            "deleted": r.deleted,
            "pulled_at": pulled_at,
        }
        for r in {r.id: r for r in rows}.values()
    ]
    insert = upsert_insert(conn, table)
    statement = insert.on_conflict_do_update(
        index_elements=[table.c.id],
        set_={c.name: insert.excluded[c.name] for c in table.columns if c.name != "id"},
    )
    conn.execute(statement, params)


def _raw(conn, spec):
    name = mirror.table(spec).name
    cast = "::text" if conn.dialect.name == "postgresql" else ""
    columns = ", ".join(f"{c}{cast}" for c in ("id", "modstamp", "deleted", "pulled_at", "t"))
    mapped = ", ".join(f"{c}{cast}" for c in ("i", "f", "b", "d", "dt", "j"))
    return conn.execute(text(f"SELECT {columns}, {mapped} FROM {name} ORDER BY id")).all()


def test_the_compiled_upsert_stores_what_sqlalchemy_stored(store, make_spec, make_row):
    kinds = {"t": "text", "i": "int", "f": "float", "b": "bool", "d": "date", "dt": "datetime"}
    ours = make_spec("ours", **kinds, j="json")
    theirs = make_spec("theirs", **kinds, j="json")
    mirror.ensure_tables(store, [ours, theirs])
    pulled = datetime(2025, 3, 1, 12, 0, 0, 5, tzinfo=PARIS)
    rows = [
        make_row(
            "a\x00b",
            datetime(2025, 6, 1, 10, 30, 15, 123456, tzinfo=PARIS),
            t="Grüße\x00 ✓",
            i=2**40,
            f=0.1 + 0.2,
            b=True,
            d=date(999, 2, 28),
            dt=datetime(2025, 2, 28, 23, 59, 59, 999999, tzinfo=UTC),
            j={"k\x00": ["v\x00", 1, None], "n": {"ok": None}, "f": 1.5},
        ),
        make_row("b", None, True, t="", i=0, f=-0.0, b=False, j=[], dt=None),
        make_row("c", datetime(2025, 1, 1, tzinfo=UTC), j="text"),
        make_row("c", datetime(2025, 1, 2, tzinfo=UTC), j=None, t="last wins"),
    ]

    with store.begin() as conn:
        assert mirror.upsert(conn, ours, rows, pulled) == 3
        _reference_upsert(conn, theirs, rows, pulled)
        first_ours, first_theirs = _raw(conn, ours), _raw(conn, theirs)
        mirror.upsert(conn, ours, rows[:2], pulled + timedelta(days=1))  # the update path too
        _reference_upsert(conn, theirs, rows[:2], pulled + timedelta(days=1))
        second_ours, second_theirs = _raw(conn, ours), _raw(conn, theirs)
        typed = conn.execute(select(mirror.table(ours)).order_by(text("id"))).mappings().all()

    assert first_ours == first_theirs and len(first_ours) == 3
    assert second_ours == second_theirs and second_ours != first_ours
    assert typed[0]["id"] == "ab" and typed[0]["t"] == "Grüße ✓"
    assert typed[0]["j"] == {"k": ["v", 1, None], "n": {"ok": None}, "f": 1.5}
    assert typed[0]["modstamp"] == datetime(2025, 6, 1, 8, 30, 15, 123456, tzinfo=UTC)
    assert typed[2]["t"] == "last wins" and typed[2]["j"] is None


def test_fast_paths_store_what_sqlalchemy_stored(store, make_spec, make_row):
    """Instants kept with their API text, lists of words and dates take shortcuts on SQLite
    (``utc_text``, a joined word list, ``isoformat``); the values stored are the reference's."""
    kinds = {"t": "text", "i": "int", "f": "float", "b": "bool", "d": "date", "dt": "datetime"}
    ours = make_spec("ours_fast", **kinds, j="json")
    theirs = make_spec("theirs_fast", **kinds, j="json")
    mirror.ensure_tables(store, [ours, theirs])
    texts = [
        "2025-06-17T00:26:58Z",
        "2025-06-17T00:26:58.120Z",
        "2025-12-02T09:07:03.000+0000",
        "0999-12-31T23:59:59.999+00:00",
        "2025-12-02T09:07:03.000+0200",  # not a UTC form: parsed in full
        "2025-06-17 00:26:58",  # naive, taken as UTC
    ]
    instants = [parse_datetime(t) for t in texts]
    assert sum(isinstance(m, SourceInstant) for m in instants) == 4
    derived = [instants[0] + timedelta(microseconds=7), instants[2].replace(hour=23)]
    words = [[], ["bug"], ["how_to", "Tier 1"], ['say "hi"'], ["back\\slash"], ["é"], ["\x7f"]]
    rows = [
        make_row(
            f"r{n}",
            moment,
            dt=moment,
            j=words[n % len(words)],
            d=date(2025, 1, 1) + timedelta(days=n),
        )
        for n, moment in enumerate(instants + derived)
    ]
    pulled = parse_datetime("2025-03-01T12:00:00Z")

    with store.begin() as conn:
        mirror.upsert(conn, ours, rows, pulled)
        _reference_upsert(conn, theirs, rows, pulled)
        assert _raw(conn, ours) == _raw(conn, theirs)
