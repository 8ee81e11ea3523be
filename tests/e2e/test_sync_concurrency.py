"""Two workers at once: each output is written exactly once.

On one store, the store lock lets one cycle run and the other skip. With two stores (two
installs pointed at one org by mistake), upserts by External Id still leave one record per key.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from sandbox_config import write_config

from connector.bootstrap import bootstrap
from connector.demo import sandbox_settings
from connector.sync import run_cycle

CLI = [sys.executable, "-m", "connector"]
KEYED = {
    "CS_CTA__c": "Sync_Key__c",
    "Task": "CS_Sync_Key__c",
    "CS_Health_Snapshot__c": "Sync_Key__c",
    "CS_Milestone__c": "Sync_Key__c",
}


def duplicates(sandbox) -> dict[str, int]:
    sf = sandbox.emulators["salesforce"]
    keys = Counter(
        r[f] for s, f in KEYED.items() for r in sf.all_records(s) if r.get(f) and not r["IsDeleted"]
    )
    tickets = Counter(
        t["external_id"]
        for t in sandbox.emulators["zendesk"].store.tickets.by_id.values()
        if t.get("external_id") and t["status"] != "deleted"
    )
    twice = {k: n for k, n in keys.items() if n > 1}
    twice.update({f"ticket {k}": n for k, n in tickets.items() if n > 1})
    return twice


@pytest.fixture(autouse=True)
def no_export_limit(sandbox, monkeypatch):
    monkeypatch.setattr(sandbox.config, "zendesk_incremental_per_min", 0)


def test_two_sync_processes_on_one_postgresql_store_run_one_cycle(sandbox, tmp_path, store_url):
    if not store_url.startswith("postgresql"):
        pytest.skip("the concurrent-workers case is PostgreSQL's (issue 9)")
    config, env = write_config(tmp_path, sandbox, store_url)
    bootstrap(sandbox_settings(sandbox, store_url)).engine.dispose()  # migrate once first
    procs = [
        subprocess.Popen(
            [*CLI, "sync", "--once", "--json", "--config", str(config)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=tmp_path,
        )
        for _ in range(2)
    ]
    results = [json.loads(p.communicate(timeout=300)[0]) for p in procs]

    assert sorted(r["status"] for r in results) == ["completed", "skipped"]
    assert duplicates(sandbox) == {}


def test_two_installs_with_their_own_stores_still_write_each_key_once(sandbox, tmp_path):
    stores = [f"sqlite:///{tmp_path / f'{n}.db'}" for n in ("a", "b")]
    workers = [bootstrap(sandbox_settings(sandbox, url)) for url in stores]
    anchor = sandbox.state.demo.anchor.isoformat()
    with ThreadPoolExecutor(2) as pool:
        reports = list(pool.map(lambda d: run_cycle(d, as_of=anchor), workers))

    assert [r.status for r in reports] == ["completed", "completed"]
    # Zendesk has no upsert: two stores that do not share a ledger can each create a ticket,
    # which is why one install runs one store; Salesforce upserts keep one record per key.
    assert {k for k in duplicates(sandbox) if not k.startswith("ticket ")} == set()
    for d in workers:
        d.engine.dispose()
