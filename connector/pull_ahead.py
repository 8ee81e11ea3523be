"""Read-ahead for the pull: the next page is fetched while the current one is stored.

A source's pages come from a generator that calls the API, decodes the answer and builds rows;
the pull then writes each page with its cursor in one transaction. ``ReadAhead`` runs the
generator in a thread of its own, exactly one page ahead of the consumer, so the API's serving
time and the decoding overlap the store's work (sqlite3 and the network release the GIL).

What it keeps:

- Order and the checkpoint: pages are handed over one at a time, in order, and only the
  consumer commits, so a kill loses at most the page read ahead, which was never committed and
  is read again from the saved cursor.
- Memory: one page in the consumer's hands, at most one more in flight or waiting.
- Calls: the generator runs the same code, in the same order, one call at a time; it only
  starts earlier. The consumer's ``ahead`` predicate can decline a read-ahead (the last page,
  or a stop requested), so a stop costs no call the pull would not have made before.
- Errors: anything the generator raises surfaces from ``next()`` in the consumer, the same
  exception object with its own type, after every page before it has been handed over.
- Thread use: one generator, one thread at a time; ``close()`` waits for the thread to finish
  (and for the generator's own ``finally`` to run), so the source's client is never used by
  two threads at once.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Generic, TypeVar

T = TypeVar("T")

_ITEM, _END, _ERROR = "item", "end", "error"


class ReadAhead(Generic[T]):
    """``for item in ReadAhead(items): ...`` with ``items`` advanced in a background thread.

    ``ahead(item)`` is asked in the consumer's thread when it takes ``item``: true starts
    producing the next one at once; false waits until the consumer asks for it. Use as a
    context manager (or call ``close()``) so an early exit stops the thread.
    """

    def __init__(
        self,
        items: Iterable[T],
        *,
        ahead: Callable[[T], bool] = lambda _item: True,
        name: str = "read-ahead",
    ) -> None:
        self._items = iter(items)
        self._ahead = ahead
        self._want = threading.Semaphore(0)  # one release: produce one more item
        self._ready: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._started = False
        self._asked = False  # an item is being produced (or waits) that nobody has taken
        self._finished = False
        self._closing = False

    def __iter__(self) -> Iterator[T]:
        return self

    def __enter__(self) -> ReadAhead[T]:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def __next__(self) -> T:
        if self._finished:
            raise StopIteration
        if not self._asked:
            self._ask()
        kind, value = self._ready.get()
        self._asked = False
        if kind == _ITEM:
            if self._ahead(value):
                self._ask()
            return value  # type: ignore[no-any-return]
        self._finished = True
        self._thread.join()
        if kind == _ERROR:
            raise value
        raise StopIteration

    def close(self) -> None:
        """Stop producing (an item being produced is finished, then dropped) and wait."""
        self._finished = True
        if not self._started:
            return
        self._closing = True
        self._want.release()
        self._thread.join()

    def _ask(self) -> None:
        self._asked = True
        if not self._started:
            self._started = True
            self._thread.start()
        self._want.release()

    def _run(self) -> None:
        try:
            while True:
                self._want.acquire()
                if self._closing:
                    return
                try:
                    item = next(self._items)
                except StopIteration:
                    self._ready.put((_END, None))
                    return
                except BaseException as exc:  # handed to the consumer, which raises it
                    self._ready.put((_ERROR, exc))
                    return
                self._ready.put((_ITEM, item))
        finally:
            close = getattr(self._items, "close", None)
            if close is not None:
                close()  # a generator's own finally runs here, in the thread that ran it
