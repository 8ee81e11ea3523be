"""A cycle's plan as its report keeps it: one object's plan at a time, counts in memory, the
writes and skips listed on disk and read back in plan order."""

from __future__ import annotations

from connector.reconcile.model import Plan, Planned, PlanRecord, Skip, Write


def _write(op: str, target: str, ext: str) -> Write:
    values = {"subject": ext}
    return Write(op, target, ext, ext, ext, "support_risk", None, values, values, "h", ("subject",))  # type: ignore[arg-type]


def test_parts_added_one_at_a_time_read_back_as_the_whole_plan() -> None:
    ctas = Plan(
        writes=[_write("create", "cta", "a"), _write("update", "cta", "b")],
        skips=[Skip("cta", "c", "snoozed until 2026-10-20")],
        waiting_on_jobs=1,
    )
    tasks = Plan(writes=[_write("create", "task", "a/t")])
    whole = Plan()
    record = PlanRecord()
    for part in (ctas, tasks, Plan()):
        whole.extend(part)
        record.add(part)

    assert record.counts() == whole.counts()
    assert record.waiting_on_jobs == whole.waiting_on_jobs == 1
    assert record.writes == [
        Planned(w.op, w.target, w.external_id, w.changed, w.reason) for w in whole.writes
    ]
    assert record.skips == whole.skips
    assert not record.is_empty() and PlanRecord().is_empty() and PlanRecord().writes == []
    assert list(record.iter_writes()) == record.writes  # read again: the same listing
