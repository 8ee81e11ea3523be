"""A cycle that plans objects written by Id (personas, account health) in key ranges, over real
HTTPS: the same calls, of the same sizes, as planning each object whole; an idle cycle after it
writes nothing. The ranges here are 7 outputs, so every object comes in many parts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from connector.bootstrap import Deps, bootstrap
from connector.config import PushSettings
from connector.demo import sandbox_settings
from connector.reconcile import stages
from connector.sync import CycleReport, run_cycle


@pytest.fixture(autouse=True)
def cycles_back_to_back(sandbox, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(sandbox.config, "zendesk_incremental_per_min", 0)


def _deps(sandbox: Any, store: Path, bulk_threshold: int | None = None) -> Deps:
    settings = sandbox_settings(sandbox, f"sqlite:///{store}")
    if bulk_threshold is not None:
        settings = settings.model_copy(update={"push": PushSettings(bulk_threshold=bulk_threshold)})
    return bootstrap(settings)


def _cycle(deps: Deps, sandbox: Any) -> CycleReport:
    as_of = sandbox.state.demo.anchor.isoformat()
    report = run_cycle(deps, as_of=as_of)
    assert report.status == "completed", report.error
    return report


def _writes(sandbox: Any) -> list[tuple[str, str, int]]:
    """Each write call: method, path (job ids left out), records written."""
    out = []
    for c in sandbox.calls.writes("salesforce"):
        path = "/".join("ID" if part.startswith("750") else part for part in c.path.split("/"))
        out.append((c.method, path, c.records_written))
    return out


def _first_cycles(
    sandbox: Any, store: Path, chunk: int, monkeypatch: pytest.MonkeyPatch, **kw: Any
) -> Iterator[tuple[CycleReport, list[tuple[str, str, int]]]]:
    """From a reset org: three cycles (Bulk jobs land in the next), with their write calls."""
    sandbox.reset()
    monkeypatch.setattr(sandbox.config, "zendesk_incremental_per_min", 0)
    monkeypatch.setattr(stages, "CHUNK", chunk)
    deps = _deps(sandbox, store, **kw)
    try:
        for _ in range(3):
            sandbox.calls.clear()
            report = _cycle(deps, sandbox)
            yield report, _writes(sandbox)
    finally:
        deps.engine.dispose()


@pytest.mark.sqlite_store
@pytest.mark.parametrize("bulk_threshold", [None, 50], ids=["collections", "bulk"])
def test_objects_planned_in_key_ranges_make_the_calls_whole_objects_make(  # type: ignore[no-untyped-def]
    sandbox, tmp_path, monkeypatch, bulk_threshold
) -> None:
    whole = list(_first_cycles(sandbox, tmp_path / "whole.db", 1_000_000, monkeypatch,
                               bulk_threshold=bulk_threshold))  # fmt: skip
    parts = list(_first_cycles(sandbox, tmp_path / "parts.db", 7, monkeypatch,
                               bulk_threshold=bulk_threshold))  # fmt: skip

    for (w, w_calls), (p, p_calls) in zip(whole, parts, strict=True):
        assert p_calls == w_calls
        assert w.plan is not None and p.plan is not None
        assert p.plan.counts() == w.plan.counts()
        assert sorted(p.plan.iter_writes()) == sorted(w.plan.iter_writes())
    first = parts[0][0]
    assert first.plan is not None and first.plan.counts()["persona"]["update"] > 7 * 20
    if bulk_threshold is not None:
        assert first.push is not None and first.push.bulk_jobs == whole[0][0].push.bulk_jobs  # type: ignore[union-attr]

    sandbox.calls.clear()
    monkeypatch.setattr(stages, "CHUNK", 7)
    deps = _deps(sandbox, tmp_path / "parts.db", bulk_threshold)
    try:
        as_of = (sandbox.state.demo.anchor + timedelta(minutes=15)).isoformat()
        idle = run_cycle(deps, as_of=as_of, exclude_rules=("risk_weekly_update", "nps_survey_due"))
    finally:
        deps.engine.dispose()
    assert idle.status == "completed" and sandbox.calls.writes() == []
