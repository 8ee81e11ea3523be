"""Read-ahead on the sandbox over real HTTPS: the next page's request is sent early, in a thread,
and taken by the read that follows; pages, rows, states and calls are those of a plain read.

``read(...)`` below is the pull's loop without the store: under ``read_ahead`` it asks for the
next request after each page it takes, except where ``ask`` says no (the pull's last page or a
stop).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

from conftest_zendesk import *  # noqa: F403  (fixtures: clock, client, source, ...)
from conftest_zendesk import export_calls, zendesk_spec
from sf_support import CONTACT, data_calls, live_ids, query_calls, row_ids

from connector.model import Page
from connector.sources.base import read_ahead

RUN_START = datetime(2030, 1, 1, tzinfo=UTC)


def read(source: Any, spec: Any, *, ask=lambda page: not page.done, stop_after=None) -> list[Page]:
    pages: list[Page] = []
    with read_ahead() as send_next:
        reading = source.read(spec, None, run_start=RUN_START, full=False)
        try:
            for page in reading:
                if ask(page):
                    send_next()
                pages.append(page)
                if stop_after is not None and len(pages) == stop_after:
                    break
        finally:
            reading.close()
    return pages


def _plain(pages: list[Page]) -> list[tuple[Any, ...]]:
    return [(tuple(p.rows), p.state, p.api_calls, p.done) for p in pages]


def test_zendesk_tickets_read_ahead_match_a_plain_read_call_for_call(sandbox, source) -> None:
    spec = zendesk_spec("tickets", per_page=100)
    plain = list(source.read(spec, None, run_start=RUN_START, full=False))
    calls = len(export_calls(sandbox))
    sandbox.calls.clear()

    ahead = read(source, spec)

    assert len(ahead) > 2
    assert _plain(ahead) == _plain(plain)  # same rows, states, calls per page
    assert len(export_calls(sandbox)) == calls == len(ahead)
    assert source.client.stats.api_calls == 2 * calls


def test_a_stop_sends_at_most_the_one_request_already_asked_for(sandbox, source) -> None:
    spec = zendesk_spec("tickets", per_page=100)

    pages = read(source, spec, ask=lambda page: page.state["after_cursor"] is None, stop_after=2)
    assert len(pages) == 2 and len(export_calls(sandbox)) == 2  # never asked: nothing ahead
    sandbox.calls.clear()

    pages = read(source, spec, stop_after=2)
    assert len(pages) == 2 and len(export_calls(sandbox)) == 3  # page 3 asked for, dropped
    assert not [t for t in threading.enumerate() if t.name == "pull read-ahead"]


def test_zendesk_organizations_by_time_read_ahead_as_a_plain_read(sandbox, source) -> None:
    spec = zendesk_spec("organizations", per_page=10)
    plain = list(source.read(spec, None, run_start=RUN_START, full=False))
    sandbox.calls.clear()

    assert _plain(read(source, spec)) == _plain(plain)


def test_salesforce_rest_pages_read_ahead_as_a_plain_read(sandbox, sf_source) -> None:
    api = sandbox.emulators["salesforce"]
    account = api.all_records("Account")[0]["Id"]
    for i in range(500):
        api.person_insert("Contact", {"LastName": f"Extra {i}", "AccountId": account})
    expected = live_ids(sandbox, "Contact")
    plain = list(sf_source(page_size=200).read(CONTACT, None, run_start=RUN_START, full=False))
    calls = len(data_calls(sandbox))
    sandbox.calls.clear()

    pages = read(sf_source(page_size=200), CONTACT)

    assert sorted(row_ids(pages)) == sorted(expected) and len(pages) > 2
    assert _plain(pages) == _plain(plain)
    assert len(data_calls(sandbox)) == calls == sum(p.api_calls for p in pages)
    assert len(query_calls(sandbox)) == len(pages)


def test_salesforce_bulk_result_pages_read_ahead_as_a_plain_read(sandbox, sf_source) -> None:
    expected = live_ids(sandbox, "Contact")
    settings = {"bulk_threshold": 100, "bulk_page_size": 100}
    plain = list(sf_source(**settings).read(CONTACT, None, run_start=RUN_START, full=False))
    calls = len(data_calls(sandbox))
    sandbox.calls.clear()

    pages = read(sf_source(**settings), CONTACT)

    assert sorted(row_ids(pages)) == sorted(expected)
    assert [len(p.rows) for p in pages] == [len(p.rows) for p in plain]
    assert len(data_calls(sandbox)) == calls == sum(p.api_calls for p in pages)
