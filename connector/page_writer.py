"""A stream's pages committed by a thread of their own, in order, while the pull reads on.

Most of an insert's and a commit's work is SQLite's own, which runs without the GIL, so while
page n is stored the pull can decode page n + 1 and build its rows. The pull hands page n + 1
over only once page n is committed, so it is never more than one page ahead (in memory, and in
requests made past a failure), and each page still commits on its own, rows and cursor
together, after every page before it: a kill loses only pages not yet committed, whose cursors
were not saved either, so the next pull resumes from the last committed page as before.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")

_END = object()


class PageWriter(Generic[T]):
    """``put`` hands a page to ``commit`` in a thread once the page before is committed;
    ``close`` waits for every page put.

    A failed commit stops the writing: the error is raised to the pull by its next ``put`` (the
    page it brings is not committed) or by ``close``, as if the pull had committed itself.
    """

    def __init__(self, commit: Callable[[T], None], *, name: str = "pull store") -> None:
        self._commit = commit
        self._waiting: queue.Queue[object] = queue.Queue(maxsize=1)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def put(self, page: T) -> None:
        self._waiting.join()  # the page before is committed (or failed)
        self._raise()
        self._waiting.put(page)

    def close(self) -> None:
        """Every page put is committed (or the writer failed): raise its error, if any."""
        if self._thread.is_alive():
            self._waiting.join()
            self._waiting.put(_END)
            self._thread.join()
        self._raise()

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _run(self) -> None:
        while True:
            page = self._waiting.get()
            try:
                if page is _END:
                    return
                self._commit(page)  # type: ignore[arg-type]
            except BaseException as exc:  # raised to the pull by put() or close()
                self._error = exc
            finally:
                self._waiting.task_done()
