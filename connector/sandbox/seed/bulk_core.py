"""Fast record making for the background of scales M and L.

Times are (days before the anchor's date, second of the day) pairs formatted from lookup tables,
so a million timestamps cost string joins, not ``strftime`` calls. Every background time lies
before midnight of the anchor's date: the background depends on that date only, and is cached
per day. Nested values (empty lists, ``via``, custom-field lists) are shared between background
tickets to keep memory down: treat generated records as immutable (the emulators copy on write).
"""

from __future__ import annotations

import gc
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from connector.sandbox.demo_data import DemoData
from connector.sandbox.ids import checksum
from connector.sandbox.seed.core import SOBJECTS, ZENDESK_COLLECTIONS, key_prefixes

Record = dict[str, Any]
B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
PAIRS = [a + b for a in B62 for b in B62]
_UP = [int(c.isupper()) for c in B62]
_UP_PAIRS = [_UP[i] | _UP[j] << 1 for i in range(62) for j in range(62)]
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
TOD = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86_400)]
BULK_ID_START = 1_000_000  # background ids never meet the story org's (counters < 1e6)
BULK_ZD_START = 1_000_000


class FastMinter:
    """Mints the same ids as :class:`~connector.sandbox.ids.IdMinter`, without a lock and with
    the checksum of each five-character chunk memoised (the background mints ~1.4M ids at L)."""

    def __init__(self, start: int) -> None:
        self._start = start
        self._next: dict[str, int] = {}
        self._sums: dict[str, str] = {}

    def mint(self, prefix: str) -> str:
        n = self._next.get(prefix, self._start)
        self._next[prefix] = n + 1
        hi, lo = divmod(n, 62**5)
        head = f"{prefix}5j0{B62[hi // 238_328]}{PAIRS[hi // 62 % 3844]}{B62[hi % 62]}"
        x, y, z = lo // 14_776_336, lo // 3844 % 3844, lo % 3844
        bits = _UP[x] | _UP_PAIRS[y] << 1 | _UP_PAIRS[z] << 3
        sums = self._sums
        a, b = head[:5], head[5:]
        return (
            head
            + B62[x]
            + PAIRS[y]
            + PAIRS[z]
            + (sums.get(a) or self._sum(a))
            + (sums.get(b) or self._sum(b))
            + _SUFFIX[bits]
        )

    def _sum(self, chunk: str) -> str:
        value = checksum(chunk * 3)[0]
        self._sums[chunk] = value
        return value

    def state(self) -> dict[str, int]:
        return dict(self._next)


class Clock:
    """Wire-format dates and times counted back from midnight of the anchor's date."""

    def __init__(self, day0: date, span: int = 1200) -> None:
        self.day0 = day0
        self.days = [(day0 - timedelta(days=n)).isoformat() for n in range(-400, span + 1)]
        self.epoch0 = int(datetime(day0.year, day0.month, day0.day, tzinfo=UTC).timestamp())

    def date(self, days_ago: int) -> str:
        """``YYYY-MM-DD`` of ``days_ago`` days back (negative: ahead)."""
        return self.days[days_ago + 400]

    def sf(self, days_ago: int, sec: int) -> str:
        return f"{self.days[days_ago + 400]}T{TOD[sec]}.000+0000"

    def zd(self, days_ago: int, sec: int) -> str:
        return f"{self.days[days_ago + 400]}T{TOD[sec]}Z"

    def epoch(self, days_ago: int, sec: int) -> int:
        return self.epoch0 - days_ago * 86_400 + sec


@dataclass
class Bulk:
    """The background under construction."""

    rng: random.Random
    clock: Clock
    base: DemoData
    minter: FastMinter = field(default_factory=lambda: FastMinter(BULK_ID_START))
    prefixes: dict[str, str] = field(default_factory=lambda: dict(key_prefixes()))
    sf: dict[str, list[Record]] = field(default_factory=lambda: {n: [] for n in SOBJECTS})
    zd: dict[str, list[Record]] = field(
        default_factory=lambda: {n: [] for n in ZENDESK_COLLECTIONS}
    )
    zd_next: int = BULK_ZD_START

    def __post_init__(self) -> None:
        self.users = self.base.users
        self.integration = self.users["integration"]
        staff = [u for u in self.base.zendesk["users"] if u["role"] != "end-user"]
        self.agents = [u["id"] for u in staff if u["role"] == "agent"]
        self.group = next(g["id"] for g in self.base.zendesk["groups"] if g["name"] == "Support")
        self.fields = [f["id"] for f in self.base.zendesk["ticket_fields"] if f.get("removable")]

    def add(
        self,
        sobject: str,
        created: tuple[int, int],
        modified: tuple[int, int],
        by: str,
        fields: Record,
    ) -> Record:
        """A record with audit fields; ``modified`` is moved to be no earlier than ``created``."""
        if modified[0] > created[0] or (modified[0] == created[0] and modified[1] < created[1]):
            modified = created
        stamp = self.clock.sf(*modified)
        rid = self.minter.mint(self.prefixes[sobject])
        system = (
            self.clock.sf(modified[0], modified[1] + 1_020)
            if rid[-4] in "0123456789" and modified[1] < 85_000
            else stamp
        )  # a later system touch on some records
        rec: Record = {
            "Id": rid,
            "IsDeleted": False,
            "CreatedDate": self.clock.sf(*created),
            "CreatedById": by,
            "LastModifiedDate": stamp,
            "LastModifiedById": by,
            "SystemModstamp": system,
        }
        rec.update(fields)
        self.sf[sobject].append(rec)
        return rec

    def when(self, newest: int, oldest: int) -> tuple[int, int]:
        """A random (days ago, second) between ``newest`` and ``oldest`` days back."""
        r = self.rng.random
        return newest + int(r() * (oldest - newest + 1)), int(r() * 86_400)

    def zd_id(self) -> int:
        n = self.zd_next
        self.zd_next += 1
        return n

    def demo(self) -> DemoData:
        return DemoData(
            scale=self.base.scale,
            seed=self.base.seed,
            anchor=self.base.anchor,
            salesforce=self.sf,
            zendesk=self.zd,
            id_counters=self.minter.state(),
            zendesk_next_id=self.zd_next,
        )


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic collector while making or loading millions of acyclic dicts."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def count(rng: random.Random, mean: float) -> int:
    """A count around ``mean`` (uniform over +-40 %), so totals land near their targets."""
    low, high = int(mean * 0.6), int(round(mean * 1.4))
    return rng.randint(low, max(low, high))
