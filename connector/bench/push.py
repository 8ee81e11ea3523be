"""Benchmark the push: ``python -m connector.bench.push --scale M``.

One run starts the sandbox at the scale (export limits off, a fixed anchor), pulls the org
into SQLite once (or reuses the evaluate benchmark's ``--store``), then for each write path,
on a fresh copy of the store and a reset sandbox, runs ``cs-connector sync --once`` in child
processes until a cycle has nothing left to write, then one more idle cycle:

- ``collections``: sObject Collections only (``push.bulk_threshold`` above any plan);
- ``bulk``: the default threshold, so big objects go as Bulk API 2.0 ingest jobs.

Write calls are counted from the sandbox's call log; the floor is the sum over objects of
``ceil(n / 200)`` for Salesforce and ``ceil(n / 100)`` plus the polls (100 jobs a poll) for Zendesk,
with ``n`` the records each object got in that cycle (summed over the cycles). Writes
``<out>/bench-push-<scale>.json`` and prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connector.bench.children import SandboxProcess, run_measured
from connector.bench.evaluate import _pull, reusable, write_config
from connector.bench.evaluate_report import machine
from connector.bench.evaluate_sandbox import AnchoredSandbox

MODES = {"collections": 1_000_000_000, "bulk": 10_000}
MAX_CYCLES = 6


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def floor_calls(written: dict[str, int]) -> dict[str, int]:
    """The fewest write calls the records could take: 200 a call; Zendesk 100 a job, plus one
    ``job_statuses/show_many`` poll per 100 jobs."""
    salesforce = sum(math.ceil(n / 200) for t, n in written.items() if t != "zendesk_task")
    tickets = written.get("zendesk_task", 0)
    jobs = math.ceil(tickets / 100)
    zendesk = jobs + math.ceil(jobs / 100)  # a show_many poll covers 100 jobs
    return {"salesforce": salesforce, "zendesk": zendesk}


def _written(summary: dict[str, Any]) -> dict[str, int]:
    out: dict[str, int] = {}
    for target, row in summary["objects"].items():
        n = sum(row.get(k, 0) for k in ("created", "updated", "closed"))
        if n:
            out[target] = n
    return out


def _cycle(
    sandbox: SandboxProcess,
    config: Path,
    env: dict[str, str],
    anchor: str,
    workdir: Path,
    name: str,
) -> dict[str, Any]:
    sandbox.clear_calls()
    load = os.getloadavg()[0]
    run = run_measured(
        "connector",
        ["sync", "--once", "--json", "--as-of", anchor, "--job", "bench", "--config", str(config)],
        workdir,
        env=env,
        name=name,
    )
    summary: dict[str, Any] = json.loads(run.stdout)
    calls = {api: sandbox.calls(api) for api in ("salesforce", "zendesk")}
    writes = {api: [c for c in cs if _is_write(c)] for api, cs in calls.items()}
    return {
        "status": summary["status"],
        "wall_s": run.wall_s,
        "cpu_s": run.cpu_s,
        "peak_rss_mb": run.peak_rss_mb,
        "load_avg_1m_before": round(load, 2),
        "timings": summary.get("timings", {}),
        "written": _written(summary),
        "planned": sum(
            row.get("planned_create", 0)
            + row.get("planned_update", 0)
            + row.get("planned_close", 0)
            for row in summary["objects"].values()
        ),
        "waiting_on_jobs": summary.get("waiting_on_jobs", 0),
        "write_calls": {api: len(ws) for api, ws in writes.items()},
        "poll_calls": {api: sum(1 for c in cs if _is_poll(c)) for api, cs in calls.items()},
        "read_calls": {api: len(cs) - len(writes[api]) for api, cs in calls.items()},
    }


def _is_write(call: dict[str, Any]) -> bool:
    return (
        call["method"] in ("POST", "PATCH", "PUT", "DELETE")
        and not call["path"].endswith(("/oauth2/token", "/services/Soap/u/62.0"))
        and "/query" not in call["path"]
        and "jobs/query" not in call["path"]
    )


def _is_poll(call: dict[str, Any]) -> bool:
    return call["method"] == "GET" and (
        "job_statuses" in call["path"] or "jobs/ingest" in call["path"]
    )


def run_mode(
    mode: str,
    sandbox: SandboxProcess,
    store: Path,
    anchor: str,
    workdir: Path,
) -> dict[str, Any]:
    """Every cycle until nothing is left to write, then one idle cycle, on a fresh org/store."""
    _say(f"{mode}: resetting the sandbox and copying the pulled store")
    sandbox._admin("POST", "/reset")
    db = workdir / f"{mode}.db"
    for suffix in ("", "-wal", "-shm"):
        src = Path(f"{store}{suffix}")
        if src.exists():
            shutil.copyfile(src, f"{db}{suffix}")
    config = workdir / f"{mode}.toml"
    env = write_config(sandbox, db, config)
    with config.open("a", encoding="utf-8") as f:
        f.write(f"[push]\nbulk_threshold = {MODES[mode]}\n")
    cycles = []
    for i in range(MAX_CYCLES):
        _say(f"{mode}: cycle {i + 1}")
        cycles.append(_cycle(sandbox, config, env, anchor, workdir, f"{mode}-{i + 1}"))
        if cycles[-1]["planned"] == 0 and cycles[-1]["waiting_on_jobs"] == 0 and i > 0:
            break
    _say(f"{mode}: idle cycle")
    idle = _cycle(sandbox, config, env, anchor, workdir, f"{mode}-idle")
    written: dict[str, int] = {}
    for c in cycles:
        for t, n in c["written"].items():
            written[t] = written.get(t, 0) + n
    calls = {
        api: sum(c["write_calls"][api] + c["poll_calls"][api] for c in cycles)
        for api in ("salesforce", "zendesk")
    }
    floor = {"salesforce": 0, "zendesk": 0}
    for c in cycles:  # each cycle's floor for what that cycle had to write
        for api, n in floor_calls(c["written"]).items():
            floor[api] += n
    push_s = sum(c["timings"].get("push", 0.0) for c in cycles)
    records = sum(written.values())
    return {
        "mode": mode,
        "bulk_threshold": MODES[mode],
        "cycles": cycles,
        "idle": idle,
        "written": written,
        "records": records,
        "calls": calls,
        "floor": floor,
        "ratio": {api: round(calls[api] / floor[api], 3) if floor[api] else None for api in floor},
        "push_s": round(push_s, 2),
        "records_per_s": round(records / push_s, 1) if push_s else None,
        "cycles_to_settle": len(cycles),
        "idle_write_calls": sum(idle["write_calls"].values()),
        "cpu_s": round(sum(c["cpu_s"] for c in cycles), 2),
        "peak_rss_mb": max(c["peak_rss_mb"] for c in cycles),
    }


def measure(
    scale: str, seed: int, workdir: Path, store: Path, modes: tuple[str, ...] = tuple(MODES)
) -> dict[str, Any]:
    meta = reusable(store, scale, seed)
    reused = meta is not None
    if meta is None:
        anchor = datetime.now(UTC).replace(microsecond=0)
        meta = {"scale": scale, "seed": seed, "anchor": anchor.isoformat()}
    anchor_at = datetime.fromisoformat(meta["anchor"])
    _say(f"starting the scale {scale} sandbox at {anchor_at}")
    with AnchoredSandbox(scale, workdir / "sandbox", anchor_at, seed=seed) as sandbox:
        if not reused:
            config = workdir / "pull.toml"
            env = write_config(sandbox, store, config)
            meta = _pull(config, env, store, workdir, meta)
        results = {m: run_mode(m, sandbox, store, meta["anchor"], workdir) for m in modes}
    return {
        "scale": scale,
        "command": f"python -m connector.bench.push --scale {scale}",
        "machine": machine(),
        "anchor": meta["anchor"],
        "store": {"path": str(store), "reused": reused},
        "modes": results,
    }


def markdown(result: dict[str, Any]) -> str:
    lines = [
        f"### Push at scale {result['scale']} ({result['anchor']})",
        "",
        "| path | records written | write+poll calls SF / ZD | floor SF / ZD | ratio SF / ZD "
        "| cycles to settle | push s | CPU s (cycles) | records/s | idle write calls "
        "| peak RSS MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for m in result["modes"].values():
        lines.append(
            f"| {m['mode']} | {m['records']} "
            f"| {m['calls']['salesforce']} / {m['calls']['zendesk']} "
            f"| {m['floor']['salesforce']} / {m['floor']['zendesk']} "
            f"| {m['ratio']['salesforce']} / {m['ratio']['zendesk']} "
            f"| {m['cycles_to_settle']} | {m['push_s']} | {m.get('cpu_s')} | {m['records_per_s']} "
            f"| {m['idle_write_calls']} | {m.get('peak_rss_mb')} |"
        )
    lines.append("")
    for m in result["modes"].values():
        lines.append(f"{m['mode']}: written per object {m['written']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m connector.bench.push")
    parser.add_argument("--scale", default="S", choices=("S", "M", "L"))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=Path("bench-results"))
    parser.add_argument("--store", type=Path, help="A store pulled by an earlier benchmark run.")
    parser.add_argument(
        "--mode", choices=tuple(MODES), action="append", help="One write path (default: both)."
    )
    args = parser.parse_args(argv)
    modes = tuple(args.mode or MODES)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cs-bench-push-") as tmp:
        workdir = Path(tmp)
        store = args.store or workdir / "store.db"
        result = measure(args.scale, args.seed, workdir, store, modes)
    name = "" if modes == tuple(MODES) else "-" + "-".join(modes)
    out = args.out / f"bench-push-{args.scale}{name}.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(markdown(result))
    _say(f"wrote {out}")


if __name__ == "__main__":
    main()
