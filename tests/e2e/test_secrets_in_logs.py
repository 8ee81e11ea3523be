"""A full cycle's debug log, text and JSON, holds none of the secrets or tokens in play."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sandbox_config import write_config

CLI = [sys.executable, "-m", "connector"]


def secrets_in_play(sandbox) -> dict[str, str]:
    creds = sandbox.config.credentials
    key = Path(sandbox.jwt_private_key_path).read_text().splitlines()
    tokens = list(sandbox.emulators["salesforce"].auth._sessions)
    found = {
        "zendesk api token": creds.zd_api_token,
        "salesforce password": creds.sf_password,
        "private key line": key[len(key) // 2],
    }
    found.update({f"salesforce access token {i}": t for i, t in enumerate(tokens)})
    return found


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_full_cycles_debug_log_holds_no_secret(sandbox, tmp_path, fmt):
    config, env = write_config(tmp_path, sandbox, f"sqlite:///{tmp_path / 'store.db'}")
    env["CS_SALESFORCE__PASSWORD"] = sandbox.config.credentials.sf_password  # in play, unused
    out = subprocess.run(
        [
            *CLI,
            "--log-level",
            "debug",
            "--log-format",
            fmt,
            "sync",
            "--once",
            "--config",
            str(config),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    log = out.stderr
    assert len(log.splitlines()) > 50  # debug level really logged the cycle (urllib3, ...)
    if fmt == "json":
        assert all(json.loads(line)["level"] for line in log.splitlines() if line.strip())
    secrets = secrets_in_play(sandbox)
    assert any(k.startswith("salesforce access token") for k in secrets)
    leaked = [name for name, value in secrets.items() if value and value in log + out.stdout]
    assert leaked == []
