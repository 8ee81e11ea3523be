"""Benchmark the rule evaluation: ``python -m connector.bench.evaluate --scale M``.

One run starts the sandbox at the scale in a process of its own (``evaluate_sandbox``: export
rate limits off, a fixed anchor), pulls the whole org into a fresh SQLite store with
``cs-connector pull`` (or reuses the store ``--store`` names, pulled by an earlier run at the
same scale), then measures ``evaluate`` in fresh child processes (``evaluate_child``):

1. ``first``: a first evaluation (no desired outputs, no persona state in the store);
2. ``again``: the next cycle on the same data, which replaces the outputs the first one stored.

Each child reports the wall time of ``evaluate`` alone, per-rule time and outputs, and its own
peak RSS; both are run at the anchor the org was generated around. ``--profile`` adds a third,
untimed run under pyinstrument. Writes ``<out>/bench-evaluate-<scale>.json`` and prints a
markdown report, with the L/M ratios when the other scale's JSON is in ``<out>`` too.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from connector.bench.children import ChildRun, SandboxProcess, run_measured
from connector.bench.evaluate_report import compare, machine, markdown
from connector.bench.evaluate_sandbox import AnchoredSandbox
from connector.demo import DEMO_OWNERS, default_mappings_dir
from connector.sandbox.state import SandboxConfig

TOKEN_ENV = "CS_ZENDESK__API_TOKEN"


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def write_config(sandbox: SandboxProcess, store: Path, path: Path) -> dict[str, str]:
    """The config an admin would write for the sandbox; returns the env holding the secret."""
    config = SandboxConfig()
    creds = config.credentials
    owners = "".join(f'{role} = "{email}"\n' for role, email in DEMO_OWNERS.items())
    path.write_text(
        f'mappings_dir = "{default_mappings_dir()}"\n'
        f'[store]\nurl = "sqlite:///{store}"\n'
        f'[salesforce]\nauth = "jwt"\nusername = "{creds.sf_username}"\n'
        f'consumer_key = "{creds.sf_consumer_key}"\n'
        f'private_key_file = "{sandbox.jwt_key_file}"\n'
        f'[zendesk]\nsubdomain = "{config.zendesk_subdomain}"\nemail = "{creds.zd_email}"\n'
        f'[transport]\nconnect_to = "127.0.0.1:{sandbox.port}"\n'
        f'connect_to_ca = "{sandbox.ca_file}"\n'
        f"[owners]\n{owners}",
        encoding="utf-8",
    )
    return {**os.environ, TOKEN_ENV: creds.zd_api_token}


INCREMENTAL_PHASES = (
    ("idle", 15, ("--incremental",)),
    ("changed", 30, ("--incremental", "--touch")),
)


def _meta_path(store: Path) -> Path:
    return store.with_name(store.name + ".bench.json")


def reusable(store: Path, scale: str, seed: int) -> dict[str, Any] | None:
    """What an earlier run recorded about ``store`` (its anchor), if it can be reused."""
    meta_file = _meta_path(store)
    if not store.exists():
        return None
    if not meta_file.exists():
        raise SystemExit(f"--store {store}: exists but was not pulled by this benchmark")
    meta: dict[str, Any] = json.loads(meta_file.read_text(encoding="utf-8"))
    if (meta["scale"], meta["seed"]) != (scale, seed):
        raise SystemExit(f"--store {store}: holds scale {meta['scale']} seed {meta['seed']}")
    return meta


def prepare_store(store: Path) -> tuple[dict[str, int], list[str]]:
    """Forget earlier evaluations, so each run is a first cycle on the pulled data.

    Returns the live rows of every mirror table and the mirror indexes the store holds (the
    connector adds the ones its mappings call for when it opens the store).
    """
    with sqlite3.connect(store) as db:
        db.execute("DELETE FROM desired_outputs")
        db.execute("DELETE FROM persona_state")
        if db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'evaluation_state'"
        ).fetchone():
            db.execute("DELETE FROM evaluation_state")
        tables = [
            r[0]
            for r in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'mirror_%'"
            )
        ]
        counts = {
            t.removeprefix("mirror_"): db.execute(
                f'SELECT count(*) FROM "{t}" WHERE NOT deleted'  # noqa: S608 - our table names
            ).fetchone()[0]
            for t in sorted(tables)
        }
    with sqlite3.connect(store) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return counts, _indexes(store)


def _indexes(store: Path) -> list[str]:
    with sqlite3.connect(store) as db:
        return [
            f"{table}({', '.join(c[2] for c in db.execute(f'PRAGMA index_info({name})'))})"
            for name, table in db.execute(
                "SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' "
                "AND tbl_name LIKE 'mirror_%' AND sql IS NOT NULL ORDER BY tbl_name, name"
            )
        ]


def _evaluate_child(
    config: Path,
    env: dict[str, str],
    as_of: str,
    workdir: Path,
    name: str,
    profile: Path | None = None,
    flags: Sequence[str] = (),
) -> tuple[ChildRun, dict[str, Any]]:
    out = workdir / f"{name}.json"
    args = [str(config), as_of, str(out), *([str(profile)] if profile else []), *flags]
    load = os.getloadavg()[0]
    run = run_measured("connector.bench.evaluate_child", args, workdir, env=env, name=name)
    measured: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    measured.update(
        child_wall_s=run.wall_s,
        child_cpu_s=run.cpu_s,
        child_peak_rss_mb=run.peak_rss_mb,
        load_avg_1m_before=round(load, 2),
    )
    return run, measured


def _pull(
    config: Path, env: dict[str, str], store: Path, workdir: Path, meta: dict[str, Any]
) -> dict[str, Any]:
    _say(f"pulling the scale {meta['scale']} org into {store} (L: several minutes)")
    run = run_measured(
        "connector", ["pull", "--json", "--config", str(config)], workdir, env=env, name="pull"
    )
    report = json.loads(run.stdout)
    if report["status"] != "completed":
        raise SystemExit(f"the pull ended {report['status']}: {run.stdout[-2000:]}")
    meta["pull"] = {
        "wall_s": run.wall_s,
        "peak_rss_mb": run.peak_rss_mb,
        "records": sum(s["records"] for s in report["streams"]),
    }
    _meta_path(store).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return meta


def measure(
    scale: str, seed: int, workdir: Path, store: Path, *, profile: Path | None
) -> dict[str, Any]:
    """Sandbox up, store pulled (or reused), then the measured evaluations."""
    meta = reusable(store, scale, seed)
    reused = meta is not None
    if meta is None:
        anchor = datetime.now(UTC).replace(microsecond=0)
        meta = {"scale": scale, "seed": seed, "anchor": anchor.isoformat()}
    anchor = datetime.fromisoformat(meta["anchor"])
    _say(f"starting the scale {scale} sandbox at {anchor} (the first start of a day generates)")
    with AnchoredSandbox(scale, workdir / "sandbox", anchor, seed=seed) as sandbox:
        config = workdir / "config.toml"
        env = write_config(sandbox, store, config)
        if not reused:
            meta = _pull(config, env, store, workdir, meta)
        counts, _ = prepare_store(store)
        phases: dict[str, Any] = {}
        for name in ("first", "again"):
            _say(f"evaluate ({name})")
            _, phases[name] = _evaluate_child(config, env, meta["anchor"], workdir, name)
        # The next cycles, as the scheduler runs them: 15 minutes on with nothing pulled, then
        # 15 more with a cycle's worth of rows pulled again (``evaluate_child.TOUCHED``).
        for name, minutes, flags in INCREMENTAL_PHASES:
            _say(f"evaluate ({name})")
            later = (anchor + timedelta(minutes=minutes)).isoformat()
            _, phases[name] = _evaluate_child(config, env, later, workdir, name, flags=flags)
        if profile is not None:
            _say("evaluate under pyinstrument (not timed)")
            prepare_store(store)
            _, profiled = _evaluate_child(config, env, meta["anchor"], workdir, "profiled", profile)
            phases["profiled"] = {
                "evaluate_s": profiled["evaluate_s"],
                "file": str(profile),
                "top": profiled["profile_top"],
            }
    return {
        "scale": scale,
        "command": f"python -m connector.bench.evaluate --scale {scale}",
        "machine": machine(),
        "tree": _tree(),
        "anchor": meta["anchor"],
        "store": {
            "path": str(store),
            "reused": reused,
            "bytes": store.stat().st_size,
            "pull": meta.get("pull"),
            "indexes": _indexes(store),  # as the evaluations saw them (bootstrap adds)
        },
        "rows": counts,
        "phases": phases,
    }


def _tree() -> str:
    """The commit measured, ``+dirty`` when the working tree had changes (rules move fast)."""
    try:
        found = subprocess.run(
            ["git", "describe", "--always", "--dirty=+dirty"],
            check=True,
            capture_output=True,
            text=True,
            cwd=Path(__file__).parent,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return found.stdout.strip()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Parse the options, run, write the JSON, print the markdown."""
    parser = argparse.ArgumentParser(
        prog="python -m connector.bench.evaluate",
        description="Benchmark evaluate (all rules, write=True) on SQLite at a sandbox scale.",
    )
    parser.add_argument("--scale", default="M", type=str.upper, choices=["S", "M", "L"])
    parser.add_argument("--out", type=Path, default=Path(".cs-connector/bench"))
    parser.add_argument("--store", type=Path, help="Keep the pulled store here; reuse it next run.")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--profile", action="store_true", help="Add a pyinstrument run.")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / f"bench-evaluate-{args.scale}"
    profile = stem.with_suffix(".profile.txt").resolve() if args.profile else None
    with tempfile.TemporaryDirectory(prefix="cs-bench-evaluate-") as tmp:
        store = (args.store or Path(tmp) / "store.db").resolve()
        store.parent.mkdir(parents=True, exist_ok=True)
        result = measure(args.scale, args.seed, Path(tmp), store, profile=profile)
    result["versus"] = compare(result, args.out)
    stem.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(markdown(result))
    _say(f"wrote {stem.with_suffix('.json')}")
    return result


if __name__ == "__main__":
    main()
