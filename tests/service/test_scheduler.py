"""The scheduler: jobs never overlap across schedulers sharing a store, and stop cleanly.

The job here is a fake that records when it ran and works in short "batches", checking the
stop event between them as the real steps do between pages and batches.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from connector.schedule import JobSpec
from connector.scheduler import build_scheduler, run_forever
from connector.store.schema import job_locks

EVERY_SECOND = JobSpec("cycle", ("pull",), interval=timedelta(seconds=1))
OFTEN = JobSpec("cycle", ("pull",), interval=timedelta(seconds=0.2))
REPO = Path(__file__).resolve().parents[2]


class FakeJob:
    """Records (holder, start, end) per run; each run is ``batches`` batches of ``batch`` s."""

    def __init__(self, batches: int = 6, batch: float = 0.1) -> None:
        self.batches, self.batch = batches, batch
        self.runs: list[tuple[str, float, float, bool]] = []
        self.started = threading.Event()
        self._lock = threading.Lock()

    def for_holder(self, holder: str):
        def run_job(spec: JobSpec, stop: threading.Event) -> None:
            start = time.monotonic()
            self.started.set()
            stopped = False
            for _ in range(self.batches):
                time.sleep(self.batch)
                if stop.is_set():
                    stopped = True
                    break
            with self._lock:
                self.runs.append((holder, start, time.monotonic(), stopped))

        return run_job


def overlaps(runs):
    ordered = sorted(runs, key=lambda r: r[1])
    return [(a, b) for a, b in zip(ordered, ordered[1:], strict=False) if b[1] < a[2]]


def lock_rows(engine):
    with engine.connect() as conn:
        return conn.execute(select(job_locks)).all()


def test_two_schedulers_on_one_store_never_overlap_a_job(engine, caplog):
    caplog.set_level(logging.INFO, logger="connector.scheduler")
    job = FakeJob(batches=6, batch=0.1)  # 0.6 s a run, fired every second by both
    stops = [threading.Event(), threading.Event()]
    threads = []
    for n, stop in enumerate(stops):
        holder = f"scheduler-{n}"
        scheduler = build_scheduler(
            [EVERY_SECOND], job.for_holder(holder), engine, holder=holder, stop_event=stop
        )
        threads.append(threading.Thread(target=run_forever, args=(scheduler, stop)))
    for t in threads:
        t.start()
    time.sleep(2.4)
    for stop in stops:
        stop.set()
    for t in threads:
        t.join(10)

    assert len(job.runs) >= 2
    assert overlaps(job.runs) == []
    assert "job cycle is running in another process; skipped" in caplog.messages
    assert lock_rows(engine) == []


def test_run_forever_returns_after_the_running_job_finishes_its_batch(engine):
    job = FakeJob(batches=50, batch=0.05)
    stop = threading.Event()
    scheduler = build_scheduler([OFTEN], job.for_holder("a"), engine, stop_event=stop)
    runner = threading.Thread(target=run_forever, args=(scheduler, stop))
    runner.start()
    assert job.started.wait(5)

    stop.set()
    runner.join(5)

    assert not runner.is_alive()
    assert len(job.runs) == 1 and job.runs[0][3]  # the one run, stopped between batches
    assert lock_rows(engine) == []


def test_a_job_held_by_another_process_is_skipped(engine, caplog):
    from connector.store import locks

    caplog.set_level(logging.INFO, logger="connector.scheduler")
    locks.acquire(engine, "cycle", "elsewhere", timedelta(minutes=5))
    job = FakeJob(batches=1, batch=0.01)
    stop = threading.Event()
    scheduler = build_scheduler(
        [EVERY_SECOND], job.for_holder("a"), engine, stop_event=stop, blocking=False
    )
    scheduler.start()
    deadline = time.monotonic() + 5
    while "job cycle is running in another process; skipped" not in caplog.messages:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    stop.set()
    scheduler.shutdown(wait=True)

    assert job.runs == []


def test_a_failing_job_is_logged_and_runs_again_at_its_next_firing(engine, caplog):
    caplog.set_level(logging.INFO, logger="connector.scheduler")
    calls: list[float] = []
    two = threading.Event()

    def failing(spec: JobSpec, stop: threading.Event) -> None:
        calls.append(time.monotonic())
        if len(calls) >= 2:
            two.set()
        raise RuntimeError("boom")

    stop = threading.Event()
    scheduler = build_scheduler([OFTEN], failing, engine, stop_event=stop, blocking=False)
    scheduler.start()
    assert two.wait(5)
    stop.set()
    scheduler.shutdown(wait=True)

    assert "job cycle failed" in caplog.messages
    assert lock_rows(engine) == []  # released after the failure


def test_jobs_are_registered_with_one_instance_and_coalescing(engine):
    weekly = JobSpec("weekly", ("pull", "evaluate"), cron="0 8 * * 1", timezone="Europe/Paris")
    scheduler = build_scheduler([EVERY_SECOND, weekly], lambda s, e: None, engine, blocking=False)
    scheduler.start(paused=True)
    try:
        jobs = {j.id: j for j in scheduler.get_jobs()}
        assert set(jobs) == {"cycle", "weekly"}
        assert all(j.max_instances == 1 and j.coalesce for j in jobs.values())
        assert jobs["cycle"].misfire_grace_time == 1
        assert jobs["weekly"].misfire_grace_time > 0
        fire = jobs["weekly"].next_run_time
        assert (fire.strftime("%a %H:%M"), str(fire.tzinfo)) == ("Mon 08:00", "Europe/Paris")
    finally:
        scheduler.shutdown(wait=False)


# -- real processes ------------------------------------------------------------------------
SERVICE = textwrap.dedent(
    """
    import logging, sys, threading, time
    from datetime import timedelta
    from pathlib import Path

    from connector.schedule import JobSpec
    from connector.scheduler import build_scheduler, run_forever
    from connector.store import make_engine

    url, log_path = sys.argv[1], Path(sys.argv[2])
    every, batches = float(sys.argv[3]), int(sys.argv[4])
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)

    def note(line):
        with log_path.open("a") as f:
            f.write(line + "\\n")

    def run_job(spec, stop):
        note(f"start {time.time()!r}")
        for batch in range(batches):
            time.sleep(0.1)  # one batch, committed
            if stop.is_set():
                note(f"stopped after batch {batch} {time.time()!r}")
                return
        note(f"end {time.time()!r}")

    stop = threading.Event()
    job = JobSpec("cycle", ("pull",), interval=timedelta(seconds=every))
    run_forever(build_scheduler([job], run_job, make_engine(url), stop_event=stop), stop)
    note("exited")
    """
)


def start_service(store_url: str, log_path: Path, every: float, batches: int):
    return subprocess.Popen(
        [sys.executable, "-c", SERVICE, store_url, str(log_path), str(every), str(batches)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(path: Path, text: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not (path.exists() and text in path.read_text()):
        assert time.monotonic() < deadline, f"{text!r} never appeared in {path}"
        time.sleep(0.05)


def starts(path: Path) -> int:
    return path.read_text().count("start") if path.exists() else 0


def stop_service(proc: subprocess.Popen) -> tuple[int, str]:
    proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    return proc.returncode, err


def spans(path: Path) -> list[tuple[str, float, float, bool]]:
    runs, start = [], None
    for line in path.read_text().splitlines():
        word, *rest = line.split()
        if word == "start":
            start = float(rest[0])
        elif word in ("end", "stopped"):
            runs.append((path.name, start, float(rest[-1]), word == "stopped"))
    return runs


@pytest.mark.skipif(os.name != "posix", reason="SIGTERM")
def test_sigterm_lets_the_running_batch_finish_and_exits_with_0(engine, store_url, tmp_path):
    marker = tmp_path / "marker.log"
    proc = start_service(store_url, marker, every=60, batches=200)
    try:
        wait_for(marker, "start")
        code, err = stop_service(proc)
    finally:
        if proc.poll() is None:
            proc.kill()

    assert code == 0, err
    lines = marker.read_text().splitlines()
    assert lines[0].startswith("start")
    assert lines[1].startswith("stopped after batch")
    assert lines[2:] == ["exited"]
    assert lock_rows(engine) == []


@pytest.mark.skipif(os.name != "posix", reason="SIGTERM")
def test_two_service_processes_on_one_store_never_overlap_a_job(engine, store_url, tmp_path):
    logs = [tmp_path / "one.log", tmp_path / "two.log"]
    procs = [start_service(store_url, path, every=0.5, batches=3) for path in logs]
    try:
        deadline = time.monotonic() + 15
        while sum(starts(path) for path in logs) < 3:
            assert time.monotonic() < deadline, [p.read_text() for p in logs if p.exists()]
            time.sleep(0.05)
        results = [stop_service(proc) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()

    assert [code for code, _ in results] == [0, 0], [err for _, err in results]
    runs = spans(logs[0]) + spans(logs[1])
    assert len(runs) >= 3
    assert overlaps(runs) == []
    assert any("running in another process; skipped" in err for _, err in results)


def test_sigint_in_the_main_thread_stops_the_service_like_sigterm(engine):
    assert threading.current_thread() is threading.main_thread()
    job = FakeJob(batches=100, batch=0.02)
    stop = threading.Event()
    scheduler = build_scheduler([OFTEN], job.for_holder("a"), engine, stop_event=stop)
    before = signal.getsignal(signal.SIGINT)

    def interrupt() -> None:
        if job.started.wait(5):
            os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=interrupt, daemon=True).start()
    run_forever(scheduler, stop)

    assert len(job.runs) == 1 and job.runs[0][3]  # stopped between batches
    assert signal.getsignal(signal.SIGINT) is before  # pytest's handler is back
