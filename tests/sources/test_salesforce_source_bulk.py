"""The initial load through a Bulk API 2.0 query job, on the sandbox."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from sf_support import CONTACT, TASK, data_calls, live_ids, query_calls, read_all, row_ids

from connector.errors import FatalApiError
from connector.sources.base import from_iso
from connector.sources.salesforce.records import CsvRows, from_bulk, from_bulk_rows


class StubClock:
    """The sandbox's clock and the source's, moved only by the source's sleeps."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def sf_stub_clock(sandbox, monkeypatch) -> StubClock:
    stub = StubClock()
    monkeypatch.setattr(sandbox.state, "clock", stub)
    return stub


def _job_creations(sandbox) -> list:
    return [c for c in data_calls(sandbox, "/jobs/query") if c.method == "POST"]


def test_above_the_threshold_a_bulk_job_reads_every_row_across_locator_pages(sandbox, sf_source):
    expected = live_ids(sandbox, "Contact")

    pages = read_all(sf_source(bulk_threshold=100, bulk_page_size=100), CONTACT)

    assert sorted(row_ids(pages)) == sorted(expected)
    assert [len(p.rows) for p in pages] == [0, 100, 100, 100, len(expected) - 300]
    assert pages[0].state["bulk"]["job_id"] and pages[0].state["bulk"]["locator"] is None
    assert len(_job_creations(sandbox)) == 1
    assert query_calls(sandbox) == []  # only the COUNT() went through REST
    assert sum(p.api_calls for p in pages) == len(data_calls(sandbox))


def test_bulk_and_rest_store_the_same_values(sandbox, sf_source):
    sandbox.emulators["salesforce"].person_delete(
        sandbox.emulators["salesforce"].all_records("Contact")[5]["Id"]
    )
    by_bulk = {r.id: r for p in read_all(sf_source(bulk_threshold=0), CONTACT) for r in p.rows}
    by_rest = {r.id: r for p in read_all(sf_source(), CONTACT) for r in p.rows}

    assert by_bulk == by_rest


def test_the_bulk_load_sets_the_cursor_from_the_run_that_started_the_job(sandbox, sf_source):
    run_start = datetime.now(UTC).replace(microsecond=0)

    pages = read_all(
        sf_source(bulk_threshold=0, lag=timedelta(minutes=5)), TASK, run_start=run_start
    )

    assert pages[-1].done and pages[-1].state == {
        "cursor": (run_start - timedelta(minutes=5)).isoformat(timespec="milliseconds"),
        "sweep": None,
        "bulk": None,
    }


def test_a_slow_job_stops_the_read_and_the_next_cycle_resumes_it_without_a_second_job(
    sandbox, sf_source, sf_stub_clock
):
    sandbox.faults.update(job_seconds=30)
    source = sf_source(
        bulk_threshold=0,
        bulk_page_size=200,
        clock=sf_stub_clock,
        sleep=sf_stub_clock.sleep,
        bulk_wait=timedelta(seconds=5),
    )

    first = read_all(source, CONTACT)
    sf_stub_clock.sleep(30)
    second = read_all(source, CONTACT, first[-1].state)

    assert [len(p.rows) for p in first] == [0, 0] and not first[-1].done
    assert first[-1].state["bulk"] == first[0].state["bulk"]
    assert second[-1].done and sorted(row_ids(second)) == sorted(live_ids(sandbox, "Contact"))
    assert len(_job_creations(sandbox)) == 1


def test_a_crash_between_result_pages_resumes_at_the_saved_locator(sandbox, sf_source):
    source = sf_source(bulk_threshold=0, bulk_page_size=100)
    first = read_all(source, CONTACT)
    checkpoint = first[2].state  # two result pages committed, then the worker died

    resumed = read_all(source, CONTACT, checkpoint)

    assert row_ids(resumed) == row_ids(first[3:])
    assert len(_job_creations(sandbox)) == 1


def test_a_failed_job_is_forgotten_and_reported(sandbox, sf_source):
    sandbox.faults.update(fail_bulk_jobs=True)
    pages = []

    with pytest.raises(FatalApiError) as caught:
        for page in sf_source(bulk_threshold=0).read(
            CONTACT, None, run_start=datetime.now(UTC), full=False
        ):
            pages.append(page)

    assert caught.value.code == "BULK_JOB_FAILED"
    assert pages[-1].state == {"cursor": None, "sweep": None, "bulk": None}


def test_bulk_csv_values_are_put_in_rest_form():
    types = {
        "IsDeleted": "boolean",
        "SystemModstamp": "datetime",
        "Amount": "currency",
        "Seats": "int",
        "Name": "string",
        "Closed": "date",
    }
    row = {
        "Id": "006x",
        "IsDeleted": "true",
        "SystemModstamp": "2026-01-02T03:04:05.678Z",
        "Amount": "1250.5",
        "Seats": "12",
        "Name": "",
        "Closed": "2026-01-31",
        "Account.Owner.Name": "Casey",
        "Account.Name": "Acme",
        "Owner.Name": "",
    }

    assert from_bulk(row, types) == {
        "Id": "006x",
        "IsDeleted": True,
        "SystemModstamp": "2026-01-02T03:04:05.678+0000",
        "Amount": 1250.5,
        "Seats": 12,
        "Name": None,
        "Closed": "2026-01-31",
        "Account": {"Owner": {"Name": "Casey"}, "Name": "Acme"},
        "Owner": None,
    }


def test_a_bulk_value_that_does_not_parse_is_passed_on_for_the_row_builder_to_refuse():
    assert from_bulk({"Seats": "many"}, {"Seats": "int"}) == {"Seats": "many"}


def test_bulk_rows_carry_the_modstamp_the_org_holds(sandbox, sf_source):
    pages = read_all(sf_source(bulk_threshold=0), CONTACT)
    record = sandbox.emulators["salesforce"].all_records("Contact")[0]

    row = next(r for p in pages for r in p.rows if r.id == record["Id"])
    assert row.modstamp == from_iso(record["SystemModstamp"])


def test_a_result_page_converts_as_each_row_alone_would():
    """``from_bulk_rows`` picks each column's conversion once per header; same values, order."""
    types = {"IsDeleted": "boolean", "SystemModstamp": "datetime", "Seats": "int", "P": "percent"}
    rows = [
        {
            "Id": "1",
            "Owner.Name": "",
            "IsDeleted": "false",
            "SystemModstamp": "2026-01-02T03:04:05.678Z",
            "Seats": "7",
            "P": "",
        },
        {
            "Id": "2",
            "Owner.Name": "Casey",
            "IsDeleted": "TRUE ",
            "SystemModstamp": "0999-01-02T03:04:05.678Z",
            "Seats": "many",
            "P": "12.5",
        },
        {
            "Id": "3",
            "Owner.Name": "",
            "IsDeleted": "",
            "SystemModstamp": "2026-01-02T05:04:05.6+02:00",
            "Seats": "",
            "P": "x",
        },
        {"Id": "4", "Extra": "a header of its own"},
    ]

    converted = list(from_bulk_rows(rows, types))

    assert converted == [from_bulk(row, types) for row in rows]
    assert [list(c) for c in converted] == [list(from_bulk(row, types)) for row in rows]
    assert converted[0]["SystemModstamp"] == "2026-01-02T03:04:05.678+0000"
    assert converted[2]["SystemModstamp"] == "2026-01-02T03:04:05.600+0000"
    assert converted[1]["Owner"] == {"Name": "Casey"} and converted[0]["Owner"] is None


@pytest.mark.parametrize("owner", [False, True])
def test_a_csv_page_read_as_lists_converts_as_its_dicts_would(owner):
    """``CsvRows`` gives ``csv.DictReader``'s rows; ``from_bulk_rows`` reads its lists (no dict
    per row) into the very records, in the same key order; blank lines are skipped."""
    types = {
        "IsDeleted": "boolean",
        "SystemModstamp": "datetime",
        "Seats": "int",
        "P": "percent",
        "Due": "date",
    }
    header = "Id,SystemModstamp,IsDeleted,Seats,P,Due,Subject" + (",Owner.Name" if owner else "")
    lines = [
        '"1","2026-01-02T03:04:05.678Z","false","7","","2026-01-02","Call"',
        '"2","0999-01-02T03:04:05.678Z","TRUE ","many","12.5","","say ""hi"", then go"',
        '"3","2026-01-02T05:04:05.6+02:00","","","x","2026-13-40",""',
        '"4","2026-02-30T00:00:00.000Z","true","","","",""',
        "",
        '"5","2026-01-02T03:04:05Z","false","1","2","2026-01-02","a"',
    ]
    text = "\n".join([header, *lines]) + "\n"
    if owner:
        text = text.replace('"\n', '",""\n').replace('"Call",""', '"Call","Casey"')

    expected_rows = list(csv.DictReader(io.StringIO(text)))
    assert list(CsvRows(io.StringIO(text))) == expected_rows
    converted = list(from_bulk_rows(CsvRows(io.StringIO(text)), types))
    expected = list(from_bulk_rows(csv.DictReader(io.StringIO(text)), types))
    assert converted == expected
    assert [list(c) for c in converted] == [list(e) for e in expected]
    assert converted[0]["SystemModstamp"] == "2026-01-02T03:04:05.678+0000"
    assert converted[3]["SystemModstamp"] == "2026-02-30T00:00:00.000Z"  # not a date: as sent


def test_a_result_page_is_committed_in_parts_and_only_its_last_part_moves_the_locator(
    sandbox, sf_source, monkeypatch
):
    from connector.sources.salesforce import bulk

    monkeypatch.setattr(bulk, "ROWS_PER_COMMIT", 40)
    expected = live_ids(sandbox, "Contact")

    pages = read_all(sf_source(bulk_threshold=0, bulk_page_size=100), CONTACT)

    sizes = [len(p.rows) for p in pages]
    assert sizes[:7] == [0, 40, 40, 20, 40, 40, 20]  # the job's page, then each 100 in 3 parts
    assert sorted(row_ids(pages)) == sorted(expected) and pages[-1].done
    locators = [p.state["bulk"]["locator"] for p in pages[1:7]]
    assert locators[:2] == [None, None] and locators[2] is not None  # moved by the last part
    assert locators[3:5] == [locators[2]] * 2 and locators[5] not in (None, locators[2])
    assert sum(p.api_calls for p in pages) == len(data_calls(sandbox))


def test_a_crash_mid_page_reads_that_page_again_and_loses_nothing(sandbox, sf_source, monkeypatch):
    from connector.sources.salesforce import bulk

    monkeypatch.setattr(bulk, "ROWS_PER_COMMIT", 40)
    source = sf_source(bulk_threshold=0, bulk_page_size=100)
    first = read_all(source, CONTACT)
    checkpoint = first[4].state  # page 1 whole and 40 rows of page 2 committed, then a kill

    resumed = read_all(source, CONTACT, checkpoint)

    assert row_ids(resumed) == row_ids(first[4:])  # page 2 again from its start, then the rest
    assert set(row_ids(first[:5])) | set(row_ids(resumed)) == set(live_ids(sandbox, "Contact"))
