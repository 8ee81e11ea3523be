"""`cs-connector evaluate` as an admin runs it: which accounts it covered, and `--full`."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from sandbox_config import write_config

CLI = [sys.executable, "-m", "connector"]


def run(config: Any, env: dict[str, str], *args: str) -> dict[str, Any]:
    out = subprocess.run(
        [*CLI, *args, "--config", str(config), "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def test_evaluate_says_which_accounts_it_covered_and_full_covers_every_customer(
    tmp_path, sandbox
) -> None:
    config, env = write_config(tmp_path, sandbox, f"sqlite:///{tmp_path / 'store.db'}")
    assert run(config, env, "pull")["status"] == "completed"
    as_of = sandbox.state.demo.anchor.isoformat()

    first = run(config, env, "evaluate", "--as-of", as_of)
    # Rows pulled in the second before an evaluation began are looked at again by the next
    # one (``evaluation_scope.CLOCK_SKEW``): the third is the first with nothing to look at.
    run(config, env, "evaluate", "--as-of", as_of)
    again = run(config, env, "evaluate", "--as-of", as_of)
    full = run(config, env, "evaluate", "--as-of", as_of, "--full")

    assert (first["scope"], first["accounts"]) == ("no earlier evaluation", None)
    assert again["accounts"] == 0 and again["scope"].startswith("0 accounts changed since")
    assert again["outputs"] == first["outputs"] == full["outputs"]
    assert (full["scope"], full["accounts"]) == ("asked for (--full)", None)
