"""`python -m connector.bench.push`: the push benchmark runs end to end and writes its JSON.

A smoke test at scale S; no timing is asserted. What is asserted holds on any machine: both
write paths settle, and their idle cycle writes nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys

from connector.bench.push import floor_calls


def test_the_floor_is_200_records_a_salesforce_call_and_100_a_zendesk_job_plus_polls():
    assert floor_calls({"cta": 201, "task": 200, "zendesk_task": 101}) == {
        "salesforce": 3,
        "zendesk": 3,
    }


def test_the_benchmark_at_scale_s_writes_its_json_and_both_paths_idle_at_zero(tmp_path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "connector.bench.push", "--scale", "S", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert out.returncode == 0, out.stderr

    result = json.loads((tmp_path / "bench-push-S.json").read_text())
    assert set(result["modes"]) == {"collections", "bulk"}
    for mode in result["modes"].values():
        assert mode["records"] > 500
        assert mode["idle_write_calls"] == 0
        assert {"calls", "floor", "ratio", "records_per_s", "cycles"} <= mode.keys()
    assert "| collections |" in out.stdout
