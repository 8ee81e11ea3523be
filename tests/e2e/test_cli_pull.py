"""`cs-connector pull` as an admin runs it: a config file, secrets in the environment."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sandbox_config import write_config
from sqlalchemy import select, text

from connector.bootstrap import bootstrap
from connector.demo import default_mappings_dir, sandbox_settings
from connector.pull import pull
from connector.store import make_engine, mirror

CLI = [sys.executable, "-m", "connector"]


def snapshot(store_url: str, specs: list[Any]) -> dict[str, set[tuple[Any, ...]]]:
    """Every mirror row as a comparable tuple (pulled_at left out: it is when, not what)."""
    engine = make_engine(store_url)
    out: dict[str, set[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for spec in specs:
            table = mirror.table(spec)
            cols = [c for c in table.c if c.name != "pulled_at"]
            out[spec.name] = {tuple(map(repr, row)) for row in conn.execute(select(*cols))}
    engine.dispose()
    return out


def test_a_broken_mapping_is_one_line_exit_2_and_nothing_pulled(tmp_path, sandbox) -> None:
    mappings = tmp_path / "mappings"
    shutil.copytree(default_mappings_dir(), mappings)
    contact = mappings / "salesforce" / "contact.toml"
    contact.write_text(contact.read_text().replace("Title =", "Titel ="))
    store = tmp_path / "store.db"
    config, env = write_config(tmp_path, sandbox, f"sqlite:///{store}", mappings=mappings)

    out = subprocess.run(
        [*CLI, "pull", "--config", str(config)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )

    assert out.returncode == 2
    assert out.stderr.strip() == (
        "mappings/salesforce/contact.toml:fields.Titel: no field "
        "'Titel' on Contact (did you mean 'Title'?)"
    )
    assert "Traceback" not in out.stderr
    assert not any("/query" in c.path for c in sandbox.calls.calls("salesforce"))
    assert not store.exists()


def test_a_missing_secret_names_its_environment_variable(tmp_path, sandbox) -> None:
    config, env = write_config(tmp_path, sandbox, f"sqlite:///{tmp_path / 's.db'}")
    env.pop("CS_ZENDESK__API_TOKEN")
    out = subprocess.run(
        [*CLI, "pull", "--config", str(config)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert out.returncode == 2
    assert "zendesk.api_token" in out.stderr and "CS_ZENDESK__API_TOKEN" in out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.slow
def test_a_pull_killed_between_pages_resumes_to_the_same_store(tmp_path, sandbox) -> None:
    """SIGKILL mid-pull, pull again: the store equals one from a pull never interrupted."""
    sandbox.faults.update(slow_s=0.1)  # pages slow enough to land a kill among them
    killed_url = f"sqlite:///{tmp_path / 'killed.db'}"
    config, env = write_config(tmp_path, sandbox, killed_url, page_size=200)
    proc = subprocess.Popen(
        [*CLI, "pull", "--config", str(config), "--json"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        _wait_for_a_sweep_under_way(tmp_path / "killed.db", proc=proc)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    sandbox.faults.clear()
    resumed = subprocess.run(
        [*CLI, "pull", "--config", str(config), "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr

    clean_url = f"sqlite:///{tmp_path / 'clean.db'}"
    deps = bootstrap(sandbox_settings(sandbox, clean_url))
    assert pull(deps.engine, deps.sources, deps.specs, clock=deps.clock).status == "completed"
    deps.engine.dispose()
    assert snapshot(killed_url, deps.specs) == snapshot(clean_url, deps.specs)


def _wait_for_a_sweep_under_way(db: Path, *, proc: subprocess.Popen[Any]) -> None:
    """Until a stream has committed a page but not its last one (a kill lands between pages)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the pull finished before it could be killed"
        if db.exists():
            engine = make_engine(f"sqlite:///{db}")
            try:
                with engine.connect() as conn:
                    n = conn.execute(
                        text("SELECT count(*) FROM sync_state WHERE state LIKE '%\"from\"%'")
                    ).scalar_one()
            except Exception:  # tables not created yet
                n = 0
            finally:
                engine.dispose()
            if n >= 1:
                return
        time.sleep(0.01)
    raise AssertionError("no sweep was seen under way")
