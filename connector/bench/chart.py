"""The benchmark's chart: time against scale, from the ``bench-*.json`` files in a folder.

``write_chart(out)`` reads ``bench-pull-<S|M|L>.json``, ``bench-evaluate-<scale>.json`` and
``bench-push-<scale>.json`` (whichever exist) and draws ``bench-time-vs-scale.png``: seconds
against the records pulled at each scale, records on a log axis (seconds too when they span more
than a factor of 20). matplotlib is an optional extra (``pip install 'cs-connector[bench]'``);
without it the chart is skipped with a message, never an error.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SCALES = ("S", "M", "L")
CHART = "bench-time-vs-scale.png"
# label, bench file kind, how to read the seconds out of its JSON
SERIES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("pull: connector, first load", "pull", ("phases", "connector", "wall_s")),
    ("pull: bare pager", "pull", ("phases", "bare", "wall_s")),
    ("evaluate: first cycle", "evaluate", ("phases", "first", "evaluate_s")),
    ("push: Bulk at ≥ 10,000 (default)", "push", ("modes", "bulk", "push_s")),
    ("push: sObject Collections only", "push", ("modes", "collections", "push_s")),
)


def load(out: Path) -> dict[str, dict[str, dict[str, Any]]]:
    """{scale: {kind: JSON}} for every ``bench-<kind>-<scale>.json`` in ``out``."""
    found: dict[str, dict[str, dict[str, Any]]] = {}
    for scale in SCALES:
        for kind in ("pull", "evaluate", "push"):
            path = out / f"bench-{kind}-{scale}.json"
            if path.exists():
                found.setdefault(scale, {})[kind] = json.loads(path.read_text(encoding="utf-8"))
    return found


def records(runs: dict[str, dict[str, Any]]) -> int | None:
    """The records pulled at a scale: the pull benchmark's, else the evaluate store's."""
    if "pull" in runs:
        return int(runs["pull"]["summary"]["records"])
    evaluate = runs.get("evaluate")
    if evaluate:
        pulled = (evaluate.get("store") or {}).get("pull") or {}
        if pulled.get("records"):
            return int(pulled["records"])
        return sum(int(n) for n in evaluate.get("rows", {}).values()) or None
    return None


def _dig(data: dict[str, Any], keys: tuple[str, ...]) -> float | None:
    value: Any = data
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return float(value) if isinstance(value, int | float) else None


def points(out: Path) -> dict[str, list[tuple[str, int, float]]]:
    """{series label: [(scale, records, seconds), ...]} from the JSON files in ``out``."""
    series: dict[str, list[tuple[str, int, float]]] = {}
    for scale, runs in load(out).items():
        x = records(runs)
        if x is None:
            continue
        for label, kind, keys in SERIES:
            seconds = _dig(runs[kind], keys) if kind in runs else None
            if seconds is not None:
                series.setdefault(label, []).append((scale, x, seconds))
    return series


def write_chart(out: Path, *, title: str = "") -> tuple[Path | None, str]:
    """Draw the PNG into ``out``; (its path or None, a one-line message saying what happened)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return (
            None,
            "chart skipped: matplotlib is not installed (pip install 'cs-connector[bench]')",
        )
    series = points(out)
    if not series:
        return None, f"chart skipped: no bench-pull/evaluate/push-<scale>.json in {out}"
    ys = [y for pts in series.values() for _, _, y in pts if y > 0]
    fig, ax = plt.subplots(figsize=(8, 5), dpi=110)
    for label, pts in series.items():
        pts = sorted(pts, key=lambda p: p[1])
        ax.plot([p[1] for p in pts], [p[2] for p in pts], marker="o", label=label)
    labelled: set[tuple[str, int]] = set()
    for pts in series.values():
        for scale, x, _ in pts:
            if (scale, x) not in labelled:
                labelled.add((scale, x))
                ax.annotate(
                    scale,
                    (x, 0),
                    xycoords=("data", "axes fraction"),
                    xytext=(0, 4),
                    textcoords="offset points",
                    ha="center",
                    fontweight="bold",
                )
    ax.set_xscale("log")  # S, M and L are 2.5k, 0.6M and 2.4M records
    if ys and max(ys) / min(ys) > 20:
        ax.set_yscale("log")
    ax.set_xlabel("records pulled (scale S, M, L)")
    ax.set_ylabel("seconds")
    ax.set_title(title or "cs-connector benchmark: time against scale")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")
    fig.tight_layout()
    path = out / CHART
    fig.savefig(path)
    plt.close(fig)
    scales = sorted({s for pts in series.values() for s, _, _ in pts}, key=SCALES.index)
    return path, f"wrote {path} (scales {', '.join(scales)})"
