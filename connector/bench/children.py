"""Child processes of a benchmark: the sandbox server, and measured runs.

The sandbox runs in a process of its own so its memory and CPU stay out of what is measured.
Each measured phase is a child reaped with ``os.wait4`` (its CPU time) that reports its own
peak RSS through ``connector.bench.probe`` (``ru_maxrss`` would include the parent's).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

_LISTENING = re.compile(r"https://127\.0\.0\.1:(\d+)")


@dataclass(frozen=True)
class ChildRun:
    """One measured child: wall time from the parent, its own peak RSS and CPU time."""

    argv: tuple[str, ...]
    wall_s: float
    peak_rss_mb: float
    cpu_s: float
    stdout: str
    stderr: str


def run_measured(
    module: str,
    args: Sequence[str],
    workdir: Path,
    *,
    env: Mapping[str, str] | None = None,
    name: str,
) -> ChildRun:
    """``python -m module args`` to its end under ``connector.bench.probe`` (peak RSS).

    Wall time runs from spawn to exit; CPU is the child's own user + system time from
    ``wait4``. A non-zero exit raises with the tail of its stderr.
    """
    out, err, rss = (workdir / f"{name}.{ext}" for ext in ("out", "err", "rss"))
    argv = [sys.executable, "-m", "connector.bench.probe", str(rss), module, *args]
    with out.open("wb") as stdout, err.open("wb") as stderr:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=stdout, stderr=stderr, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    stderr_text = err.read_text(encoding="utf-8", errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(
            f"{name} exited {proc.returncode}: {' '.join(argv)}\n{stderr_text[-4000:]}"
        )
    return ChildRun(
        argv=(module, *args),
        wall_s=round(wall, 3),
        peak_rss_mb=float(rss.read_text(encoding="ascii")),
        cpu_s=round(usage.ru_utime + usage.ru_stime, 3),
        stdout=out.read_text(encoding="utf-8", errors="replace"),
        stderr=stderr_text,
    )


class SandboxProcess:
    """``python -m connector sandbox`` in a child process, with the export rate limits off."""

    def __init__(self, scale: str, workdir: Path, *, seed: int = 42) -> None:
        self.scale = scale
        self.workdir = workdir
        self.seed = seed
        self.port = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._log = workdir / "sandbox.out"

    @property
    def argv(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "connector",
            "sandbox",
            f"--scale={self.scale}",
            "--port=0",
            f"--workdir={self.workdir}",
            f"--seed={self.seed}",
            "--zendesk-export-limit=0",  # the floor is what the API serves, not its pacing
            "--zendesk-limit=0",
        ]

    @property
    def ca_file(self) -> Path:
        return self.workdir / "sandbox-ca.pem"

    @property
    def jwt_key_file(self) -> Path:
        return self.workdir / "jwt-private-key.pem"

    def start(self, timeout_s: float = 600.0) -> SandboxProcess:
        """Start it and wait for the line that names its port (generation takes a while)."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "COLUMNS": "250", "PYTHONUNBUFFERED": "1"}
        with self._log.open("wb") as log:
            self._proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            text = self._log.read_text(encoding="utf-8", errors="replace")
            found = _LISTENING.search(text)
            if found:
                self.port = int(found.group(1))
                return self
            if self._proc.poll() is not None:
                raise RuntimeError(f"the sandbox exited {self._proc.returncode}:\n{text[-4000:]}")
            time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"the sandbox did not start within {timeout_s:.0f}s")

    def stop(self) -> None:
        """SIGTERM (the command's clean stop), then SIGKILL if it lingers."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)

    def __enter__(self) -> SandboxProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the admin endpoints ---------------------------------------------------------------
    def _admin(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        url = f"https://localhost:{self.port}/__sandbox/{path}"
        response = requests.request(method, url, verify=str(self.ca_file), timeout=120, **kwargs)
        response.raise_for_status()
        return response

    def calls(self, api: str) -> list[dict[str, Any]]:
        """The call log of one API (``salesforce`` or ``zendesk``), oldest first."""
        body = self._admin("GET", "calls", params={"api": api}).json()
        assert isinstance(body, list)
        return body

    def clear_calls(self) -> None:
        """Empty the call log, so the next phase counts only its own calls."""
        self._admin("DELETE", "calls")
