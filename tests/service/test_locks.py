"""The job lock in the store: one holder at a time, expiry, release, and races."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from connector.store import locks
from connector.store.schema import job_locks

T0 = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
TTL = timedelta(minutes=5)


def rows(engine):
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(job_locks.c.job, job_locks.c.holder))]


def test_a_free_lock_is_acquired(engine):
    assert locks.acquire(engine, "cycle", "a", TTL, now=T0)
    assert rows(engine) == [("cycle", "a")]


def test_a_second_holder_is_refused_while_the_lock_is_held(engine):
    locks.acquire(engine, "cycle", "a", TTL, now=T0)

    assert not locks.acquire(engine, "cycle", "b", TTL, now=T0 + timedelta(minutes=4))
    assert rows(engine) == [("cycle", "a")]


def test_a_second_holder_takes_over_an_expired_lock(engine):
    locks.acquire(engine, "cycle", "a", TTL, now=T0)

    assert locks.acquire(engine, "cycle", "b", TTL, now=T0 + timedelta(minutes=5, seconds=1))
    assert rows(engine) == [("cycle", "b")]


def test_the_holder_reacquiring_its_lock_extends_it(engine):
    locks.acquire(engine, "cycle", "a", TTL, now=T0)

    assert locks.acquire(engine, "cycle", "a", TTL, now=T0 + timedelta(minutes=4))
    assert not locks.acquire(engine, "cycle", "b", TTL, now=T0 + timedelta(minutes=6))


def test_locks_of_different_jobs_are_independent(engine):
    assert locks.acquire(engine, "cycle", "a", TTL, now=T0)
    assert locks.acquire(engine, "sweep", "b", TTL, now=T0)


def test_release_by_a_non_holder_does_nothing(engine):
    locks.acquire(engine, "cycle", "a", TTL, now=T0)

    locks.release(engine, "cycle", "b")

    assert rows(engine) == [("cycle", "a")]


def test_release_by_the_holder_frees_the_lock(engine):
    locks.acquire(engine, "cycle", "a", TTL, now=T0)

    locks.release(engine, "cycle", "a")

    assert rows(engine) == []
    assert locks.acquire(engine, "cycle", "b", TTL, now=T0)


def test_refresh_extends_the_holders_lock(engine):
    locks.acquire(engine, "cycle", "a", TTL, now=T0)

    assert locks.refresh(engine, "cycle", "a", TTL, now=T0 + timedelta(minutes=4))
    assert not locks.acquire(engine, "cycle", "b", TTL, now=T0 + timedelta(minutes=6))


def test_refresh_fails_once_another_holder_took_over(engine):
    locks.acquire(engine, "cycle", "a", TTL, now=T0)
    locks.acquire(engine, "cycle", "b", TTL, now=T0 + timedelta(minutes=6))

    assert not locks.refresh(engine, "cycle", "a", TTL, now=T0 + timedelta(minutes=7))


def test_holder_of_names_the_live_holder_only(engine):
    locks.acquire(engine, "cycle", "a", TTL, now=T0)

    assert locks.holder_of(engine, "cycle", now=T0 + timedelta(minutes=1)) == "a"
    assert locks.holder_of(engine, "cycle", now=T0 + timedelta(minutes=6)) is None


def test_held_yields_true_and_releases_on_exit(engine):
    with locks.held(engine, "cycle", "a", TTL) as mine:
        assert mine
        assert rows(engine) == [("cycle", "a")]
    assert rows(engine) == []


def test_held_yields_false_and_leaves_the_other_holders_lock(engine):
    locks.acquire(engine, "cycle", "a", TTL)

    with locks.held(engine, "cycle", "b", TTL) as mine:
        assert not mine
    assert rows(engine) == [("cycle", "a")]


def test_held_keeps_a_lock_alive_past_its_ttl(engine):
    with locks.held(engine, "cycle", "a", 0.3, heartbeat=0.05) as mine:
        assert mine
        time.sleep(0.5)
        assert not locks.acquire(engine, "cycle", "b", 0.3)


def test_held_reports_a_lock_taken_over(engine):
    lost = threading.Event()
    with locks.held(engine, "cycle", "a", 0.2, heartbeat=0.3, on_lost=lost.set) as mine:
        assert mine
        time.sleep(0.25)  # expired before the first heartbeat
        assert locks.acquire(engine, "cycle", "b", TTL)
        assert lost.wait(2)
    assert rows(engine) == [("cycle", "b")]  # leaving does not release b's lock


def test_holders_are_unique_and_name_host_and_pid():
    first, second = locks.default_holder(), locks.default_holder()
    assert first != second
    host, pid, _ = first.split(":")
    assert host and pid.isdigit()


def test_of_two_threads_racing_for_a_free_lock_exactly_one_wins(engine):
    for round_ in range(50):
        job = f"race-{round_}"
        barrier = threading.Barrier(2)
        won: list[str] = []

        def race(holder: str, job: str = job, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            if locks.acquire(engine, job, holder, TTL):
                won.append(holder)

        threads = [threading.Thread(target=race, args=(h,)) for h in ("a", "b")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(won) == 1, f"round {round_}: winners {won}"
