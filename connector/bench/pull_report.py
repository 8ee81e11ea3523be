"""The pull benchmark's numbers: per-stream rows against the floor, the summary, the machine.

Pure functions over what the phases returned, so the JSON and the markdown say the same thing.
"""

from __future__ import annotations

import os
import platform
import sqlite3
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connector.bench.pull_calls import Attributed, StreamCalls, floor

WALL_GOAL = 1.5  # connector wall / bare pager wall
CALLS_GOAL = 1.02  # connector stream calls (less the prescribed COUNT()s) / floor


def machine() -> dict[str, Any]:
    """What the numbers were measured on, and how busy it was (1-minute load average)."""
    cpu = _proc_field("/proc/cpuinfo", "model name")
    mem_kb = _proc_field("/proc/meminfo", "MemTotal").split()
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu or platform.processor() or "unknown",
        "ram_gb": round(int(mem_kb[0]) / 1024**2, 1) if mem_kb else None,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "os": platform.platform(terse=True),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "load_1m": round(os.getloadavg()[0], 2),
    }


def _proc_field(path: str, name: str) -> str:
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError:
        return ""
    for line in lines:
        key, _, value = line.partition(":")
        if key.strip() == name:
            return value.strip()
    return ""


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 3) if b else None


def stream_rows(
    pull: Mapping[str, Any], calls: Attributed, bare: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """One row per stream of the first load: records, calls by kind, floor, seconds."""
    bare_by = {s["stream"]: s for s in bare["streams"]}
    rows = []
    for s in pull["streams"]:
        name = s["stream"]
        spent = calls.streams.get(name, StreamCalls())
        n = int(s["records"]) + int(s["issues"])
        counts, describes = spent.kinds["count"], spent.kinds["describe"]
        least = floor(spent.path, n)
        b = bare_by.get(name, {})
        rows.append(
            {
                "stream": name,
                "path": spent.path,
                "records": n,
                "bare_records": b.get("records"),
                "calls": spent.total,
                "count_calls": counts,
                "describe_calls": describes,
                "reported_calls": s["api_calls"],
                "floor": least,
                "calls_ratio": _ratio(spent.total - counts, least),
                "bare_calls": b.get("calls"),
                "seconds": s["seconds"],
                "bare_seconds": b.get("seconds"),
                "seconds_ratio": _ratio(s["seconds"], b.get("seconds") or 0),
                "status": s["status"],
            }
        )
    return rows


def idle_rows(pull: Mapping[str, Any], calls: Attributed) -> list[dict[str, Any]]:
    """The idle cycle per stream: records stored, records served, read calls."""
    out = []
    for s in pull["streams"]:
        spent = calls.streams.get(s["stream"], StreamCalls())
        out.append(
            {
                "stream": s["stream"],
                "records": s["records"],
                "records_served": spent.records_read,
                "calls": spent.total,
                "status": s["status"],
            }
        )
    return out


def summary(
    phases: Mapping[str, Mapping[str, Any]],
    rows: list[dict[str, Any]],
    idle: list[dict[str, Any]],
    calls: Mapping[str, Attributed],
) -> dict[str, Any]:
    """Ratios against the goals, fixed overhead, memory, throughput, the idle cycle."""
    bare, first, again = phases["bare"], phases["connector"], phases["idle"]
    records = sum(r["records"] for r in rows)
    stream_calls = sum(r["calls"] for r in rows)
    counts = sum(r["count_calls"] for r in rows)
    least = sum(r["floor"] for r in rows)
    wall_ratio = _ratio(first["wall_s"], bare["wall_s"])
    cpu_ratio = _ratio(first["cpu_s"], bare["cpu_s"])
    calls_ratio = _ratio(stream_calls - counts, least)
    busy = [r["stream"] for r in idle if r["calls"] != 1]
    return {
        "records": records,
        "wall_ratio": wall_ratio,
        "cpu_ratio": cpu_ratio,
        "sandbox_serving_s": {k: v.serving_s for k, v in calls.items()},
        "streams_seconds_ratio": _ratio(
            sum(r["seconds"] for r in rows), sum(r["bare_seconds"] or 0 for r in rows)
        ),
        "floor_calls": least,
        "stream_calls": stream_calls,
        "count_calls": counts,
        "describe_calls_in_streams": sum(r["describe_calls"] for r in rows),
        "calls_ratio": calls_ratio,
        "calls_ratio_with_counts": _ratio(stream_calls, least),
        "fixed_calls": dict(calls["connector"].fixed),
        "bare_fixed_calls": dict(calls["bare"].fixed),
        "bare_calls": calls["bare"].total,
        "connector_calls": calls["connector"].total,
        "records_per_s": {
            "bare": round(records / bare["wall_s"]) if bare["wall_s"] else None,
            "connector": round(records / first["wall_s"]) if first["wall_s"] else None,
        },
        "idle": {
            "wall_s": again["wall_s"],
            "records": sum(r["records"] for r in idle),
            "records_served": sum(r["records_served"] for r in idle),
            "stream_calls": sum(r["calls"] for r in idle),
            "streams_not_one_call": busy,
            "fixed_calls": dict(calls["idle"].fixed),
            "write_calls": calls["idle"].writes,
        },
        "goals": {
            "wall_ratio<=1.5": wall_ratio is not None and wall_ratio <= WALL_GOAL,
            "calls_ratio<=1.02": calls_ratio is not None and calls_ratio <= CALLS_GOAL,
            "idle_records==0": sum(r["records"] for r in idle) == 0,
            "idle_one_call_per_stream": not busy,
            "idle_writes==0": calls["idle"].writes == 0,
        },
    }


def markdown(result: Mapping[str, Any]) -> str:
    """The per-stream table and the summary, as docs/benchmarks.md shows them."""
    m = result["machine"]
    lines = [
        f"`{result['command']}` on {m['nproc']} × {m['cpu']}, {m['ram_gb']} GB RAM, "
        f"Python {m['python']}, SQLite {m['sqlite']}, {m['date']}; load average (1 min) "
        f"{m['load_1m']} before, {m.get('load_1m_after', '-')} after.",
        "",
        "| stream | path | records | connector calls | of which COUNT() | floor | ratio¹ "
        "| bare s | connector s | idle calls |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    idle = {r["stream"]: r for r in result["idle_streams"]}
    for r in result["streams"]:
        lines.append(
            f"| {r['stream']} | {r['path']} | {r['records']:,} | {r['calls']} "
            f"| {r['count_calls']} | {r['floor']} | {_num(r['calls_ratio'])} "
            f"| {_num(r['bare_seconds'])} | {_num(r['seconds'])} "
            f"| {idle.get(r['stream'], {}).get('calls', '-')} |"
        )
    s, p = result["summary"], result["phases"]
    i = s["idle"]
    lines += [
        f"| **total** | | **{s['records']:,}** | **{s['stream_calls']}** "
        f"| **{s['count_calls']}** | **{s['floor_calls']}** | **{_num(s['calls_ratio'])}** "
        f"| | | **{i['stream_calls']}** |",
        "",
        "| | bare pager | connector pull | ratio (goal) |",
        "|---|--:|--:|--:|",
        f"| wall, process start to exit | {p['bare']['wall_s']:.1f} s "
        f"| {p['connector']['wall_s']:.1f} s | {_num(s['wall_ratio'])} (≤ 1.5) |",
        f"| wall, streams only | {_sum(result['streams'], 'bare_seconds'):.1f} s "
        f"| {_sum(result['streams'], 'seconds'):.1f} s | {_num(s['streams_seconds_ratio'])} |",
        f"| API calls (all) | {s['bare_calls']} | {s['connector_calls']} | |",
        f"| stream calls less COUNT() / floor | | {s['stream_calls'] - s['count_calls']} "
        f"/ {s['floor_calls']} | {_num(s['calls_ratio'])} (≤ 1.02) |",
        f"| stream calls with COUNT() / floor | | {s['stream_calls']} / {s['floor_calls']} "
        f"| {_num(s['calls_ratio_with_counts'])} |",
        f"| fixed overhead calls | {_kinds(s['bare_fixed_calls'])} "
        f"| {_kinds(s['fixed_calls'])} | |",
        f"| peak RSS | {p['bare']['peak_rss_mb']:.0f} MB "
        f"| {p['connector']['peak_rss_mb']:.0f} MB | |",
        f"| CPU time (user + sys) | {p['bare']['cpu_s']:.1f} s "
        f"| {p['connector']['cpu_s']:.1f} s | {_num(s['cpu_ratio'])} |",
        f"| the sandbox's own serving time | {s['sandbox_serving_s']['bare']:.1f} s "
        f"| {s['sandbox_serving_s']['connector']:.1f} s | |",
        f"| records/s | {s['records_per_s']['bare']:,} | {s['records_per_s']['connector']:,} | |",
        "",
        f"Idle cycle: {i['wall_s']:.1f} s, {i['records']} records stored (goal 0), "
        f"{i['records_served']} served, {i['stream_calls']} read calls for "
        f"{len(result['idle_streams'])} streams (goal 1 each"
        + (f"; not 1: {', '.join(i['streams_not_one_call'])}" if i["streams_not_one_call"] else "")
        + f"), {i['write_calls']} write calls (goal 0), fixed overhead {_kinds(i['fixed_calls'])}.",
        "",
        "¹ (connector calls − COUNT()) / floor. Floor: REST ⌈N/2000⌉; Bulk 2.0 job create + one "
        "status poll + ⌈N/50,000⌉ result pages; Zendesk exports ⌈N/1000⌉; lists ⌈N/100⌉.",
    ]
    return "\n".join(lines)


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _sum(rows: list[dict[str, Any]], key: str) -> float:
    return float(sum(r[key] or 0 for r in rows))


def _kinds(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{v} {k}" for k, v in sorted(counts.items())) or "0"
