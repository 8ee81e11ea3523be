"""Zendesk under its real limit: ``python -m connector.bench.zendesk_limit --scale S``.

Zendesk documents 10 requests a minute on the incremental exports (``/api/v2/incremental/*``,
tickets, users and organizations together). This benchmark starts the sandbox with that limit
on (``cs-connector sandbox --zendesk-export-limit 10``; the account-wide 700 a minute stays at
its default) and runs the connector's initial load of the three export streams in a child::

    cs-connector pull --stream zendesk_ticket --stream zendesk_user \\
        --stream zendesk_organization --json --config <cfg>

into a fresh SQLite store, with the connector's defaults (it paces itself from the rate headers;
``pull.zendesk_wait_budget_seconds`` 300). The sandbox's call log gives the export requests,
their times and any 429.

**Page size.** The scale S org is 330 tickets, 343 users and 78 organizations: three export
pages of 1,000, which the first minute's 10 requests serve with nothing to wait for. So that the
limit binds, the child (``connector.bench.zendesk_pages``) lowers the exports' page size to the
smallest that keeps the load within ``--pages`` pages (default 25, about two minutes of
pacing); the output says so. Larger orgs bind at the natural 1,000.

**The lower bound.** With P export pages and at most 10 requests in any minute, request i and
request i + 10 are at least 60 s apart, so the first request and the last one (both in the
run) are at least ``(ceil(P / 10) - 1) * 60`` s apart: the first 10 go at once, and each further
block of up to 10 needs one more minute. ``bound = max(0, ceil(P / 10) - 1) * 60 s``; P <= 10 is
0 (no wait). The sandbox counts in clock minutes (as Zendesk's ``resets`` header reads), so a
run whose first export request comes ``phase`` seconds into a minute can finish its last
window ``phase`` seconds sooner: ``clock bound = max(0, (ceil(P / 10) - 1) * 60 - phase)``. By
default the child starts on a minute boundary (``--no-align`` to skip the wait), so the two
bounds differ only by the connector's start-up seconds. Reported: the connector's wall time
(process start to exit) against the bound, and its export span (first export request to last)
against the clock bound.

Writes ``<out>/bench-zendesk-limit-<scale>.json`` and prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from connector.bench.children import SandboxProcess, run_measured
from connector.bench.pull_plan import Target, write_config
from connector.bench.pull_report import machine
from connector.sandbox.state import SandboxConfig

STREAMS = ("zendesk_ticket", "zendesk_user", "zendesk_organization")
EXPORTS = {  # the sandbox's collection -> (export path, stream)
    "tickets": ("/api/v2/incremental/tickets/cursor", "zendesk_ticket"),
    "users": ("/api/v2/incremental/users/cursor", "zendesk_user"),
    "organizations": ("/api/v2/incremental/organizations", "zendesk_organization"),
}
INCREMENTAL = "/api/v2/incremental/"
DOCUMENTED_LIMIT = 10  # requests a minute on the incremental exports
EXPORT_MAX = 1000  # the exports' largest per_page, the connector's page size
PAGES = 25  # default target of export pages at a lowered page size: 3 windows, a 120 s bound
QUICK_PAGES = 15  # the smoke test's: 2 windows, a 60 s bound
WAIT_GAP_S = 5.0  # a gap between export requests longer than this is the connector pacing


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


class LimitedSandbox(SandboxProcess):
    """The sandbox with the incremental-export limit on (the account limit at its default)."""

    def __init__(self, scale: str, workdir: Path, *, limit: int, seed: int = 42) -> None:
        super().__init__(scale, workdir, seed=seed)
        self.limit = limit

    @property
    def argv(self) -> list[str]:
        base = [a for a in super().argv if not a.startswith("--zendesk-")]
        return [*base, f"--zendesk-export-limit={self.limit}"]


def lower_bound_s(pages: int, per_minute: int = DOCUMENTED_LIMIT) -> float:
    """Seconds from the first export request to the last at best: see the module doc."""
    return max(0, math.ceil(pages / per_minute) - 1) * 60.0


def clock_bound_s(pages: int, phase_s: float, per_minute: int = DOCUMENTED_LIMIT) -> float:
    """The same for clock-minute windows, the first request ``phase_s`` into its minute."""
    windows = math.ceil(pages / per_minute)
    return max(0.0, (windows - 1) * 60.0 - phase_s) if windows > 1 else 0.0


def export_pages(counts: dict[str, int], per_page: int) -> int:
    """Pages the three exports take at ``per_page`` (at least one each)."""
    return sum(max(1, math.ceil(n / per_page)) for n in counts.values())


def page_size(counts: dict[str, int], target: int, per_minute: int) -> int:
    """The natural 1,000 if that already binds the limit, else the smallest page size that keeps
    the load within ``target`` pages."""
    if export_pages(counts, EXPORT_MAX) > per_minute:
        return EXPORT_MAX
    return next(pp for pp in range(1, EXPORT_MAX + 1) if export_pages(counts, pp) <= target)


def _counts(sandbox: SandboxProcess) -> dict[str, int]:
    """Records in each exported collection, from the sandbox's data door (no rate limit)."""
    return {name: len(sandbox._admin("GET", f"data/zendesk/{name}").json()) for name in EXPORTS}


def _align() -> float:
    """Sleep to just after the next clock minute starts; the seconds slept."""
    wait = 60.0 - time.time() % 60.0 + 0.05
    time.sleep(wait)
    return round(wait, 1)


def _stream_of(path: str) -> str:
    for export, stream in EXPORTS.values():
        if path.removesuffix(".json") == export:
            return stream
    return "other"


def timeline(log: list[dict[str, Any]], started_at: float, ended_at: float) -> dict[str, Any]:
    """The export requests in the call log: pages, 429s, phase, span, pacing, windows."""
    exports = [c for c in log if c["path"].startswith(INCREMENTAL)]
    if not exports:
        raise RuntimeError("the pull sent no export request")
    served = [c for c in exports if c["status"] == 200]
    first, last = exports[0], exports[-1]
    first_start = first["at"] - first["duration_ms"] / 1000
    times = [c["at"] for c in exports]
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    per_stream: dict[str, dict[str, int]] = {}
    for c in exports:
        row = per_stream.setdefault(_stream_of(c["path"]), {"pages": 0, "records": 0, "429": 0})
        if c["status"] == 200:
            row["pages"] += 1
            row["records"] += int(c.get("records_read") or 0)
        elif c["status"] == 429:
            row["429"] += 1
    return {
        "export_requests": len(exports),
        "pages": len(served),
        "throttled_429": sum(1 for c in exports if c["status"] == 429),
        "other_zendesk_calls": len(log) - len(exports),
        "per_stream": per_stream,
        "startup_s": round(first_start - started_at, 2),
        "phase_s": round(first_start % 60.0, 2),
        "export_span_s": round(last["at"] - first_start, 2),
        "after_last_export_s": round(ended_at - last["at"], 2),
        "paced_s": round(sum(g for g in gaps if g > WAIT_GAP_S), 2),
        "windows_used": len({int(t // 60) for t in times}),
        "requests_per_window": [
            sum(1 for t in times if int(t // 60) == w)
            for w in sorted({int(t // 60) for t in times})
        ],
    }


def measure(
    scale: str,
    workdir: Path,
    *,
    pages: int = PAGES,
    align: bool = True,
    limit: int = DOCUMENTED_LIMIT,
    seed: int = 42,
) -> dict[str, Any]:
    """The sandbox with the limit on, the connector's initial Zendesk load; JSON-able data."""
    if pages <= limit:
        raise ValueError(f"pages ({pages}) must exceed the limit ({limit}) for it to bind")
    host = machine()
    _say(f"starting the scale {scale} sandbox, incremental exports limited to {limit}/min")
    with LimitedSandbox(scale, workdir / "sandbox", limit=limit, seed=seed) as sandbox:
        target = Target(sandbox.port, sandbox.ca_file, sandbox.jwt_key_file, SandboxConfig())
        config = workdir / "config.toml"
        env = write_config(target, workdir / "store.db", config)
        counts = _counts(sandbox)
        per_page = page_size(counts, pages, limit)
        natural = export_pages(counts, EXPORT_MAX)
        sandbox.clear_calls()
        aligned = _align() if align else None
        if aligned is not None:
            _say(f"waited {aligned:.0f}s for a clock minute to start")
        _say(f"connector pull of {', '.join(STREAMS)}, export pages of {per_page}")
        args = [str(per_page), "pull", *(a for s in STREAMS for a in ("--stream", s))]
        started_at = time.time()
        run = run_measured(
            "connector.bench.zendesk_pages",
            [*args, "--json", "--config", str(config)],
            workdir,
            env=env,
            name="zendesk-limit",
        )
        ended_at = time.time()
        log = sandbox.calls("zendesk")
    report = json.loads(run.stdout)
    seen = timeline(log, started_at, ended_at)
    bound = lower_bound_s(seen["pages"], limit)
    clock = clock_bound_s(seen["pages"], seen["phase_s"], limit)
    lowered = per_page < EXPORT_MAX
    return {
        "scale": scale,
        "command": f"python -m connector.bench.zendesk_limit --scale {scale}"
        + (f" --pages {pages}" if pages != PAGES else "")
        + ("" if align else " --no-align"),
        "machine": host,
        "limit_per_min": limit,
        "records": counts,
        "per_page": per_page,
        "natural_pages": natural,
        "natural_bound_s": lower_bound_s(natural, limit),
        "page_size_note": (
            f"at the natural {EXPORT_MAX} a page the scale {scale} exports take {natural} "
            f"pages, within the first minute's {limit} requests; the page size was lowered to "
            f"{per_page} so that the limit binds"
            if lowered
            else f"natural page size ({EXPORT_MAX}): {natural} pages"
        ),
        "aligned_wait_s": aligned,
        "pull": {
            "status": report["status"],
            "wall_s": run.wall_s,
            "cpu_s": run.cpu_s,
            "peak_rss_mb": run.peak_rss_mb,
            "streams": [
                {k: s[k] for k in ("stream", "records", "pages", "api_calls", "seconds", "status")}
                for s in report["streams"]
            ],
        },
        "calls": seen,
        "bound": {
            "formula": "max(0, ceil(pages / limit) - 1) * 60 s",
            "documented_s": bound,
            "clock_windows_s": round(clock, 2),
        },
        "ratio": round(run.wall_s / bound, 3) if bound else None,
        "span_ratio": round(seen["export_span_s"] / clock, 3) if clock else None,
    }


def markdown(result: dict[str, Any]) -> str:
    """The result as the table in docs/benchmarks.md."""
    calls, bound, pull = result["calls"], result["bound"], result["pull"]
    streams = ", ".join(f"{s['stream']} {s['records']} in {s['pages']}" for s in pull["streams"])
    ratio = result["ratio"]
    span_ratio = result["span_ratio"]
    return "\n".join(
        [
            f"### Zendesk under its real limit at scale {result['scale']} "
            f"({result['machine']['date']})",
            "",
            f"Export limit {result['limit_per_min']} requests a minute; "
            f"{result['page_size_note']}.",
            "",
            "| | figure |",
            "|---|--:|",
            f"| export pages (requests) | {calls['pages']} ({calls['export_requests']}) |",
            f"| 429 answers | {calls['throttled_429']} |",
            f"| clock-minute windows used (requests in each) | {calls['windows_used']} "
            f"({' / '.join(map(str, calls['requests_per_window']))}) |",
            f"| lower bound, max(0, ⌈P/10⌉ − 1) × 60 s | {bound['documented_s']:.0f} s |",
            f"| connector pull, process start to exit | {pull['wall_s']:.1f} s |",
            f"| **ratio, connector / bound** | **{ratio if ratio is not None else 'n/a'}** |",
            f"| first export request, seconds into its minute | {calls['phase_s']:.1f} s |",
            f"| lower bound for the sandbox's clock-minute windows | "
            f"{bound['clock_windows_s']:.1f} s |",
            f"| connector's export span, first request to last | {calls['export_span_s']:.1f} s |",
            f"| ratio, span / clock bound | {span_ratio if span_ratio is not None else 'n/a'} |",
            f"| start-up before the first export; after the last | {calls['startup_s']:.1f} s; "
            f"{calls['after_last_export_s']:.1f} s |",
            f"| paced (gaps > {WAIT_GAP_S:.0f} s between export requests) | "
            f"{calls['paced_s']:.1f} s |",
            f"| peak RSS; CPU | {pull['peak_rss_mb']:.0f} MB; {pull['cpu_s']:.1f} s |",
            "",
            f"Streams (records in pages): {streams}; status {pull['status']}. At the natural "
            f"page size: {result['natural_pages']} pages, bound {result['natural_bound_s']:.0f} s.",
        ]
    )


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Parse the options, run, write the JSON, print the markdown."""
    parser = argparse.ArgumentParser(
        prog="python -m connector.bench.zendesk_limit",
        description="The connector's initial Zendesk load under the 10/min export limit.",
    )
    parser.add_argument("--scale", default="S", type=str.upper, choices=["S", "M", "L"])
    parser.add_argument("--out", type=Path, default=Path(".cs-connector/bench"))
    parser.add_argument(
        "--pages",
        type=int,
        default=PAGES,
        help=f"Lower the export page size to keep the load within this many pages "
        f"(default {PAGES}; when the natural size already binds the limit, it is kept).",
    )
    parser.add_argument(
        "--no-align",
        dest="align",
        action="store_false",
        help="Start at once instead of waiting for a clock minute to begin.",
    )
    parser.add_argument("--limit", type=int, default=DOCUMENTED_LIMIT, help="Exports a minute.")
    args = parser.parse_args(argv)
    if args.pages <= args.limit:
        parser.error(f"--pages must exceed --limit ({args.limit}), or nothing is paced")
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cs-bench-zendesk-") as tmp:
        result = measure(
            args.scale, Path(tmp), pages=args.pages, align=args.align, limit=args.limit
        )
    out = args.out / f"bench-zendesk-limit-{args.scale}.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(markdown(result))
    _say(f"wrote {out}")
    return result


if __name__ == "__main__":
    main()
