"""Rate limits: incremental exports (10 a minute) and the account-wide limit.

Checked against Rate limits (developer.zendesk.com/api-reference/introduction/rate-limits/:
``X-Rate-Limit``, ``X-Rate-Limit-Remaining``, 429 with ``Retry-After``, "Incremental Exports
global limit GET /api/v2/incremental/* 10 requests per minute") and Incremental Exports ("You can
make up to 10 requests per minute"; the users cursor export's own limit and its
``Zendesk-RateLimit-incremental-exports-cursor`` header).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests

ZD = "https://demo.zendesk.com/api/v2"
TICKETS = f"{ZD}/incremental/tickets/cursor.json?start_time=0"


class StubClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(sandbox, monkeypatch) -> StubClock:  # type: ignore[no-untyped-def]
    """Ten seconds into a clock minute, so a test's calls share one window."""
    start = datetime.now(UTC).replace(second=10, microsecond=0) + timedelta(minutes=5)
    stub = StubClock(start)
    monkeypatch.setattr(sandbox.state, "clock", stub)
    return stub


@pytest.fixture
def zd(sandbox, session_factory, clock) -> requests.Session:  # type: ignore[no-untyped-def]
    s = session_factory()
    c = sandbox.config.credentials
    s.auth = (f"{c.zd_email}/token", c.zd_api_token)
    return s


def test_the_eleventh_export_call_in_a_minute_is_429_with_retry_after(zd) -> None:  # type: ignore[no-untyped-def]
    statuses = [zd.get(TICKETS).status_code for _ in range(11)]
    assert statuses == [200] * 10 + [429]


def test_retry_after_counts_the_seconds_left_in_the_minute(zd) -> None:  # type: ignore[no-untyped-def]
    for _ in range(10):
        zd.get(TICKETS)
    r = zd.get(TICKETS)
    assert r.headers["Retry-After"] == "50"
    assert r.json()["error"] == "APIRateLimitExceeded"


def test_the_next_minute_admits_export_calls_again(zd, clock) -> None:  # type: ignore[no-untyped-def]
    for _ in range(11):
        zd.get(TICKETS)
    clock.advance(50)
    assert zd.get(TICKETS).status_code == 200


def test_export_responses_report_the_incremental_limit_header(zd) -> None:  # type: ignore[no-untyped-def]
    first, second = zd.get(TICKETS), zd.get(TICKETS)
    assert first.headers["Zendesk-RateLimit-incremental-exports"] == (
        "total=10; remaining=9; resets=50"
    )
    assert second.headers["Zendesk-RateLimit-incremental-exports"].startswith(
        "total=10; remaining=8;"
    )


def test_other_endpoints_do_not_spend_the_export_limit(zd) -> None:  # type: ignore[no-untyped-def]
    for _ in range(12):
        assert zd.get(f"{ZD}/groups.json").status_code == 200
    assert zd.get(TICKETS).status_code == 200


def test_the_configured_export_limit_applies(sandbox, zd, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(sandbox.config, "zendesk_incremental_per_min", 2)
    assert [zd.get(TICKETS).status_code for _ in range(3)] == [200, 200, 429]


def test_a_zero_export_limit_switches_it_off(sandbox, zd, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(sandbox.config, "zendesk_incremental_per_min", 0)
    assert {zd.get(TICKETS).status_code for _ in range(15)} == {200}


def test_the_account_limit_answers_429_once_spent(sandbox, zd, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(sandbox.config, "zendesk_per_min", 3)
    statuses = [zd.get(f"{ZD}/groups.json").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_a_429_still_carries_the_rate_headers(sandbox, zd, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(sandbox.config, "zendesk_per_min", 1)
    zd.get(f"{ZD}/groups.json")
    r = zd.get(f"{ZD}/groups.json")
    assert (r.status_code, r.headers["X-Rate-Limit-Remaining"]) == (429, "0")


def test_the_users_cursor_export_reports_its_own_limit(zd) -> None:  # type: ignore[no-untyped-def]
    r = zd.get(f"{ZD}/incremental/users/cursor.json", params={"start_time": 0})
    assert r.headers["Zendesk-RateLimit-incremental-exports-cursor"].startswith("total=20;")
