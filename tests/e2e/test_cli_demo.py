"""The README's first command and the foreground sandbox, run as a user runs them."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from connector.http.session import ConnectTo, TransportSettings, new_session

CLI = [sys.executable, "-m", "connector"]


def test_demo_pulls_every_stream_then_the_second_makes_one_call_per_stream(tmp_path: Path) -> None:
    out = subprocess.run(
        [*CLI, "demo", "--json"],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
        check=True,
    )
    result = json.loads(out.stdout)
    first = {s["stream"]: s for s in result["first"]["streams"]}
    assert result["first"]["status"] == "completed"
    assert first["account"]["records"] >= 40
    assert first["zendesk_ticket"]["records"] > 0
    assert all(s["status"] == "completed" for s in first.values())
    # The second pull reads back only the first cycle's own writes, one page per stream.
    assert result["second"]["api_calls"] == len(result["second"]["streams"])
    assert result["stories"] > 0
    assert (tmp_path / ".cs-connector" / "demo.db").exists()


def test_demo_pushes_the_outputs_once_and_its_second_cycle_writes_nothing(tmp_path: Path) -> None:
    out = subprocess.run(
        [*CLI, "demo", "--json"],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
        check=True,
    )
    result = json.loads(out.stdout)
    created = {t: row.get("created", 0) for t, row in result["first_cycle"]["objects"].items()}
    assert result["first_cycle"]["status"] == "completed"
    assert created["cta"] > 20 and created["health_snapshot"] > 50
    assert all(row.get("failed", 0) == 0 for row in result["first_cycle"]["objects"].values())
    assert result["second_cycle"]["write_calls"] == 0


def test_demo_prints_a_table_for_people(tmp_path: Path) -> None:
    out = subprocess.run(
        [*CLI, "demo"],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
        check=True,
        env={**os.environ, "COLUMNS": "160"},
    )
    assert "First pull into" in out.stdout
    assert "First cycle pushed back: completed" in out.stdout
    assert "Second cycle (the 15-minute job), nothing changed" in out.stdout
    assert ", 0 write calls" in out.stdout


def test_bad_scale_is_one_line_and_exit_2(tmp_path: Path) -> None:
    out = subprocess.run(
        [*CLI, "demo", "--scale", "XL"], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert "--scale" in out.stderr


def test_foreground_sandbox_serves_until_sigterm(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [*CLI, "sandbox", "--port", "0", "--workdir", str(tmp_path / "sb")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "COLUMNS": "200"},
    )
    try:
        port = _wait_for_port(proc)
        ca = tmp_path / "sb" / "sandbox-ca.pem"
        session = new_session(TransportSettings(connect_to=ConnectTo(("127.0.0.1", port), ca)))
        versions = session.get("https://login.salesforce.com/services/data/").json()
        assert any(v["version"] == "62.0" for v in versions)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0


def _wait_for_port(proc: subprocess.Popen[str]) -> int:
    deadline = time.monotonic() + 120
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        match = re.search(r"https://127\.0\.0\.1:(\d+)", line)
        if match:
            return int(match.group(1))
        if proc.poll() is not None:
            raise AssertionError(f"sandbox exited: {proc.stderr.read() if proc.stderr else ''}")
    raise AssertionError("sandbox did not print its port")


def test_sandbox_refuses_unknown_hosts_on_its_port(sandbox) -> None:
    r = requests.get(
        f"https://localhost:{sandbox.port}/services/data/", verify=str(sandbox.ca_path), timeout=10
    )
    assert r.status_code == 421
