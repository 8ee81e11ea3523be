"""Benchmark the pull against the physical floor: ``python -m connector.bench.pull --scale M``.

One run starts the sandbox in a process of its own (export rate limits off), then measures
three child processes against it, clearing the sandbox's call log between them:

1. the bare pager (``connector.bench.pager``): the same queries and page sizes, no store;
2. ``python -m connector pull --json`` into a fresh SQLite store: a first load;
3. the same command again: an idle cycle, which should read nothing and write nothing.

Calls are counted from the sandbox's call log, per stream and against the floor (the fewest
calls that can read the rows); wall time from the parent; CPU from each child's rusage and
peak RSS from its own VmHWM (``connector.bench.probe``). Writes
``<out>/bench-pull-<scale>.json`` and prints a markdown table; ``--profile`` adds a py-spy
recording of one more first load and a summary of where its time went.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connector.bench import pull_report as report
from connector.bench.children import ChildRun, SandboxProcess, run_measured
from connector.bench.pull_calls import Attributed, attribute
from connector.bench.pull_plan import Target, pager_plan, write_config, write_plan
from connector.bench.pull_profile import markdown as profile_markdown
from connector.bench.pull_profile import py_spy, record, summarize
from connector.sandbox.state import SandboxConfig

PULL = ["pull", "--json", "--config"]


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Measured:
    """One run of a phase: the child, what it printed (JSON), the calls it made."""

    run: ChildRun
    out: dict[str, Any]
    calls: Attributed

    def phase(self, walls: list[float]) -> dict[str, Any]:
        r = self.run
        return {
            "wall_s": r.wall_s,
            "walls_s": walls,
            "peak_rss_mb": r.peak_rss_mb,
            "cpu_s": r.cpu_s,
        }


class Phases:
    """Runs the children against one sandbox, reading and clearing its call log after each."""

    def __init__(self, sandbox: SandboxProcess, plan: dict[str, Any], workdir: Path) -> None:
        self.sandbox, self.workdir = sandbox, workdir
        self.objects = {s["object"]: s["stream"] for s in plan["salesforce"]["streams"]}
        self.endpoints = {s["endpoint"]: s["stream"] for s in plan["zendesk"]["streams"]}

    def run(self, module: str, args: list[str], name: str, env: Any = None) -> Measured:
        run = run_measured(module, args, self.workdir, env=env, name=name)
        log = self.sandbox.calls("salesforce") + self.sandbox.calls("zendesk")
        self.sandbox.clear_calls()
        return Measured(run, json.loads(run.stdout), attribute(log, self.objects, self.endpoints))


def _fastest(runs: list[Measured]) -> tuple[Measured, list[float]]:
    return min(runs, key=lambda m: m.run.wall_s), [m.run.wall_s for m in runs]


def measure(scale: str, workdir: Path, *, repeat: int = 1, profile: bool = False) -> dict[str, Any]:
    """Every phase against one sandbox process; the result as JSON-able data.

    ``repeat``: the bare pager and the first load run that many times, interleaved (each load
    into a fresh store), and the fastest of each counts. ``profile``: then one more first load
    under py-spy (not timed).
    """
    host = report.machine()  # before anything of ours runs: its load is other people's
    _say(f"starting the scale {scale} sandbox (the first start of the day generates the org)")
    with SandboxProcess(scale, workdir / "sandbox") as sandbox:
        target = Target(sandbox.port, sandbox.ca_file, sandbox.jwt_key_file, SandboxConfig())
        config = workdir / "config.toml"
        env = write_config(target, workdir / "store.db", config)
        plan = pager_plan(target, config, env)
        plan_file = str(write_plan(plan, workdir / "pager-plan.json"))
        sandbox.clear_calls()
        phases = Phases(sandbox, plan, workdir)
        bares, firsts = [], []
        for i in range(repeat):
            _say(f"bare pager ({i + 1}/{repeat})")
            bares.append(phases.run("connector.bench.pager", [plan_file], f"bare-{i}"))
            _say(f"connector pull, first load into a fresh SQLite store ({i + 1}/{repeat})")
            env = write_config(target, workdir / f"store-{i}.db", config)
            firsts.append(phases.run("connector", [*PULL, str(config)], f"first-{i}", env))
        _say("connector pull again: the idle cycle")
        idle = phases.run("connector", [*PULL, str(config)], "idle", env)
        profiled = None
        if profile:
            _say("connector pull, first load again under py-spy (not timed)")
            env = write_config(target, workdir / "profiled.db", config)
            argv = [sys.executable, "-m", "connector", *PULL, str(config)]
            profiled = summarize(record(argv, workdir / "profile.raw", env=env))

    (bare, bare_walls), (first, first_walls) = _fastest(bares), _fastest(firsts)
    result_phases = {
        "bare": {**bare.phase(bare_walls), "reported": bare.out},
        "connector": {**first.phase(first_walls), "status": first.out["status"]},
        "idle": {**idle.phase([idle.run.wall_s]), "status": idle.out["status"]},
    }
    rows = report.stream_rows(first.out, first.calls, bare.out)
    idle_rows = report.idle_rows(idle.out, idle.calls)
    calls = {"bare": bare.calls, "connector": first.calls, "idle": idle.calls}
    return {
        "scale": scale,
        "command": f"python -m connector.bench.pull --scale {scale}"
        + (f" --repeat {repeat}" if repeat > 1 else "")
        + (" --profile" if profile else ""),
        "machine": {**host, "load_1m_after": round(os.getloadavg()[0], 2)},
        "phases": result_phases,
        "streams": rows,
        "idle_streams": idle_rows,
        "summary": report.summary(result_phases, rows, idle_rows, calls),
        **({"profile": profiled} if profiled else {}),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Parse the options, run, write the JSON, print the markdown."""
    parser = argparse.ArgumentParser(
        prog="python -m connector.bench.pull",
        description="Benchmark the pull at a sandbox scale against a bare pager and the floor.",
    )
    parser.add_argument("--scale", default="M", type=str.upper, choices=["S", "M", "L"])
    parser.add_argument("--out", type=Path, default=Path(".cs-connector/bench"))
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="Run the bare pager and the first load this many times; the fastest counts.",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="Also profile one first load with py-spy (on PATH) and report where time goes.",
    )
    args = parser.parse_args(argv)
    if args.profile and py_spy() is None:
        parser.error("--profile needs py-spy on PATH (pip install py-spy)")
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / f"bench-pull-{args.scale}"
    with tempfile.TemporaryDirectory(prefix="cs-bench-") as tmp:
        result = measure(args.scale, Path(tmp), repeat=max(1, args.repeat), profile=args.profile)
        if args.profile:
            shutil.copyfile(Path(tmp) / "profile.raw", stem.with_suffix(".profile.raw"))
    stem.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(report.markdown(result))
    if "profile" in result:
        print("\n" + profile_markdown(result["profile"]))
    _say(f"wrote {stem.with_suffix('.json')}")
    return result


if __name__ == "__main__":
    main()
