"""The source under the sandbox's injected faults, over real HTTPS."""

from __future__ import annotations

from datetime import UTC, datetime

from sf_support import CONTACT, data_calls, live_ids, read_all, row_ids

from connector.errors import FatalApiError, QuotaExhausted
from connector.model import Column, StreamSpec
from connector.sources.base import from_iso
from connector.sources.salesforce import SalesforceSource


def _read_until_error(source, spec, state=None):
    pages, error = [], None
    try:
        for page in source.read(spec, state, run_start=datetime.now(UTC), full=False):
            pages.append(page)
    except Exception as exc:  # noqa: BLE001 - the test inspects it
        error = exc
    return pages, error


def test_a_share_of_503s_is_retried_and_the_read_completes(sandbox, sf_client, sf_source):
    sandbox.faults.update(http_503_share=0.3, seed=7)

    pages = read_all(sf_source(page_size=200), CONTACT)

    failed = [c for c in sandbox.calls.calls("salesforce") if c.status == 503]
    assert sorted(row_ids(pages)) == sorted(live_ids(sandbox, "Contact"))
    assert failed and sf_client.retries == len(failed)


def test_concurrent_request_limits_back_off_and_retry(sandbox, sf_client, sf_source):
    sandbox.faults.update(concurrent_limit_share=0.3, seed=3)

    pages = read_all(sf_source(page_size=200, bulk_threshold=0), CONTACT)

    assert pages[-1].done and sf_client.retries > 0


def test_responses_cut_off_half_way_are_retried(sandbox, sf_client, sf_source):
    sandbox.faults.update(drop_share=0.5, seed=11)

    pages = read_all(sf_source(page_size=200), CONTACT)

    assert sorted(row_ids(pages)) == sorted(live_ids(sandbox, "Contact"))
    assert sf_client.retries > 0


def test_a_burst_of_429s_waits_at_least_retry_after(sandbox, sf_client, sf_source, sf_sleeps):
    sf_client.describe_global()  # logged in before the burst
    sandbox.faults.update(burst_429=2, retry_after_s=3)

    pages = read_all(sf_source(), CONTACT)

    assert pages[-1].done and sf_sleeps[:2] and min(sf_sleeps[:2]) >= 3


def test_the_daily_limit_stops_the_read_with_a_resumable_state(sandbox, sf_client, sf_source):
    sandbox.faults.update(request_limit_after=2)  # COUNT() and one page, then refused
    source = sf_source(page_size=200)

    pages, error = _read_until_error(source, CONTACT)

    assert isinstance(error, QuotaExhausted) and error.code == "REQUEST_LIMIT_EXCEEDED"
    assert len(pages) == 1 and pages[0].state["sweep"] is not None
    assert len(data_calls(sandbox)) == 3  # the refused call is not retried
    sandbox.faults.clear()
    rest = read_all(source, CONTACT, pages[0].state)
    assert set(row_ids(pages)) | set(row_ids(rest)) == live_ids(sandbox, "Contact")


def test_the_quota_guard_stops_before_the_reserve_is_spent(sandbox, sf_make_client, monkeypatch):
    monkeypatch.setattr(sandbox.config, "api_daily_max", 10)
    client = sf_make_client("jwt", quota_reserve=0.85)  # stop with fewer than 8.5 calls left

    source = SalesforceSource(client, page_size=200, sleep=lambda s: None)

    pages, error = _read_until_error(source, CONTACT)

    assert isinstance(error, QuotaExhausted) and error.code == "QUOTA_RESERVE"
    assert len(data_calls(sandbox)) == 2 and client.api_usage == (2, 10)
    assert len(pages) == 1 and pages[0].state["sweep"] is not None


def test_a_hidden_field_is_fatal_with_invalid_field_and_a_redacted_message(
    sandbox, sf_client, sf_source
):
    sandbox.faults.update(hidden_fields={"Contact": ["Title"]})
    spec = StreamSpec(
        "contact", "salesforce", "Contact", (Column("title", "text", "Title"),), None, "t"
    )

    pages, error = _read_until_error(sf_source(), spec)

    assert isinstance(error, FatalApiError) and error.code == "INVALID_FIELD"
    assert error.status == 400 and "Title" in str(error)
    session_id = sf_client.secrets()[-1]
    assert session_id.startswith("00D") and session_id not in str(error)
    assert session_id.split("!")[1] not in str(error)
    assert pages == []


def test_an_unsorted_answer_raises_instead_of_checkpointing(sf_source, monkeypatch):
    source = sf_source(page_size=200)
    real = source.client.next_page

    def shuffled(url):
        body = real(url)
        body["records"] = list(reversed(body["records"]))
        return body

    monkeypatch.setattr(source.client, "next_page", shuffled)

    pages, error = _read_until_error(source, CONTACT)

    assert error is not None and error.code == "UNSORTED"
    assert len(pages) == 1  # the sorted first page only
    assert from_iso(pages[0].state["sweep"]["from"]) == pages[0].rows[-1].modstamp


def test_transient_faults_during_a_bulk_load_are_retried(sandbox, sf_client, sf_source):
    sandbox.faults.update(http_503_share=0.2, seed=5)

    pages = read_all(sf_source(bulk_threshold=0, bulk_page_size=100), CONTACT)

    assert sorted(row_ids(pages)) == sorted(live_ids(sandbox, "Contact"))
    assert sf_client.retries > 0
