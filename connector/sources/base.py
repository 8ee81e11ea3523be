"""What every source shares: a page loop that refuses to go round in circles, and cursor maths.

A sorted sweep checkpoints after each page (state rides with the page's rows), so it must stay
sorted: a cursor value going backwards means the API ignored the ORDER BY and a checkpoint
would skip rows, so it raises. The saved cursor is a signpost: the run's start minus a lag for
transactions that commit late, never past the run's start and never behind the old cursor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from connector.errors import FatalApiError

P = TypeVar("P")


class RepeatedTokenError(FatalApiError):
    """The API handed back a next-page token it gave before: following it would loop."""


class SortOrderError(FatalApiError):
    """A cursor value went backwards inside a sweep that should be sorted by it."""


def paginate(
    first: Callable[[], P], fetch: Callable[[str], P], next_token: Callable[[P], str | None]
) -> Iterator[P]:
    """Yield the first page, then follow next-page tokens until there is none."""
    seen: set[str] = set()
    page = first()
    yield page
    while (token := next_token(page)) is not None:
        if token in seen:
            raise RepeatedTokenError(f"next-page token repeated: {token}", code="REPEATED_TOKEN")
        seen.add(token)
        page = fetch(token)
        yield page


def signpost(run_start: datetime, lag: timedelta) -> datetime:
    """The cursor a sweep started at ``run_start`` may save: never past the run's start."""
    return run_start - max(lag, timedelta(0))


def advance_cursor(old: datetime | None, run_start: datetime, lag: timedelta) -> datetime:
    """The new cursor after a complete sweep: the signpost, but never behind ``old``."""
    new = signpost(run_start, lag)
    return new if old is None or new > old else old


def check_order(previous: datetime | None, current: datetime, *, stream: str) -> None:
    """Raise when ``current`` sorts before ``previous`` (the ORDER BY is not holding)."""
    if previous is not None and current < previous:
        raise SortOrderError(
            f"{stream}: cursor went backwards ({to_iso(current)} after {to_iso(previous)}); "
            "the sweep is not sorted, so its checkpoints cannot be trusted",
            code="UNSORTED",
        )


def to_iso(moment: datetime) -> str:
    """Aware UTC ISO-8601 with milliseconds, the form states keep."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: cursors are timezone-aware UTC")
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def from_iso(text: str) -> datetime:
    """Parse ISO-8601 (``Z``, ``+00:00`` or ``+0000``) into an aware UTC datetime."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"timestamp without a zone: {text!r}")
    return moment.astimezone(UTC)
