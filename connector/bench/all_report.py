"""Issue 8's goals, judged from the benchmarks' JSON, and the table ``connector.bench.all`` prints.

Each goal is met, missed, or n/a (a goal stated at scale L, in a run at S or M: its figure is
still shown). The Zendesk-limit figure is reported, not judged: it has no goal.
"""

from __future__ import annotations

import math
from typing import Any

Goal = dict[str, Any]


def _status(ok: bool | None) -> str:
    return "n/a" if ok is None else ("met" if ok else "missed")


def _goal(name: str, figure: str, ok: bool | None, note: str = "") -> Goal:
    return {
        "goal": name,
        "figure": figure,
        "status": _status(ok),
        **({"note": note} if note else {}),
    }


def pull_goals(pull: dict[str, Any]) -> list[Goal]:
    """Wall time against the bare pager, calls against the floor."""
    s, phases = pull["summary"], pull["phases"]
    conn, bare = phases["connector"]["wall_s"], phases["bare"]["wall_s"]
    less_counts = s["stream_calls"] - s["count_calls"]
    return [
        _goal(
            "pull wall ≤ 1.5 × bare pager",
            f"{conn:.1f} s / {bare:.1f} s = {s['wall_ratio']:.2f}",
            s["wall_ratio"] <= 1.5,
        ),
        _goal(
            "pull API calls ≤ 1.02 × floor",
            f"{less_counts} / {s['floor_calls']} = {s['calls_ratio']:.3f}",
            s["calls_ratio"] <= 1.02,
            f"stream calls less the {s['count_calls']} COUNT() of a first load; "
            f"with them {s['calls_ratio_with_counts']:.2f}",
        ),
    ]


def idle_goals(pull: dict[str, Any], push: dict[str, Any] | None) -> list[Goal]:
    """The idle cycles: the pull's (a second pull) and the push's (``sync --once`` settled)."""
    idle = pull["summary"]["idle"]
    writes = {"pull": idle["write_calls"]}
    for mode, m in (push or {}).get("modes", {}).items():
        writes[f"sync {mode}"] = m["idle_write_calls"]
    streams = len(pull.get("idle_streams") or ()) or idle["stream_calls"]
    return [
        _goal(
            "idle cycle: 0 write calls",
            ", ".join(f"{k} {v}" for k, v in writes.items()),
            all(v == 0 for v in writes.values()),
        ),
        _goal(
            "idle cycle: ≤ 1 read call per stream",
            f"{idle['stream_calls']} calls for {streams} streams, {idle['records']} records stored",
            not idle["streams_not_one_call"],
            "fixed overhead besides: "
            + ", ".join(f"{v} {k}" for k, v in sorted(idle["fixed_calls"].items())),
        ),
    ]


def evaluate_goals(evaluate: dict[str, Any], scale: str) -> list[Goal]:
    """Evaluate's time at L (the first cycle's ``evaluate()`` call)."""
    first = evaluate["phases"]["first"]
    at_l = scale == "L"
    return [
        _goal(
            "evaluate at L < 5 s",
            f"{first['evaluate_s']:.2f} s at {scale} ({first['total_outputs']:,} outputs)",
            first["evaluate_s"] < 5 if at_l else None,
            "" if at_l else "judged at L only",
        )
    ]


def peak_rss(
    pull: dict[str, Any] | None, evaluate: dict[str, Any] | None, push: dict[str, Any] | None
) -> dict[str, float]:
    """The largest peak RSS of each stage's connector processes (MB)."""
    out: dict[str, float] = {}
    if pull:
        out["pull"] = max(pull["phases"][p]["peak_rss_mb"] for p in ("connector", "idle"))
    if evaluate:
        out["evaluate"] = max(
            ph["rss_mb"]["peak_vmhwm"] for ph in evaluate["phases"].values() if "rss_mb" in ph
        )
    if push:
        out["push (sync --once)"] = max(
            c["peak_rss_mb"] for m in push["modes"].values() for c in [*m["cycles"], m["idle"]]
        )
    return out


def rss_goal(rss: dict[str, float], scale: str) -> Goal:
    at_l = scale == "L"
    return _goal(
        "peak RSS at L ≤ 300 MB",
        ", ".join(f"{k} {v:.0f} MB" for k, v in rss.items()) + f" at {scale}",
        (max(rss.values()) <= 300 if rss else None) if at_l else None,
        "" if at_l else "judged at L only",
    )


def push_ratio(mode: dict[str, Any]) -> float | None:
    """Write + poll calls over the floor, Salesforce and Zendesk together."""
    floor = sum(mode["floor"].values())
    return round(sum(mode["calls"].values()) / floor, 3) if floor else None


def push_goals(push: dict[str, Any]) -> list[Goal]:
    parts, oks = [], []
    for name, m in push["modes"].items():
        ratio = push_ratio(m)
        calls, floor = sum(m["calls"].values()), sum(m["floor"].values())
        parts.append(f"{name} {calls} / {floor} = {ratio if ratio is not None else 'n/a'}")
        oks.append(ratio is None or ratio <= 1.02)
    return [_goal("push calls ≤ 1.02 × floor", "; ".join(parts), all(oks))]


def zendesk_figure(zendesk: dict[str, Any] | None, pull: dict[str, Any] | None) -> Goal | None:
    """The measured run at S; at M and L the bound at the natural page size, from the pull."""
    if zendesk:
        calls, bound = zendesk["calls"], zendesk["bound"]
        return {
            "goal": "Zendesk initial load under 10 exports a minute (reported)",
            "figure": f"{calls['pages']} pages of {zendesk['per_page']}: connector "
            f"{zendesk['pull']['wall_s']:.1f} s, bound {bound['documented_s']:.0f} s "
            f"(ratio {zendesk['ratio']}); span {calls['export_span_s']:.1f} s vs clock bound "
            f"{bound['clock_windows_s']:.1f} s (ratio {zendesk['span_ratio']}); "
            f"{calls['throttled_429']} 429s",
            "status": "reported",
        }
    if not pull:
        return None
    pages = sum(r["calls"] for r in pull["streams"] if r["path"] in ("export", "time export"))
    bound = max(0, math.ceil(pages / 10) - 1) * 60
    return {
        "goal": "Zendesk initial load under 10 exports a minute (reported)",
        "figure": f"{pages} export pages: bound {bound / 60:.0f} min (not measured: at S only)",
        "status": "reported",
    }


def goals(
    scale: str,
    pull: dict[str, Any] | None,
    evaluate: dict[str, Any] | None,
    push: dict[str, Any] | None,
    zendesk: dict[str, Any] | None,
) -> list[Goal]:
    """Every goal of issue 8 that the stages run could judge, in the issue's order."""
    out: list[Goal] = []
    if pull:
        out += pull_goals(pull) + idle_goals(pull, push)
    if evaluate:
        out += evaluate_goals(evaluate, scale)
    out.append(rss_goal(peak_rss(pull, evaluate, push), scale))
    if push:
        out += push_goals(push)
    z = zendesk_figure(zendesk, pull)
    if z:
        out.append(z)
    return out


def markdown(result: dict[str, Any]) -> str:
    """The goals table, with the machine and the date."""
    m = result["machine"]
    ram = f", {m['ram_gb']} GB RAM" if m.get("ram_gb") else ""
    lines = [
        f"### Goals at scale {result['scale']}",
        "",
        f"`{result['command']}` on {m['nproc']} × {m['cpu']}{ram}, Python {m['python']}, "
        f"SQLite {m['sqlite']}, {m['date']}; tree {result['tree']}; "
        f"{result['wall_s']:.0f} s in all ("
        + ", ".join(f"{k} {v:.0f} s" for k, v in result["stage_wall_s"].items())
        + ").",
        "",
        "| goal | figure | status |",
        "|---|---|---|",
    ]
    for g in result["goals"]:
        note = f" ({g['note']})" if g.get("note") else ""
        lines.append(f"| {g['goal']} | {g['figure']}{note} | {g['status']} |")
    if result.get("chart_note"):
        lines += ["", result["chart_note"]]
    return "\n".join(lines)
