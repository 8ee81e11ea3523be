"""The evaluate benchmark's numbers: goals, the L/M comparison and the markdown report.

Pure functions over the JSON ``connector.bench.evaluate`` writes, so the file and the printed
report say the same thing.
"""

from __future__ import annotations

import json
import os
import platform
import sqlite3
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

TIME_GOAL_S = 5.0  # evaluate at L on the 2-core bench machine
RSS_GOAL_MB = 300.0  # peak RSS of the evaluating process at L
SIZES = ("account", "contact", "opportunity", "task", "event", "zendesk_ticket", "usage_week")
SLOWEST = 10


def machine() -> dict[str, Any]:
    """What the numbers were measured on (the machine is shared: see each run's load)."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.partition(":")[2].strip()
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu or platform.processor() or "unknown",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a is not None and b else None


def goals(result: Mapping[str, Any]) -> dict[str, Any]:
    """The first evaluation against the goals (they are set for scale L), and a cycle's
    incremental evaluation (``changed``) against the same time goal."""
    first = result["phases"]["first"]
    changed = result["phases"].get("changed")
    return {
        "applies": result["scale"] == "L",
        "time_s": first["evaluate_s"],
        "time_ok": first["evaluate_s"] < TIME_GOAL_S,
        "peak_rss_mb": first["rss_mb"]["peak_vmhwm"],
        "rss_ok": first["rss_mb"]["peak_vmhwm"] <= RSS_GOAL_MB,
        "cycle_time_s": changed["evaluate_s"] if changed else None,
        "cycle_time_ok": changed["evaluate_s"] < TIME_GOAL_S if changed else None,
        "cycle_accounts": changed.get("accounts") if changed else None,
    }


def compare(result: Mapping[str, Any], out: Path) -> dict[str, Any] | None:
    """L against M when the other scale's JSON is in ``out``."""
    other = {"M": "L", "L": "M"}.get(result["scale"])
    path = out / f"bench-evaluate-{other}.json"
    if other is None or not path.is_file():
        return None
    loaded = json.loads(path.read_text(encoding="utf-8"))
    big, small = (result, loaded) if result["scale"] == "L" else (loaded, result)
    b, s = big["phases"]["first"], small["phases"]["first"]
    rule_s = {r["rule"]: r["seconds"] for r in s["rules"]}
    return {
        "of": "L/M",
        "other_file": str(path),
        "size": {t: _ratio(big["rows"].get(t), small["rows"].get(t)) for t in SIZES},
        "evaluate_s": {
            "M": s["evaluate_s"],
            "L": b["evaluate_s"],
            "ratio": _ratio(b["evaluate_s"], s["evaluate_s"]),
        },
        "evaluate_cpu_s": {
            "M": s.get("evaluate_cpu_s"),
            "L": b.get("evaluate_cpu_s"),
            "ratio": _ratio(b.get("evaluate_cpu_s"), s.get("evaluate_cpu_s")),
        },
        "peak_rss_mb": {
            "M": s["rss_mb"]["peak_vmhwm"],
            "L": b["rss_mb"]["peak_vmhwm"],
            "ratio": _ratio(b["rss_mb"]["peak_vmhwm"], s["rss_mb"]["peak_vmhwm"]),
        },
        "outputs": {
            "M": s["total_outputs"],
            "L": b["total_outputs"],
            "ratio": _ratio(b["total_outputs"], s["total_outputs"]),
        },
        "rules": {r["rule"]: _ratio(r["seconds"], rule_s.get(r["rule"])) for r in b["rules"]},
    }


def markdown(result: Mapping[str, Any]) -> str:
    """The report: phases, sizes, slowest rules, the comparison and the goals."""
    scale = result["scale"]
    lines = [f"### Evaluate at scale {scale} (SQLite, {result['machine']['nproc']} cores)", ""]
    rows = result["rows"]
    lines.append("Rows: " + ", ".join(f"{t} {rows[t]:,}" for t in SIZES if t in rows))
    lines += [
        "",
        "| run | accounts | evaluate s | CPU s | personas s | shared tables s | rules s "
        "| check + store s | peak RSS MB | outputs | load 1m |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in ("first", "again", "idle", "changed"):
        if name not in result["phases"]:
            continue
        p = result["phases"][name]
        parts = p["parts"]
        accounts = "all" if p.get("accounts") is None else f"{p['accounts']:,}"
        lines.append(
            f"| {name} | {accounts} | {p['evaluate_s']:.2f} | {p['evaluate_cpu_s']:.2f} | "
            f"{parts['personas_s']:.2f} | {parts.get('shared_tables_s', 0.0):.2f} | "
            f"{parts['rules_s']:.2f} | {parts['check_and_store_s']:.2f} | "
            f"{p['rss_mb']['peak_vmhwm']:.0f} | {p['total_outputs']:,} | "
            f"{p['load_avg_1m_before']} |"
        )
    first = result["phases"]["first"]
    lines += [
        "",
        "Slowest rules (first run; SQL = its interval less decide):",
        "",
        "| rule | s | SQL s | decide s | rows | outputs |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in sorted(first["rules"], key=lambda r: -r["seconds"])[:SLOWEST]:
        lines.append(
            f"| {r['rule']} | {r['seconds']:.3f} | {r['sql_s']:.3f} | "
            f"{r['decide_s']:.3f} | {r['rows']:,} | {r['outputs']:,} |"
        )
    versus = result.get("versus")
    if versus:
        e, m, o = versus["evaluate_s"], versus["peak_rss_mb"], versus["outputs"]
        c = versus["evaluate_cpu_s"]
        lines += [
            "",
            "| | M | L | L/M |",
            "|---|---:|---:|---:|",
            f"| evaluate s | {e['M']:.2f} | {e['L']:.2f} | {e['ratio']} |",
            f"| evaluate CPU s | {c['M']} | {c['L']} | {c['ratio']} |",
            f"| peak RSS MB | {m['M']:.0f} | {m['L']:.0f} | {m['ratio']} |",
            f"| outputs | {o['M']:,} | {o['L']:,} | {o['ratio']} |",
            "",
            "Size L/M: " + ", ".join(f"{t} {r}" for t, r in versus["size"].items()),
        ]
    g = goals(result)
    if g["applies"]:
        lines += [
            "",
            f"Goals at L: evaluate {g['time_s']:.2f} s < {TIME_GOAL_S:.0f} s "
            f"{'met' if g['time_ok'] else 'MISSED'}; peak RSS {g['peak_rss_mb']:.0f} MB "
            f"<= {RSS_GOAL_MB:.0f} MB {'met' if g['rss_ok'] else 'MISSED'}",
        ]
        if g["cycle_time_s"] is not None:
            lines.append(
                f"A cycle's incremental evaluation (`changed`, {g['cycle_accounts']} accounts): "
                f"{g['cycle_time_s']:.2f} s < {TIME_GOAL_S:.0f} s "
                f"{'met' if g['cycle_time_ok'] else 'MISSED'}"
            )
    profiled = result["phases"].get("profiled")
    if profiled:
        lines += [
            "",
            f"Profile (pyinstrument, evaluate {profiled['evaluate_s']:.1f} s under it; "
            f"tree in {profiled['file']}), top self time:",
            "",
            "| function | self s | share |",
            "|---|---:|---:|",
        ]
        lines += [
            f"| `{t['function']}` | {t['self_s']:.2f} | {t['share']:.0%} |"
            for t in profiled["top"][:12]
        ]
    if not first["attribution_ok"]:
        lines += ["", "Per-rule times are unreliable: evaluate no longer runs rules one by one."]
    return "\n".join(lines)
