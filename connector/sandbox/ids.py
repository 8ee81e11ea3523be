"""Salesforce record ids: 15-character case-sensitive ids and their 18-character form.

The 18-character form appends a 3-character checksum of the case of the first 15 characters,
so case-insensitive tools can tell ids apart. The sandbox mints ids exactly as an org does
(key prefix, pod, counter) so that the connector's id handling meets real ids.
"""

from __future__ import annotations

import threading

_SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_POD = "5j"


def checksum(id15: str) -> str:
    """The three-character suffix that turns a 15-character id into its 18-character form."""
    if len(id15) != 15:
        raise ValueError(f"expected a 15-character id, got {id15!r}")
    out = []
    for chunk in range(3):
        bits = 0
        for i, ch in enumerate(id15[chunk * 5 : chunk * 5 + 5]):
            if "A" <= ch <= "Z":
                bits |= 1 << i
        out.append(_SUFFIX_ALPHABET[bits])
    return "".join(out)


def to18(record_id: str) -> str:
    """Return the 18-character form of a 15- or 18-character id (18 is checked, not trusted)."""
    if len(record_id) == 18:
        if checksum(record_id[:15]) != record_id[15:]:
            raise ValueError(f"bad id checksum: {record_id!r}")
        return record_id
    return record_id + checksum(record_id)


def is_valid(record_id: str) -> bool:
    """True for a well-formed 15- or 18-character id (alphanumeric, correct suffix)."""
    if len(record_id) not in (15, 18) or not record_id.isalnum() or not record_id.isascii():
        return False
    return len(record_id) == 15 or checksum(record_id[:15]) == record_id[15:]


def _base62(n: int, width: int) -> str:
    digits = []
    while n:
        n, r = divmod(n, 62)
        digits.append(_BASE62[r])
    s = "".join(reversed(digits)) or "0"
    if len(s) > width:
        raise OverflowError("id counter exhausted")
    return s.rjust(width, "0")


class IdMinter:
    """Mints 18-character ids per key prefix, deterministically from a counter."""

    def __init__(self, start: int = 1) -> None:
        self._next: dict[str, int] = {}
        self._start = start
        self._lock = threading.Lock()

    def mint(self, key_prefix: str) -> str:
        if len(key_prefix) != 3:
            raise ValueError(f"key prefix must have 3 characters: {key_prefix!r}")
        with self._lock:
            n = self._next.get(key_prefix, self._start)
            self._next[key_prefix] = n + 1
        return to18(key_prefix + _POD + "0" + _base62(n, 9))

    def state(self) -> dict[str, int]:
        with self._lock:
            return dict(self._next)

    def restore(self, state: dict[str, int]) -> None:
        with self._lock:
            self._next = dict(state)
