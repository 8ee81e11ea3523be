"""A unit of work commits a page's rows and its state together, or neither."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest

from connector.store import UnitOfWork, mirror, state

NOW = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


def write_page(uow, spec, make_row, cursor):
    mirror.upsert(uow.conn, spec, [make_row("003A"), make_row("003B")], NOW)
    state.save(uow.conn, spec.name, {"cursor": cursor})


def stored(store, spec):
    with store.connect() as conn:
        return mirror.count(conn, spec), state.get(conn, spec.name)


def test_a_committed_unit_of_work_keeps_rows_and_state(store, spec, make_row):
    mirror.ensure_tables(store, [spec])

    with UnitOfWork(store) as uow:
        write_page(uow, spec, make_row, "2025-01-06T09:00:00Z")
        uow.commit()

    assert stored(store, spec) == (2, {"cursor": "2025-01-06T09:00:00Z"})


def test_a_unit_of_work_left_without_commit_leaves_neither_rows_nor_state(store, spec, make_row):
    mirror.ensure_tables(store, [spec])

    with UnitOfWork(store) as uow:
        write_page(uow, spec, make_row, "2025-01-06T09:00:00Z")

    assert stored(store, spec) == (0, None)


def test_an_error_inside_a_unit_of_work_rolls_it_back(store, spec, make_row):
    mirror.ensure_tables(store, [spec])

    with pytest.raises(RuntimeError), UnitOfWork(store) as uow:
        write_page(uow, spec, make_row, "2025-01-06T09:00:00Z")
        raise RuntimeError("killed mid-page")

    assert stored(store, spec) == (0, None)


def test_work_after_a_commit_is_rolled_back_unless_committed_again(store, spec, make_row):
    mirror.ensure_tables(store, [spec])

    with UnitOfWork(store) as uow:
        write_page(uow, spec, make_row, "first")
        uow.commit()
        mirror.upsert(uow.conn, spec, [make_row("003C")], NOW)
        state.save(uow.conn, spec.name, {"cursor": "second"})

    assert stored(store, spec) == (2, {"cursor": "first"})


def test_a_unit_of_work_cannot_be_used_outside_its_block(store):
    uow = UnitOfWork(store)

    with pytest.raises(RuntimeError, match="outside its with block"):
        uow.conn


def test_a_second_writer_waits_for_the_first_instead_of_failing(store, spec, make_row):
    mirror.ensure_tables(store, [spec])
    first_holds = threading.Event()
    errors = []

    def second_writer():
        try:
            first_holds.wait(5)
            with UnitOfWork(store) as uow:  # blocks until the first commits
                seen = state.get(uow.conn, spec.name)
                mirror.upsert(uow.conn, spec, [make_row("003B")], NOW)
                state.save(uow.conn, spec.name, {"cursor": "second", "after": seen})
                uow.commit()
        except Exception as exc:
            errors.append(exc)

    thread = threading.Thread(target=second_writer)
    thread.start()
    with UnitOfWork(store) as uow:
        mirror.upsert(uow.conn, spec, [make_row("003A")], NOW)
        state.save(uow.conn, spec.name, {"cursor": "first"})
        first_holds.set()
        time.sleep(0.3)
        uow.commit()
    thread.join(10)

    assert errors == []
    assert stored(store, spec)[0] == 2
