"""Shared state of a running sandbox and the per-request context handed to the emulators."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request

from connector.sandbox.calllog import CallLog
from connector.sandbox.faults import Faults

if TYPE_CHECKING:
    from connector.sandbox.demo_data import DemoData


@dataclass(frozen=True)
class DemoCredentials:
    """Credentials the sandbox accepts. Demo values only: they open nothing but the sandbox."""

    sf_username: str = "integration@demo.cs-connector.dev"
    sf_password: str = "demo-password"
    sf_security_token: str = "demotoken"
    sf_consumer_key: str = "demo-consumer-key"
    sf_consumer_secret: str = "demo-consumer-secret"
    sf_refresh_token: str = "demo-refresh-token"
    zd_email: str = "integration@demo.cs-connector.dev"
    zd_api_token: str = "demo-zendesk-token"
    zd_oauth_token: str = "demo-zendesk-oauth-token"


@dataclass
class SandboxConfig:
    """How the sandbox is set up; every field has the value the demo uses."""

    scale: str = "S"
    seed: int = 42
    anchor: datetime | None = None  # generate data around this instant; default: now
    my_domain: str = "demo"  # instance host: demo.my.salesforce.com
    zendesk_subdomain: str = "demo"  # demo.zendesk.com
    api_daily_max: int = 1_000_000  # DailyApiRequests Max, shown in Sforce-Limit-Info and /limits
    query_page_size: int = 2000
    zendesk_incremental_per_min: int = 10  # documented limit of the incremental exports; 0 = off
    zendesk_per_min: int = 700  # account-wide Support API limit (Enterprise plan); 0 = off
    credentials: DemoCredentials = field(default_factory=DemoCredentials)
    workdir: Path | None = None  # CA, JWT keys; default: a temporary directory
    cache_dir: Path | None = None  # generated orgs; default: ~/.cache/cs-connector/sandbox


@dataclass
class SandboxState:
    """Everything the emulators share: config, faults, the call log and the clock."""

    config: SandboxConfig
    faults: Faults = field(default_factory=Faults)
    calls: CallLog = field(default_factory=CallLog)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    lock: threading.RLock = field(default_factory=threading.RLock)
    demo: DemoData | None = None
    jwt_public_key_pem: bytes | None = None  # the connected app's certificate key for JWT bearer
    extras: dict[str, Any] = field(default_factory=dict)

    def now(self) -> datetime:
        return self.clock()


@dataclass
class RequestCtx:
    """One request: the emulator reads ``request`` and reports records read and written."""

    state: SandboxState
    request: Request
    api: str
    host: str
    records_read: int = 0
    records_written: int = 0

    def read(self, n: int) -> None:
        self.records_read += n

    def wrote(self, n: int) -> None:
        self.records_written += n
