"""The Zendesk emulator's data: records by id plus an index in (update time, id) order.

The incremental exports page up to a million tickets by (updated_at, id), so each collection keeps
one sorted list of packed integer keys (update time in microseconds, then id) and pages it with
``bisect``. Records are never changed in place: a write stores a new dict, so a page taken under
the lock stays a consistent snapshot while it is serialised after the lock is released.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

Record = dict[str, Any]

ID_BITS = 64
ID_MASK = (1 << ID_BITS) - 1
MICROS = 1_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def pack(ts_us: int, record_id: int) -> int:
    """One sortable integer for (time, id): compares like the tuple, costs one object."""
    return (ts_us << ID_BITS) | record_id


def unpack(key: int) -> tuple[int, int]:
    """The (time in microseconds, id) a packed key stands for."""
    return key >> ID_BITS, key & ID_MASK


def iso_to_us(text: str | None) -> int:
    """Epoch microseconds of a Zendesk time (``2024-05-01T10:00:00Z``); 0 when absent."""
    if not text:
        return 0
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    delta = parsed - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * MICROS + delta.microseconds


def us_to_iso(ts_us: int) -> str:
    """Zendesk's wire form of a time: whole seconds, UTC, ``Z``."""
    return datetime.fromtimestamp(ts_us // MICROS, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def dt_to_us(moment: datetime) -> int:
    """Epoch microseconds of an aware datetime."""
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * MICROS + delta.microseconds


class Collection:
    """Records of one kind, by id, in id order and in (update time, id) order."""

    def __init__(self, records: Iterable[Record], time_field: str = "updated_at") -> None:
        self.by_id: dict[int, Record] = {}
        self._ts: dict[int, int] = {}
        keys: list[int] = []
        for record in records:
            rid = int(record["id"])
            ts = iso_to_us(record.get(time_field) or record.get("created_at"))
            self.by_id[rid] = record
            self._ts[rid] = ts
            keys.append(pack(ts, rid))
        keys.sort()
        self.keys = keys
        self.ids = sorted(self.by_id)

    def __len__(self) -> int:
        return len(self.by_id)

    def get(self, record_id: int) -> Record | None:
        return self.by_id.get(record_id)

    def put(self, record: Record, ts_us: int) -> None:
        """Store a new version of a record, moving it to its place in update order."""
        rid = int(record["id"])
        old = self._ts.get(rid)
        if old is None:
            if not self.ids or rid > self.ids[-1]:
                self.ids.append(rid)
            else:
                insort(self.ids, rid)
        else:
            del self.keys[bisect_left(self.keys, pack(old, rid))]
        key = pack(ts_us, rid)
        if not self.keys or key > self.keys[-1]:
            self.keys.append(key)
        else:
            insort(self.keys, key)
        self.by_id[rid] = record
        self._ts[rid] = ts_us

    def in_update_order(self, start: int, stop: int) -> list[Record]:
        """Records at positions [start, stop) of the update-order index."""
        by_id = self.by_id
        return [by_id[key & ID_MASK] for key in self.keys[start:stop]]

    def position_after(self, key: int) -> int:
        """Index of the first key strictly after ``key``."""
        return bisect_right(self.keys, key)

    def position_from(self, key: int) -> int:
        """Index of the first key at or after ``key``."""
        return bisect_left(self.keys, key)

    def values(self) -> Iterator[Record]:
        """Records in id order."""
        by_id = self.by_id
        return (by_id[rid] for rid in self.ids)


class IdClock:
    """Hands out new ids and strictly increasing write times.

    Every write gets a time later than the previous one, so a record written after an export
    cursor was handed out always sorts after that cursor, even when the clock stands still.
    """

    AUDIT_ID_START = 10_000_000_000  # audits and their events number apart from records

    def __init__(self, now: Callable[[], datetime], next_id: int) -> None:
        self._now = now
        self._next_id = next_id
        self._next_audit_id = self.AUDIT_ID_START
        self._last_us = 0

    def next_id(self) -> int:
        """The next record id (tickets, users, views ... share one sequence, as seeded)."""
        rid = self._next_id
        self._next_id += 1
        return rid

    def next_audit_id(self) -> int:
        """The next audit or audit-event id, so record ids stay consecutive."""
        aid = self._next_audit_id
        self._next_audit_id += 1
        return aid

    def now_us(self) -> int:
        return dt_to_us(self._now())

    def stamp(self, at_us: int | None = None) -> int:
        """A write time: ``at_us`` (default now), moved past the previous write if needed."""
        ts = self.now_us() if at_us is None else at_us
        self._last_us = max(ts, self._last_us + 1)
        return self._last_us


COLLECTIONS = ("tickets", "users", "organizations", "groups", "ticket_fields", "views")


class ZendeskStore:
    """All collections of one Zendesk account, loaded from the demo data."""

    def __init__(
        self, data: dict[str, list[Record]], next_id: int, now: Callable[[], datetime]
    ) -> None:
        self.tickets = Collection(data.get("tickets", []))
        self.users = Collection(data.get("users", []))
        self.organizations = Collection(data.get("organizations", []))
        self.groups = Collection(data.get("groups", []))
        self.ticket_fields = Collection(data.get("ticket_fields", []))
        self.views = Collection(data.get("views", []))
        highest = max((c.ids[-1] for c in self._all() if c.ids), default=0)
        self.clock = IdClock(now, max(next_id, highest + 1))

    def _all(self) -> list[Collection]:
        return [self.collection(name) for name in COLLECTIONS]

    def collection(self, name: str) -> Collection:
        """A collection by its API name (``tickets``, ``users``, ...)."""
        if name not in COLLECTIONS:
            raise KeyError(name)
        coll: Collection = getattr(self, name)
        return coll

    def user_by_email(self, email: str) -> Record | None:
        wanted = email.lower()
        for user in self.users.by_id.values():
            if str(user.get("email") or "").lower() == wanted:
                return user
        return None
