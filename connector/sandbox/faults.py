"""Injectable faults, switchable per test and while the sandbox runs.

Every random decision comes from one seeded generator, so a failing test replays exactly when
run alone with the same seed. Faults are plain data: tests set them through
``Sandbox.faults.update(...)`` in-process or ``POST /__sandbox/faults`` over HTTP.
"""

from __future__ import annotations

import dataclasses
import random
import threading
from dataclasses import dataclass, field
from typing import Any

SALESFORCE = "salesforce"
ZENDESK = "zendesk"


@dataclass
class FaultSettings:
    """What goes wrong. Shares are probabilities in [0, 1]; ``None`` means off."""

    seed: int = 0
    # Salesforce: REQUEST_LIMIT_EXCEEDED (TotalRequests) once this many API calls were made.
    request_limit_after: int | None = None
    # Salesforce: REQUEST_LIMIT_EXCEEDED (ConcurrentRequests) on this share of calls.
    concurrent_limit_share: float = 0.0
    # Salesforce: sessions older than this many seconds answer 401 INVALID_SESSION_ID.
    invalid_session_after_s: float | None = None
    # Both: 503 on this share of requests.
    http_503_share: float = 0.0
    # Both: the next N requests answer 429 with Retry-After.
    burst_429: int = 0
    retry_after_s: int = 1
    # Both: each response waits this long before it is sent.
    slow_s: float = 0.0
    # Both: this share of responses is cut off half-way through the body.
    drop_share: float = 0.0
    # Salesforce: UNABLE_TO_LOCK_ROW on this share of written records.
    lock_row_share: float = 0.0
    # Salesforce: FIELD_CUSTOM_VALIDATION_EXCEPTION for writes to sobject whose values match,
    # e.g. {"CS_CTA__c": {"Priority__c": "Low"}}.
    validation_rules: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Salesforce: fields the integration user cannot see, e.g. {"Account": ["Segment__c"]}.
    hidden_fields: dict[str, list[str]] = field(default_factory=dict)
    # Both: Bulk ingest/query jobs and Zendesk job_statuses complete after this many seconds.
    job_seconds: float = 0.0
    # Salesforce: Bulk jobs end in state Failed.
    fail_bulk_jobs: bool = False
    # Which APIs the transport faults (503, 429, slow, drop) hit.
    targets: list[str] = field(default_factory=lambda: [SALESFORCE, ZENDESK])


class Faults:
    """Thread-safe holder of the current fault settings and the seeded dice."""

    def __init__(self, settings: FaultSettings | None = None) -> None:
        self._lock = threading.Lock()
        self._settings = settings or FaultSettings()
        self._rng = random.Random(self._settings.seed)

    @property
    def settings(self) -> FaultSettings:
        return self._settings

    def update(self, **changes: Any) -> FaultSettings:
        """Change some settings; a new ``seed`` restarts the dice."""
        with self._lock:
            names = {f.name for f in dataclasses.fields(FaultSettings)}
            unknown = set(changes) - names
            if unknown:
                raise ValueError(f"unknown fault setting(s): {', '.join(sorted(unknown))}")
            self._settings = dataclasses.replace(self._settings, **changes)
            if "seed" in changes:
                self._rng = random.Random(self._settings.seed)
            return self._settings

    def clear(self) -> None:
        """Back to no faults (same seed)."""
        with self._lock:
            seed = self._settings.seed
            self._settings = FaultSettings(seed=seed)
            self._rng = random.Random(seed)

    def roll(self, share: float) -> bool:
        """True with probability ``share``, from the seeded generator."""
        if share <= 0:
            return False
        with self._lock:
            return self._rng.random() < share

    def take_429(self) -> bool:
        """Consume one request of a 429 burst."""
        with self._lock:
            if self._settings.burst_429 > 0:
                self._settings.burst_429 -= 1
                return True
            return False

    def applies_to(self, api: str) -> bool:
        return api in self._settings.targets

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self._settings)
