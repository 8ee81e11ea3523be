"""A Salesforce stream's sync state, as the pull saves it with each page's rows.

``{"cursor": iso | None, "sweep": {"from": iso, "run_start": iso} | None,
"bulk": {"job_id": str, "locator": str | None, "run_start": iso} | None}``

``cursor`` is where the next incremental sweep starts (exclusive). ``sweep`` marks a sorted
sweep under way: it resumes from ``from`` (inclusive: rows at that instant are read again and
absorbed by the upsert) and, when done, sets the cursor from its own ``run_start``. ``bulk`` is
a Bulk API 2.0 job under way, saved before anything is read so a crash never starts a second.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from connector.model import JsonDict
from connector.sources.base import advance_cursor, from_iso, to_iso


@dataclass(frozen=True)
class Sweep:
    """A sorted sweep under way: resume from ``start`` with the sweep's own ``run_start``."""

    start: datetime
    run_start: datetime


@dataclass(frozen=True)
class BulkJob:
    """A Bulk query job under way; ``locator`` names the next result page (None: the first)."""

    job_id: str
    locator: str | None
    run_start: datetime


@dataclass(frozen=True)
class StreamState:
    """Typed form of the JSON state; ``load``/``dump`` convert."""

    cursor: datetime | None = None
    sweep: Sweep | None = None
    bulk: BulkJob | None = None

    @classmethod
    def load(cls, raw: JsonDict | None) -> StreamState:
        """Read a saved state (None or {} when the stream was never pulled)."""
        raw = raw or {}
        sweep: dict[str, Any] | None = raw.get("sweep")
        bulk: dict[str, Any] | None = raw.get("bulk")
        return cls(
            cursor=from_iso(raw["cursor"]) if raw.get("cursor") else None,
            sweep=Sweep(from_iso(sweep["from"]), from_iso(sweep["run_start"])) if sweep else None,
            bulk=(
                BulkJob(str(bulk["job_id"]), bulk.get("locator"), from_iso(bulk["run_start"]))
                if bulk
                else None
            ),
        )

    def dump(self) -> JsonDict:
        """The JSON the pull stores."""
        sweep = self.sweep
        bulk = self.bulk
        return {
            "cursor": to_iso(self.cursor) if self.cursor else None,
            "sweep": (
                {"from": to_iso(sweep.start), "run_start": to_iso(sweep.run_start)}
                if sweep
                else None
            ),
            "bulk": (
                {
                    "job_id": bulk.job_id,
                    "locator": bulk.locator,
                    "run_start": to_iso(bulk.run_start),
                }
                if bulk
                else None
            ),
        }

    def at(self, start: datetime | None, run_start: datetime) -> StreamState:
        """Mid-sweep: resume from ``start`` (no position yet: start over)."""
        return replace(self, sweep=Sweep(start, run_start) if start else None, bulk=None)

    def finished(self, run_start: datetime, lag: timedelta) -> StreamState:
        """A complete sweep: the cursor moves to the signpost of the sweep's run start."""
        return StreamState(cursor=advance_cursor(self.cursor, run_start, lag))
