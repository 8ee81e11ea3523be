"""Mirror tables follow the mappings; rows are upserted by id and flagged deleted, never lost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect, select

from connector.errors import ConfigError
from connector.store import mirror
from connector.store.mirror import MirrorChange

T0 = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
T1 = T0 + timedelta(hours=1)


def rows_of(store, spec, *columns):
    table = mirror.table(spec)
    query = select(*(table.c[c] for c in columns)).order_by(table.c.id)
    with store.connect() as conn:
        return [tuple(r) for r in conn.execute(query)]


def write(store, spec, rows, pulled_at=T1):
    with store.begin() as conn:
        return mirror.upsert(conn, spec, rows, pulled_at)


def test_a_mirror_table_is_created_from_the_spec(store, spec):
    changes = mirror.ensure_tables(store, [spec])

    inspector = inspect(store)
    columns = [c["name"] for c in inspector.get_columns("mirror_contact")]
    assert changes == [MirrorChange("contact", created=True)]
    assert columns == ["id", "modstamp", "deleted", "pulled_at", "name", "seats"]
    assert inspector.get_pk_constraint("mirror_contact")["constrained_columns"] == ["id"]
    assert [ix["column_names"] for ix in inspector.get_indexes("mirror_contact")] == [["modstamp"]]


def test_ensuring_tables_twice_changes_nothing(store, spec):
    mirror.ensure_tables(store, [spec])

    assert mirror.ensure_tables(store, [spec]) == []


def test_a_mapping_that_gains_a_column_extends_the_table_without_losing_rows(
    store, make_spec, make_row
):
    before = make_spec("contact", name="text")
    after = make_spec("contact", name="text", title="text", score="float")
    mirror.ensure_tables(store, [before])
    write(store, before, [make_row("003A", name="Ada")])

    changes = mirror.ensure_tables(store, [after])
    write(store, after, [make_row("003B", name="Bo", title="CFO", score=0.5)])

    assert changes == [MirrorChange("contact", created=False, added=("title", "score"))]
    assert rows_of(store, after, "id", "name", "title", "score") == [
        ("003A", "Ada", None, None),
        ("003B", "Bo", "CFO", 0.5),
    ]


def test_a_column_the_mapping_dropped_stays_in_the_table(store, make_spec, make_row):
    mirror.ensure_tables(store, [make_spec("contact", name="text", title="text")])
    narrower = make_spec("contact", name="text")

    mirror.ensure_tables(store, [narrower])
    write(store, narrower, [make_row("003A", name="Ada")])

    assert "title" in {c["name"] for c in inspect(store).get_columns("mirror_contact")}
    assert rows_of(store, narrower, "id", "name") == [("003A", "Ada")]


def test_a_mapped_column_may_not_reuse_a_mirror_column_name(make_spec):
    with pytest.raises(ConfigError, match="columns.deleted: reserved by the mirror table"):
        mirror.table(make_spec("contact", deleted="bool"))


def test_upsert_inserts_then_updates_by_id_without_duplicates(store, spec, make_row):
    mirror.ensure_tables(store, [spec])
    write(store, spec, [make_row("003A", name="Ada", seats=1), make_row("003B", name="Bo")])

    written = write(store, spec, [make_row("003A", T1, name="Ada L.", seats=2)])

    assert written == 1
    assert rows_of(store, spec, "id", "modstamp", "name", "seats") == [
        ("003A", T1, "Ada L.", 2),
        ("003B", T0, "Bo", None),
    ]


def test_a_re_read_row_with_unchanged_values_still_updates_modstamp_and_deleted(
    store, spec, make_row
):
    mirror.ensure_tables(store, [spec])
    write(store, spec, [make_row("003A", T0, name="Ada")], pulled_at=T0)

    write(store, spec, [make_row("003A", T1, deleted=True, name="Ada")], pulled_at=T1)

    assert rows_of(store, spec, "modstamp", "deleted", "pulled_at") == [(T1, True, T1)]


def test_a_page_that_repeats_an_id_keeps_its_last_version(store, spec, make_row):
    mirror.ensure_tables(store, [spec])

    written = write(
        store, spec, [make_row("003A", T0, name="old"), make_row("003A", T1, name="new")]
    )

    assert written == 1
    assert rows_of(store, spec, "id", "name") == [("003A", "new")]


def test_ids_differing_only_in_case_are_two_rows(store, spec, make_row):
    mirror.ensure_tables(store, [spec])

    write(store, spec, [make_row("001abc", name="lower"), make_row("001ABC", name="upper")])

    assert sorted(rows_of(store, spec, "id", "name")) == [("001ABC", "upper"), ("001abc", "lower")]


def test_ids_sort_and_compare_in_byte_order(store, spec, make_row):
    mirror.ensure_tables(store, [spec])
    write(store, spec, [make_row(i) for i in ("b", "a", "Z", "A", "0", "_")])
    table = mirror.table(spec)

    with store.connect() as conn:
        ordered = conn.execute(select(table.c.id).order_by(table.c.id)).scalars().all()
        above_z = conn.execute(select(table.c.id).where(table.c.id > "Z")).scalars().all()

    assert ordered == ["0", "A", "Z", "_", "a", "b"]
    assert sorted(above_z) == ["_", "a", "b"]


def test_mark_deleted_flags_only_the_given_rows(store, spec, make_row):
    mirror.ensure_tables(store, [spec])
    write(store, spec, [make_row(i) for i in ("003A", "003B", "003C")])

    with store.begin() as conn:
        changed = mirror.mark_deleted(conn, spec, ["003B", "003X"], T1)

    assert changed == 1
    assert rows_of(store, spec, "id", "deleted") == [
        ("003A", False),
        ("003B", True),
        ("003C", False),
    ]


def test_sweep_missing_marks_exactly_the_missing_rows(store, spec, make_row):
    mirror.ensure_tables(store, [spec])
    ids = [f"003{n:05d}" for n in range(1200)]
    write(store, spec, [make_row(i) for i in ids] + [make_row("003gone", deleted=True)])
    sweep_at = T1 + timedelta(days=1)
    missing = set(ids[::7])

    with store.begin() as conn:
        changed = mirror.sweep_missing(conn, spec, set(ids) - missing, sweep_at)

    swept = {r[0] for r in rows_of(store, spec, "id", "deleted", "pulled_at") if r[1]}
    assert changed == len(missing)
    assert swept == missing | {"003gone"}
    assert {r[0] for r in rows_of(store, spec, "id", "pulled_at") if r[1] == sweep_at} == missing


def test_count_leaves_out_deleted_rows_unless_asked(store, spec, make_row):
    mirror.ensure_tables(store, [spec])
    write(store, spec, [make_row("003A"), make_row("003B", deleted=True)])

    with store.connect() as conn:
        counts = (mirror.count(conn, spec), mirror.count(conn, spec, include_deleted=True))

    assert counts == (1, 2)
