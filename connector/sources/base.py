"""What every source shares: a page loop that refuses to go round in circles, and cursor maths.

A sorted sweep checkpoints after each page (state rides with the page's rows), so it must stay
sorted: a cursor value going backwards means the API ignored the ORDER BY and a checkpoint
would skip rows, so it raises. The saved cursor is a signpost: the run's start minus a lag for
transactions that commit late, never past the run's start and never behind the old cursor.

The page loop can also send the next page's request early (``read_ahead``): while the pull
builds and stores page n's rows, a thread waits for page n + 1's bytes. Only the HTTP exchange
runs there (the socket and TLS release the GIL); decoding, rows and the store stay in the
pull's thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from connector.errors import FatalApiError
from connector.transforms import source_instant

P = TypeVar("P")


class RepeatedTokenError(FatalApiError):
    """The API handed back a next-page token it gave before: following it would loop."""


class SortOrderError(FatalApiError):
    """A cursor value went backwards inside a sweep that should be sorted by it."""


class Prefetch:
    """At most one request sent ahead, in a thread, and handed to the same request when made.

    ``start(key, send)`` runs ``send()`` (a ``Session.request``) in a thread; ``take(key)``
    waits for it and returns ``(True, response)``, or raises what ``send`` raised, so the
    caller's own error handling and retries see it as if it had sent the request itself.
    A different key, or nothing started: ``(False, None)``, and the caller sends. The
    session is never used by two threads at once: the client's next request is the one that
    was started, and ``take`` and ``discard`` wait for the thread first.
    """

    def __init__(self) -> None:
        self._key: Any = None
        self._thread: threading.Thread | None = None
        self._outcome: tuple[bool, Any] = (False, None)  # (raised, response or exception)

    @property
    def pending(self) -> bool:
        return self._thread is not None

    def start(self, key: Any, send: Callable[[], Any]) -> None:
        self.discard()

        def run() -> None:
            try:
                self._outcome = (False, send())
            except BaseException as exc:  # handed to the caller of take(), which raises it
                self._outcome = (True, exc)

        self._key = key
        self._thread = threading.Thread(target=run, name="pull read-ahead", daemon=True)
        self._thread.start()

    def take(self, key: Any) -> tuple[bool, Any]:
        if self._thread is None:
            return False, None
        match = key == self._key
        raised, value = self._wait()
        if not match:
            return False, None
        if raised:
            raise value
        return True, value

    def discard(self) -> None:
        """Wait for a request in flight and drop its answer (the call was made all the same)."""
        if self._thread is not None:
            self._wait()

    def _wait(self) -> tuple[bool, Any]:
        assert self._thread is not None
        self._thread.join()
        outcome, self._outcome, self._thread, self._key = self._outcome, (False, None), None, None
        return outcome


class _Ahead:
    """The pull's offer box while a stream is read (``read_ahead``): paginate leaves in it the
    function that sends its next request early, or calls it at once when ``eager()`` says so."""

    def __init__(self, eager: Callable[[], bool] | None) -> None:
        self.offers: list[Callable[[], None]] = []
        self.eager = eager

    def offer(self, send: Callable[[], None]) -> None:
        if self.eager is not None and self.eager():
            send()
        else:
            self.offers.append(send)


_OFFER: ContextVar[_Ahead | None] = ContextVar("read_ahead", default=None)


@contextmanager
def read_ahead(eager: Callable[[], bool] | None = None) -> Iterator[Callable[[], None]]:
    """Within the block, ``paginate`` offers each next page's request; call the function this
    yields after taking a page to send it now (not after the last page, nor on a stop: then
    the pull does not call it, and no request is made that would not have been made).

    ``eager``: asked as soon as a page's next token is known (before the source builds its
    rows); true sends the request then, so building the rows overlaps the answer too, not only
    storing them. The pull passes "no stop asked"; the last page has no token to send.
    """
    ahead = _Ahead(eager)
    token = _OFFER.set(ahead)

    def go() -> None:
        if ahead.offers:
            ahead.offers.pop()()

    try:
        yield go
    finally:
        _OFFER.reset(token)


def paginate(
    first: Callable[[], P],
    fetch: Callable[[str], P],
    next_token: Callable[[P], str | None],
    *,
    prefetch: Callable[[str], Prefetch | None] | None = None,
) -> Iterator[P]:
    """Yield the first page, then follow next-page tokens until there is none.

    ``prefetch(token)`` sends the request ``fetch(token)`` will make, early, and returns the
    ``Prefetch`` holding it (None: declined); offered to the pull under ``read_ahead`` only.
    """
    seen: set[str] = set()
    sent: list[Prefetch] = []
    box = _OFFER.get() if prefetch is not None else None
    try:
        page = first()
        while True:
            if box is not None and prefetch is not None:
                box.offers.clear()
                ahead = _peek(next_token, page)
                if ahead is not None and ahead not in seen:
                    box.offer(lambda t=ahead: _send_ahead(prefetch, t, sent))  # type: ignore[misc]
            yield page
            if box is not None:
                box.offers.clear()
            token = next_token(page)
            if token is None:
                return
            if token in seen:
                raise RepeatedTokenError(
                    f"next-page token repeated: {token}", code="REPEATED_TOKEN"
                )
            seen.add(token)
            page = fetch(token)
            sent.clear()  # taken by fetch
    finally:
        for pending in sent:  # closed early (a stop, an error): wait for it, drop its answer
            pending.discard()


def _peek(next_token: Callable[[P], str | None], page: P) -> str | None:
    """The next token, or None where asking raises (it raises again, in order, after the page)."""
    try:
        return next_token(page)
    except Exception:
        return None


def _send_ahead(
    prefetch: Callable[[str], Prefetch | None], token: str, sent: list[Prefetch]
) -> None:
    started = prefetch(token)
    if started is not None:
        sent.append(started)


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
    instant = source_instant(text)  # the API's own form, kept for the store (no isoformat)
    if instant is not None:
        return instant
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"timestamp without a zone: {text!r}")
    return moment.astimezone(UTC)
