"""`cs-connector status`: the run history of a store, for people and (``--json``) for scripts."""

from __future__ import annotations

import json
import subprocess
import sys

from connector.bootstrap import bootstrap
from connector.demo import sandbox_settings
from connector.sync import run_cycle

CLI = [sys.executable, "-m", "connector"]


def test_status_after_a_cycle_lists_the_run_with_its_api_calls_and_an_empty_outbox(
    sandbox, tmp_path
):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    deps = bootstrap(sandbox_settings(sandbox, url))
    report = run_cycle(deps, job="cycle", as_of=sandbox.state.demo.anchor.isoformat())
    deps.engine.dispose()

    out = subprocess.run(
        [*CLI, "status", "--store", url, "--json"], capture_output=True, text=True, timeout=60
    )

    assert out.returncode == 0, out.stderr
    jobs = {j["job"]: j["runs"] for j in json.loads(out.stdout)["jobs"]}
    run = jobs["cycle"][0]
    assert (run["id"], run["status"]) == (report.run_id, "completed")
    assert run["api_calls"] == report.salesforce_calls + report.zendesk_calls > 0
    assert run["summary"]["objects"]["cta"]["created"] > 0
    assert "cycle:pull" in jobs
