"""The collector tuning a pull or an evaluation runs under, shared by jobs running at once."""

from __future__ import annotations

import gc

from connector.heap import THRESHOLD, quiet_heap


def test_the_tuning_holds_inside_and_is_restored_after() -> None:
    before = gc.get_threshold()
    with quiet_heap():
        assert gc.get_threshold() == THRESHOLD
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_overlapping_jobs_keep_it_until_the_last_one_ends() -> None:
    before = gc.get_threshold()
    outer = quiet_heap()
    outer.__enter__()
    with quiet_heap():
        pass
    assert gc.get_threshold() == THRESHOLD  # the first job is still running
    outer.__exit__(None, None, None)
    assert gc.get_threshold() == before


def test_it_decorates_a_function() -> None:
    @quiet_heap()
    def job() -> tuple[int, int, int]:
        return gc.get_threshold()

    assert job() == THRESHOLD
    assert job() == THRESHOLD  # a second call gets a fresh context
