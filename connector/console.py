"""Console rendering for the CLI: progress while pulling, tables after. Nothing here decides."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from connector.model import Page, StreamSpec
from connector.pull import Progress as PullProgress
from connector.pull import PullReport

console = Console()
err = Console(stderr=True, soft_wrap=True)


@contextmanager
def pull_progress(specs: list[StreamSpec], enabled: bool = True) -> Iterator[PullProgress]:
    """A progress line per stream: records pulled and pages so far."""
    if not enabled:
        yield lambda spec, page: None
        return
    bar = Progress(
        TextColumn("{task.fields[stream]:<28}"),
        BarColumn(bar_width=None),
        TextColumn("{task.completed:>9,} records"),
        TextColumn("{task.fields[pages]} pages"),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    )
    tasks = {s.name: bar.add_task("", total=None, stream=s.name, pages=0) for s in specs}

    def update(spec: StreamSpec, page: Page) -> None:
        task = tasks[spec.name]
        pages = bar.tasks[task].fields["pages"] + 1
        bar.update(task, advance=len(page.rows), pages=pages)
        if page.done:
            bar.update(task, total=bar.tasks[task].completed)

    with bar:
        yield update


def pull_table(report: PullReport, title: str) -> Table:
    table = Table(title=title)
    for col, justify in (
        ("stream", "left"),
        ("source", "left"),
        ("records", "right"),
        ("deleted", "right"),
        ("issues", "right"),
        ("API calls", "right"),
        ("seconds", "right"),
        ("status", "left"),
    ):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for s in report.streams:
        status = s.status if not s.note else f"{s.status}: {s.note}"
        table.add_row(
            s.stream,
            s.source,
            f"{s.records:,}",
            str(s.deleted),
            str(s.issues),
            str(s.api_calls),
            f"{s.seconds:.2f}",
            status,
        )
    return table


def evaluation_table(report: Any) -> Table:
    """Outputs per rule, and the rules disabled with the inputs they miss."""
    covered = "every customer" if report.accounts is None else f"{report.accounts} accounts"
    table = Table(
        title=f"Evaluated at {report.now.isoformat()} in {report.seconds:.2f} s: "
        f"{report.total} desired outputs",
        caption=f"Covered {covered}: {report.scope}" if report.scope else None,
    )
    table.add_column("rule")
    table.add_column("outputs", justify="right")
    for rule, n in sorted(report.outputs.items()):
        table.add_row(rule, str(n))
    for rule, missing in sorted(report.disabled.items()):
        table.add_row(f"[dim]{rule}[/dim]", f"disabled: {', '.join(missing)}")
    return table


def explanation(result: Any, only_firing: bool = False) -> None:
    """One account, rule by rule, with the figures that decided."""
    console.print(f"[bold]{result.account_name}[/bold] ({result.account_id})")
    if result.overrides:
        shown = ", ".join(f"{k} = {v}" for k, v in result.overrides.items())
        console.print(f"Per-account overrides: {shown}")
    for r in result.rules:
        if only_firing and not r.outputs:
            continue
        if r.disabled:
            console.print(f"[dim]- {r.rule}: disabled (unmapped {r.disabled})[/dim]")
            continue
        mark = "[red]FIRES[/red]" if r.fires else "[green]silent[/green]"
        console.print(f"- {r.rule}: {mark}")
        if r.evidence:
            for line in r.evidence.splitlines():
                console.print(f"    {line}", markup=False, highlight=False)
        for key in r.outputs:
            console.print(f"    -> {key}", markup=False, highlight=False)


SYNC_COLUMNS = ("created", "updated", "closed", "skipped", "failed", "pending")


def sync_table(summary: dict[str, Any], title: str) -> Table:
    """Per output object: created, updated, closed, skipped, failed (and Zendesk jobs pending)."""
    table = Table(title=title, title_justify="left")
    table.add_column("object")
    for name in SYNC_COLUMNS:
        table.add_column(name, justify="right")
    for target, row in summary["objects"].items():
        table.add_row(target, *(str(row.get(name, 0)) for name in SYNC_COLUMNS))
    return table


def plan_table(plan: Any, title: str) -> Table:
    """Per output object: what a dry run would create, update and close, and what it skips."""
    table = Table(title=title, title_justify="left")
    table.add_column("object")
    for name in ("create", "update", "close", "delete", "skip"):
        table.add_column(name, justify="right")
    for target, row in plan.counts().items():
        table.add_row(
            target, *(str(row[n]) for n in ("create", "update", "close", "delete", "skip"))
        )
    return table


def plan_lines(plan: Any, limit: int = 20) -> list[str]:
    """The plan's writes, one line each (key and the fields that would change), per object."""
    lines: list[str] = []
    shown: dict[tuple[str, str], int] = {}
    for w in plan.writes:
        n = shown.get((w.target, w.op), 0)
        shown[(w.target, w.op)] = n + 1
        if n == limit:
            lines.append(f"  {w.op} {w.target}: ... (more: --json lists every write)")
        if n >= limit:
            continue
        fields = ", ".join(w.changed) if w.op == "update" else ""
        why = f" ({w.reason})" if w.reason else ""
        lines.append(
            f"  {w.op} {w.target} {w.external_id}" + (f": {fields}" if fields else "") + why
        )
    return lines
