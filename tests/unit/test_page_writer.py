"""The pull's page writer: pages committed in a thread of their own, in order, errors raised."""

from __future__ import annotations

import threading

import pytest

from connector.page_writer import PageWriter


def test_pages_are_committed_in_order_in_the_writers_thread() -> None:
    committed: list[tuple[int, str]] = []
    writer = PageWriter(lambda page: committed.append((page, threading.current_thread().name)))
    for page in range(5):
        writer.put(page)
    writer.close()
    assert committed == [(page, "pull store") for page in range(5)]


def test_close_waits_for_the_page_being_committed() -> None:
    gate, committed = threading.Event(), []

    def slow(page: int) -> None:
        gate.wait(5)
        committed.append(page)

    writer = PageWriter(slow)
    writer.put(1)
    threading.Timer(0.05, gate.set).start()
    writer.close()
    assert committed == [1]


def test_a_failed_commit_is_raised_to_the_pull_and_nothing_after_it_is_committed() -> None:
    committed: list[int] = []

    def commit(page: int) -> None:
        if page == 2:
            raise OSError("disk full")
        committed.append(page)

    writer = PageWriter(commit)
    with pytest.raises(OSError, match="disk full"):
        for page in range(1, 10):
            writer.put(page)
        writer.close()
    writer.close()  # raised once: closing again after it is quiet
    assert committed == [1]


def test_a_writer_with_nothing_put_closes_at_once() -> None:
    writer = PageWriter(lambda page: None)
    writer.close()
    writer.close()
