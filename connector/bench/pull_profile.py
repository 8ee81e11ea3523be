"""Where a pull's wall time goes: a py-spy recording of one first load, summed by area.

py-spy samples the process from outside (no tracing overhead in the measured code) and, with
``--idle``, also while it waits on a socket. Every thread is sampled, and the pull has two (the
page loop and its read-ahead), so the shares are shares of thread time: each thread's work and
waits, summed, with both threads waiting on each other in one area of their own. Each sample
is charged to the first area met walking its stack from the leaf up: JSON decoding under a
Zendesk page is "json", a ``datetime.isoformat`` under the store's type adapter is "store".
py-spy is not a dependency: ``pip install py-spy`` for the session, or put it on ``PATH``.
"""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

# (area, markers in a frame's "function (file)" text); the first area found from the leaf wins
AREAS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("json decoding", ("json/decoder.py", "json/__init__.py", "Response.json")),
    ("csv parsing (Bulk results)", ("csv.py", "DictReader")),
    ("store: SQLite upsert, commit (store/, sqlalchemy)", ("connector/store/", "sqlalchemy/")),
    ("row building (transforms.py)", ("connector/transforms.py",)),
    ("Salesforce records (records.py)", ("connector/sources/salesforce/records.py",)),
    ("Zendesk records (records.py)", ("connector/sources/zendesk/records.py",)),
    (
        "HTTP, TLS and waiting for the sandbox",
        ("ssl.py", "socket.py", "http/client.py", "urllib3/", "requests/", "simple_salesforce/"),
    ),
    ("startup: imports, bootstrap", ("importlib", "connector/bootstrap.py", "alembic/")),
    # The next page's request is sent ahead in a thread (``Prefetch`` in sources/base.py); the
    # pull waiting for its answer (the sandbox's serving time not overlapped) lands here.
    (
        "waiting: read-ahead hand-over between threads",
        ("Prefetch._wait",),
    ),
)


def py_spy() -> str | None:
    """The py-spy executable on PATH, if any."""
    return shutil.which("py-spy")


def record(argv: Sequence[str], out: Path, *, env: Mapping[str, str], rate: int = 100) -> Path:
    """Run ``argv`` under ``py-spy record`` (raw collapsed stacks, idle samples included)."""
    exe = py_spy()
    if exe is None:
        raise RuntimeError("--profile needs py-spy on PATH: pip install py-spy")
    options = ["--idle", "--nonblocking", "--function", f"--rate={rate}", "--format=raw"]
    subprocess.run(
        [exe, "record", *options, f"--output={out}", "--", *argv],
        env=dict(env),
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return out


def _samples(raw: str) -> list[tuple[list[str], int]]:
    out = []
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            out.append((stack.split(";"), int(count)))
    return out


def area(frames: Sequence[str]) -> str:
    """The area a sample is charged to (its stack given root first)."""
    for frame in reversed(frames):
        for name, markers in AREAS:
            if any(m in frame for m in markers):
                return name
    return "other"


def summarize(raw_file: Path, top: int = 12) -> dict[str, Any]:
    """Shares of wall time by area, the top functions by own time, the top connector callers."""
    samples = _samples(raw_file.read_text(encoding="utf-8", errors="replace"))
    total = sum(n for _, n in samples) or 1
    areas: Counter[str] = Counter()
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for frames, n in samples:
        areas[area(frames)] += n
        own[frames[-1]] += n
        for frame in set(frames):
            if "connector/" in frame and "connector/__main__" not in frame:
                inclusive[frame] += n

    def share(counter: Counter[str], limit: int) -> list[dict[str, Any]]:
        return [{"what": k, "share": round(v / total, 3)} for k, v in counter.most_common(limit)]

    return {
        "samples": total,
        "areas": share(areas, len(AREAS) + 1),
        "own_time": share(own, top),
        "connector_inclusive": share(inclusive, top),
    }


def markdown(summary: Mapping[str, Any]) -> str:
    """The summary as three small tables."""
    lines = []
    for key, title in (
        ("areas", "area (first match from the leaf up)"),
        ("own_time", "function, own time"),
        ("connector_inclusive", "connector function, inclusive"),
    ):
        lines += [f"| {title} | share of wall |", "|---|--:|"]
        lines += [f"| {e['what']} | {e['share']:.1%} |" for e in summary[key]]
        lines.append("")
    return "\n".join(lines)
