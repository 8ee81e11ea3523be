"""The deterministic demo org: every rule of RULES.md has a story account and a silent neighbour.

``generate`` is pure: the same scale, seed and anchor give identical data. Scale S is the story
org; M and L put the S org first and add background accounts drawn from a seeded
``random.Random``. The background only depends on the anchor's *date*, so ``load_or_generate``
caches it per day and splices a freshly generated story org (whose sub-day thresholds, such as
"48 hours", are measured from the exact anchor) in front of it.
"""

from __future__ import annotations

import logging
import os
import pickle
import tempfile
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from connector.sandbox.demo_data import DemoData
from connector.sandbox.seed.bulk import BULK_ID_START, BULK_ZD_START, generate_bulk
from connector.sandbox.seed.bulk_core import paused_gc
from connector.sandbox.seed.core import Org
from connector.sandbox.seed.doc import render_story_table
from connector.sandbox.seed.expect_rules import expected_outputs
from connector.sandbox.seed.stories import add_stories
from connector.sandbox.seed.users import add_users, add_zendesk_staff

if TYPE_CHECKING:
    from connector.sandbox.state import SandboxConfig

log = logging.getLogger(__name__)
GENERATOR_VERSION = 2  # bump when generated data changes, so cached orgs are rebuilt


@dataclass(frozen=True)
class Scale:
    """Target sizes of one scale: total accounts (the S story org included) and per-account
    means of the background's records."""

    accounts: int
    contacts_per_account: float = 10
    opportunities_per_account: float = 5
    tasks_per_account: float = 20
    tickets_per_account: float = 50
    events_per_account: float = 5
    surveys_per_account: float = 8
    milestones_per_account: float = 2
    usage_weeks: int = 12


SCALES: dict[str, Scale] = {
    "S": Scale(accounts=0),  # the story org alone (77 accounts; the seed only varies M and L)
    "M": Scale(accounts=5_000),  # ~50k contacts, ~25k opportunities, ~100k tasks, ~250k tickets
    "L": Scale(accounts=20_000),  # 1M tickets; everything else 4 x M
}


def generate(scale: str, seed: int, anchor: datetime) -> DemoData:
    """Generate the demo org of ``scale`` around ``anchor`` (pure and deterministic)."""
    anchor = _normalise(anchor)
    demo = generate_stories(seed, anchor, _check(scale))
    if SCALES[scale].accounts:
        _splice(demo, generate_bulk(SCALES[scale], seed, anchor.date(), demo))
    return demo


def generate_stories(seed: int, anchor: datetime, scale: str = "S") -> DemoData:
    """The S org: fixed people, then every story account and its neighbours."""
    org = Org(_normalise(anchor), seed)
    add_users(org)
    add_zendesk_staff(org)
    add_stories(org)
    demo = org.demo(scale, seed)
    expected = {act: expected_outputs(demo, act) for act in {s.act for s in demo.stories}}
    demo.stories = [
        replace(s, account_outputs=tuple(sorted(expected[s.act].get(s.account_id, ()))))
        for s in demo.stories
    ]
    return demo


def load_or_generate(config: SandboxConfig) -> DemoData:
    """The org a sandbox serves: S fresh; M and L with their background cached per day."""
    scale, seed = _check(config.scale), config.seed
    anchor = _normalise(config.anchor or datetime.now(UTC))
    demo = generate_stories(seed, anchor, scale)
    if not SCALES[scale].accounts:
        return demo
    cache_dir = config.cache_dir or Path.home() / ".cache" / "cs-connector" / "sandbox"
    path = Path(cache_dir) / (
        f"bulk-{scale}-{seed}-{anchor.date().isoformat()}-v{GENERATOR_VERSION}.pickle"
    )
    bulk = _read_cache(path)
    if bulk is None:
        bulk = generate_bulk(SCALES[scale], seed, anchor.date(), demo)
        try:
            _write_cache(path, bulk)
        except OSError as exc:  # a read-only home must not stop the sandbox
            log.warning("sandbox: cannot cache the %s org in %s: %s", scale, path.parent, exc)
    _splice(demo, bulk)
    return demo


def _splice(demo: DemoData, bulk: DemoData) -> None:
    for name, records in bulk.salesforce.items():
        demo.salesforce.setdefault(name, []).extend(records)
    for name, records in bulk.zendesk.items():
        demo.zendesk.setdefault(name, []).extend(records)
    for prefix, n in bulk.id_counters.items():
        demo.id_counters[prefix] = max(n, demo.id_counters.get(prefix, 0))
    demo.zendesk_next_id = max(demo.zendesk_next_id, bulk.zendesk_next_id)


def _read_cache(path: Path) -> DemoData | None:
    try:
        with path.open("rb") as fh, paused_gc():
            data = pickle.load(fh)  # noqa: S301 - our own cache file, written below
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError):
        return None
    return data if isinstance(data, DemoData) else None


def _write_cache(path: Path, bulk: DemoData) -> None:
    """Write atomically (temporary file + rename) so readers never see half a pickle."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh, paused_gc():
            pickle.dump(bulk, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _normalise(anchor: datetime) -> datetime:
    anchor = anchor.replace(tzinfo=UTC) if anchor.tzinfo is None else anchor.astimezone(UTC)
    return anchor.replace(microsecond=0)


def _check(scale: str) -> str:
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; expected one of {', '.join(SCALES)}")
    return scale


__all__ = [
    "BULK_ID_START",
    "BULK_ZD_START",
    "GENERATOR_VERSION",
    "SCALES",
    "Scale",
    "generate",
    "generate_stories",
    "load_or_generate",
    "render_story_table",
]
