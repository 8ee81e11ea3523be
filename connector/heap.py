"""The garbage collector tuned for a batch of work: the start-up heap frozen, a larger young
generation.

A pull page or a rule's rows are tens of thousands of objects that live until they are stored;
with the default thresholds they are promoted and keep setting off full collections, each a
walk over every object the imports made (SQLAlchemy, pydantic, alembic): 86 of them, 8.6 s, in
a first pull at scale M; 2.3 s of evaluate's collector time at M. Frozen out of the collector,
with a larger young generation, that falls under a second. One mechanism for both, counted, so
jobs running at once in a worker's threads share one tuning and the last one out restores it.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

THRESHOLD = (50_000, 20, 20)

_lock = threading.Lock()
_users = 0
_saved = gc.get_threshold()


@contextmanager
def quiet_heap() -> Iterator[None]:
    """``with quiet_heap():`` or ``@quiet_heap()``: the tuning for the block, then restored."""
    global _users, _saved
    with _lock:
        if _users == 0:
            _saved = gc.get_threshold()
            gc.collect()
            gc.freeze()
            gc.set_threshold(*THRESHOLD)
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0:
                gc.set_threshold(*_saved)
                gc.unfreeze()  # back in the oldest generation: collectable again once dead
