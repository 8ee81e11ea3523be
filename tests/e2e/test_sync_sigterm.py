"""SIGTERM during a push: the batch in flight finishes and is recorded, then the process stops.

What the CRM holds afterwards is exactly what the ledger says was written (no half-written
batch), and the next cycle completes the rest without a duplicate.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

from sandbox_config import write_config
from sqlalchemy import select

from connector.bootstrap import bootstrap
from connector.demo import sandbox_settings
from connector.store.schema import ledger
from connector.sync import run_cycle

CLI = [sys.executable, "-m", "connector"]
KEYED = {
    "CS_CTA__c": "Sync_Key__c",
    "Task": "CS_Sync_Key__c",
    "CS_Health_Snapshot__c": "Sync_Key__c",
}


def crm_keys(sandbox) -> dict[str, str]:
    sf = sandbox.emulators["salesforce"]
    out = {}
    for sobject, field in KEYED.items():
        for r in sf.all_records(sobject):
            if r.get(field) and not r["IsDeleted"]:
                out[r[field]] = r["Id"]
    return out


def test_sigterm_mid_push_leaves_no_half_written_batch(sandbox, tmp_path, monkeypatch):
    monkeypatch.setattr(sandbox.config, "zendesk_incremental_per_min", 0)
    before = {
        r[f]: r["Id"]
        for s, f in KEYED.items()
        for r in sandbox.emulators["salesforce"].all_records(s)
        if r.get(f)
    }
    store = f"sqlite:///{tmp_path / 'store.db'}"
    config, env = write_config(tmp_path, sandbox, store)
    sandbox.faults.update(slow_s=0.4, targets=["salesforce"])
    proc = subprocess.Popen(
        [*CLI, "sync", "--once", "--json", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if any("composite/sobjects" in c.path for c in sandbox.calls.writes("salesforce")):
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    sandbox.faults.update(slow_s=0.0)

    assert proc.returncode == 0, err[-2000:]
    assert json.loads(out)["status"] == "stopped"
    deps = bootstrap(sandbox_settings(sandbox, store))
    with deps.engine.connect() as conn:
        recorded = {
            r.external_id: r.crm_id
            for r in conn.execute(select(ledger.c.external_id, ledger.c.crm_id))
            if r.crm_id
        }
    written = {k: v for k, v in crm_keys(sandbox).items() if before.get(k) != v}
    assert written and all(recorded.get(k) == v for k, v in written.items())
    report = run_cycle(deps, as_of=None)
    assert report.status == "completed"
    keys = [
        r[f]
        for s, f in KEYED.items()
        for r in sandbox.emulators["salesforce"].all_records(s)
        if r.get(f) and not r["IsDeleted"]
    ]
    assert len(keys) == len(set(keys))
    deps.engine.dispose()
