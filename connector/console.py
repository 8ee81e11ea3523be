"""Console rendering for the CLI: progress while pulling, tables after. Nothing here decides."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from connector.model import Page, StreamSpec
from connector.pull import Progress as PullProgress
from connector.pull import PullReport

console = Console()
err = Console(stderr=True)


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
