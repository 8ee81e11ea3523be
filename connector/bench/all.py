"""Every benchmark in one run: ``python -m connector.bench.all --scale S|M|L [--out DIR]``.

Runs, one after another, each in a child process of its own (each starts its own sandbox):

1. ``connector.bench.pull``: the pull against a bare pager and the floor, then the idle cycle;
2. ``connector.bench.evaluate``: the rules, a first cycle and the next, into a store it pulls;
3. ``connector.bench.push``: both write paths to settled, then an idle ``sync --once``, on the
   store step 2 pulled (same scale, seed and anchor: one pull fewer, which at L is ~13 min);
4. at scale S, ``connector.bench.zendesk_limit``: the initial Zendesk load with the documented
   10 export requests a minute on, against its lower bound.

Each writes its ``bench-<stage>-<scale>.json`` into ``--out``; this collects them into
``bench-<scale>.json`` with issue 8's goals judged (``connector.bench.all_report``), draws
``bench-time-vs-scale.png`` from every scale's JSON in ``--out`` (``connector.bench.chart``;
skipped with a message when matplotlib is missing) and prints the goals table. ``--quick``
(the smoke test's) measures the Zendesk limit over fewer pages without waiting for a clock
minute: about one minute instead of two to three.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from connector.bench import all_report, zendesk_limit
from connector.bench.chart import write_chart
from connector.bench.evaluate import _tree, prepare_store
from connector.bench.pull_report import machine

DEFAULT_OUT = Path(".cs-connector/bench")


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _stage(module: str, args: list[str]) -> float:
    """``python -m module args`` to its end; its tables go to stderr with the progress."""
    argv = [sys.executable, "-m", module, *args]
    _say(f"\n== {' '.join(['python', '-m', module, *args])}")
    started = time.perf_counter()
    done = subprocess.run(argv, stdout=subprocess.PIPE, text=True)
    if done.stdout:
        _say(done.stdout.rstrip())
    if done.returncode != 0:
        raise RuntimeError(f"{module} exited {done.returncode} (its stderr is above)")
    return round(time.perf_counter() - started, 1)


def _read(out: Path, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / name).read_text(encoding="utf-8"))
    return data


def run_all(
    scale: str,
    out: Path = DEFAULT_OUT,
    *,
    repeat: int = 1,
    quick: bool = False,
    zendesk: bool | None = None,
) -> dict[str, Any]:
    """Run the stages at ``scale``, write ``bench-<scale>.json`` and the chart into ``out``.

    ``repeat``: the pull benchmark's ``--repeat``. ``quick``: the Zendesk-limit stage over
    ``zendesk_limit.QUICK_PAGES`` pages, not aligned to a clock minute. ``zendesk``: run that
    stage (default: at scale S only; at M and L it would take 27 and ~110 minutes of pacing).
    Returns what ``bench-<scale>.json`` holds.
    """
    scale = scale.upper()
    if scale not in ("S", "M", "L"):
        raise ValueError(f"scale: S, M or L, not {scale!r}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    o = str(out)
    host = machine()
    started = time.perf_counter()
    walls: dict[str, float] = {}
    walls["pull"] = _stage(
        "connector.bench.pull",
        ["--scale", scale, "--out", o, *(["--repeat", str(repeat)] if repeat > 1 else [])],
    )
    with tempfile.TemporaryDirectory(prefix="cs-bench-all-") as tmp:
        store = str(Path(tmp) / f"store-{scale}.db")
        walls["evaluate"] = _stage(
            "connector.bench.evaluate", ["--scale", scale, "--out", o, "--store", store]
        )
        prepare_store(Path(store))  # forget the evaluations: the push starts from the pull
        walls["push"] = _stage(
            "connector.bench.push", ["--scale", scale, "--out", o, "--store", store]
        )
    if zendesk is None:
        zendesk = scale == "S"
    if zendesk:
        pages = zendesk_limit.QUICK_PAGES if quick else zendesk_limit.PAGES
        walls["zendesk_limit"] = _stage(
            "connector.bench.zendesk_limit",
            [
                "--scale",
                scale,
                "--out",
                o,
                "--pages",
                str(pages),
                *(["--no-align"] if quick else []),
            ],
        )
    pull = _read(out, f"bench-pull-{scale}.json")
    evaluate = _read(out, f"bench-evaluate-{scale}.json")
    push = _read(out, f"bench-push-{scale}.json")
    zd = _read(out, f"bench-zendesk-limit-{scale}.json") if "zendesk_limit" in walls else None
    chart, chart_note = write_chart(out, title=f"cs-connector benchmark, {host['date']}")
    _say(chart_note)
    result: dict[str, Any] = {
        "scale": scale,
        "command": f"python -m connector.bench.all --scale {scale}"
        + (f" --repeat {repeat}" if repeat > 1 else "")
        + (" --quick" if quick else ""),
        "machine": {**host, "load_1m_after": round(os.getloadavg()[0], 2)},
        "tree": _tree(),
        "wall_s": round(time.perf_counter() - started, 1),
        "stage_wall_s": walls,
        "goals": all_report.goals(scale, pull, evaluate, push, zd),
        "chart": str(chart) if chart else None,
        "chart_note": chart_note,
        "pull": pull,
        "evaluate": evaluate,
        "push": push,
        "zendesk_limit": zd,
    }
    path = out / f"bench-{scale}.json"
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    _say(f"wrote {path}")
    return result


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Parse the options, run every stage, print the goals table."""
    parser = argparse.ArgumentParser(
        prog="python -m connector.bench.all",
        description="Pull, evaluate, push (and at S the Zendesk limit) benchmarks in one run.",
    )
    parser.add_argument("--scale", default="S", type=str.upper, choices=["S", "M", "L"])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--repeat", type=int, default=1, help="The pull benchmark's --repeat.")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="Measure the Zendesk limit over fewer pages, without waiting for a clock minute.",
    )
    args = parser.parse_args(argv)
    result = run_all(args.scale, args.out, repeat=max(1, args.repeat), quick=args.quick)
    print(all_report.markdown(result))
    return result


if __name__ == "__main__":
    main()
