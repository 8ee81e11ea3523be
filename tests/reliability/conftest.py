"""The reliability suites' closing tables: trials per kill point, faults per class, outcomes.

Each trial or fault test appends one JSON line to a folder this process makes at start-up and
hands to the xdist workers through the environment; the terminal summary tables them. (The
hooks run when this folder is among pytest's arguments, e.g. ``pytest tests/reliability``, or
without xdist; a whole-suite run under xdist still runs every test, without the table.)
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from reliability_support import RESULTS_ENV


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):
        return  # an xdist worker: the controller made the folder
    if not os.environ.get(RESULTS_ENV):
        os.environ[RESULTS_ENV] = tempfile.mkdtemp(prefix="cs-reliability-")


def _rows(kind: str) -> list[dict[str, Any]]:
    folder = os.environ.get(RESULTS_ENV)
    if not folder:
        return []
    rows = []
    for path in sorted(Path(folder).glob(f"{kind}-*.jsonl")):
        rows.extend(json.loads(line) for line in path.read_text().splitlines() if line)
    return rows


def crash_table(rows: list[dict[str, Any]]) -> list[str]:
    per: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in rows:
        p = per[r["point"]]
        p["trials"] += 1
        p["completed"] += r["recovery"] == "completed"
        for name in ("duplicates", "missing", "extra", "lost_edits"):
            p[name] += r[name]
    lines = [
        "| kill point | trials | next cycle completed | duplicate ext. ids | missing or "
        "different outputs | extra outputs | lost edits |",
        "|---|---|---|---|---|---|---|",
    ]
    total: dict[str, int] = defaultdict(int)
    for point in sorted(per):
        p = per[point]
        for k, v in p.items():
            total[k] += v
        lines.append(
            f"| {point} | {p['trials']} | {p['completed']} | {p['duplicates']} | "
            f"{p['missing']} | {p['extra']} | {p['lost_edits']} |"
        )
    lines.append(
        f"| **all** | {total['trials']} | {total['completed']} | {total['duplicates']} | "
        f"{total['missing']} | {total['extra']} | {total['lost_edits']} |"
    )
    return lines


def fault_table(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| fault class | injected | outcome | retries (client / per record) | duplicates |",
        "|---|---|---|---|---|",
    ]
    for r in sorted(rows, key=lambda r: r["fault"]):
        lines.append(
            f"| {r['fault']} | {r['injected']} | {r['outcome']} | {r['retries']} | "
            f"{r['duplicates']} |"
        )
    return lines


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    sections = []
    crash = _rows("crash")
    if crash:
        sections.append(("kill -9 trials", crash_table(crash)))
    faults = _rows("fault")
    if faults:
        sections.append(("API faults", fault_table(faults)))
    if not sections:
        return
    text = []
    for title, lines in sections:
        terminalreporter.write_sep("=", f"reliability: {title}")
        for line in lines:
            terminalreporter.write_line(line)
        text.extend([f"## {title}", "", *lines, ""])
    folder = Path(os.environ[RESULTS_ENV])
    (folder / "summary.md").write_text("\n".join(text), encoding="utf-8")
    terminalreporter.write_line(f"(also in {folder / 'summary.md'})")
