"""BulkWriter on the sandbox's Bulk API 2.0 ingest jobs, over real HTTPS.

Jobs finish ``job_seconds`` after they are closed (0 unless a test sets it), on the emulator's
next answer about them, so a poll right after a submit sees them done; a test that needs a job
still running holds the sandbox clock.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from connector.push.bulk import BulkJob, BulkWriter, _cell, parse_error, to_csv
from connector.reconcile.model import Write
from connector.sources.salesforce import SalesforceClient, SalesforceLogin
from connector.sources.salesforce.failures import RetryPolicy
from connector.targets import load_targets

TARGETS = load_targets(Path(__file__).resolve().parents[2] / "mappings")
NOW = datetime(2026, 10, 9, 14, 0, tzinfo=UTC)


class StubClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def client(sandbox, transport) -> Iterator[SalesforceClient]:  # type: ignore[no-untyped-def]
    creds = sandbox.config.credentials
    login = SalesforceLogin(
        "jwt",
        username=creds.sf_username,
        consumer_key=creds.sf_consumer_key,
        private_key_file=str(sandbox.jwt_private_key_path),
    )
    made = SalesforceClient(login, transport, retry=RetryPolicy(attempts=3, sleep=lambda s: None))
    yield made
    made.close()


@pytest.fixture
def writer(client) -> BulkWriter:  # type: ignore[no-untyped-def]
    return BulkWriter(client, TARGETS)


@pytest.fixture
def api(sandbox):  # type: ignore[no-untyped-def]
    return sandbox.emulators["salesforce"]


def _live(api, sobject: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    return [r for r in api.all_records(sobject) if not r.get("IsDeleted")]


def _ours(api) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """The live CTAs these tests wrote."""
    return [r for r in _live(api, "CS_CTA__c") if str(r["Sync_Key__c"]).startswith("bulk_test:")]


def cta(i: int, *, priority: str = "High", name: str | None = None, op: str = "create") -> Write:
    key = f"bulk_test:{i:05d}"
    values = {
        "name": name or f"Bulk CTA {i}",
        "type": "Risk",
        "reason": "Support",
        "rule_id": "bulk_test",
        "evidence": f'{i} tickets open, one says "urgent", another: a, b\nand a second line',
        "rule_state": "Active",
        "priority": priority,
        "due_date": "2026-10-16",
    }
    return Write(
        op=op,  # type: ignore[arg-type]
        target="cta",
        external_id=key,
        key=key,
        identity=key,
        rule="bulk_test",
        account_id=None,
        values=values,
        hashed=values,
        hash=f"hash-{i}",
    )


def task(key: str, parent: str) -> Write:
    values = {"subject": "Call them", "description": "Ask about the tickets"}
    return Write(
        op="create",
        target="task",
        external_id=key,
        key=key,
        identity=key,
        rule="bulk_test",
        account_id=None,
        values=values,
        hashed=values,
        hash="task-hash",
        parent_external_id=parent,
    )


def _done(writer: BulkWriter, jobs: list[BulkJob]) -> list[Any]:
    results = []
    for job in jobs:
        polled = writer.poll(job)
        assert polled is not None, f"job {job.job_id} still running"
        results.extend(polled)
    return results


# -- jobs on the sandbox -----------------------------------------------------------------------
def test_450_cta_upserts_land_in_one_job_with_their_ids(writer, api, sandbox) -> None:  # type: ignore[no-untyped-def]
    writes = [cta(i) for i in range(450)]
    jobs = writer.submit(TARGETS["cta"], writes, NOW)
    assert len(jobs) == 1 and jobs[0].operation == "upsert"
    assert jobs[0].external_ids == tuple(w.external_id for w in writes)
    results = writer.poll(jobs[0])
    assert results is not None and all(r.ok for r in results)
    landed = {r["Sync_Key__c"]: r for r in _live(api, "CS_CTA__c")}
    assert [r.crm_id for r in results] == [landed[w.external_id]["Id"] for w in writes]
    first = landed[writes[0].external_id]
    assert first["Evidence__c"] == writes[0].values["evidence"]
    assert (first["Status__c"], first["Due_Date__c"], first["Sync_Hash__c"]) == (
        "New",
        "2026-10-16",
        "hash-0",
    )
    assert first["Last_Evaluated__c"].startswith("2026-10-09T14:00:00")
    jobs_calls = [c for c in sandbox.calls.calls("salesforce") if "/jobs/ingest" in c.path]
    assert [c.method for c in jobs_calls] == ["POST", "PUT", "PATCH", "GET", "GET"]
    assert jobs_calls[-1].path.endswith("/successfulResults")


@pytest.fixture
def uploaded(monkeypatch) -> list[bytes]:  # type: ignore[no-untyped-def]
    """The bytes of every Bulk upload the client sends, in order."""
    bodies: list[bytes] = []
    upload = SalesforceClient.bulk_ingest_upload

    def spy(self: SalesforceClient, job_id: str, body: Any) -> None:
        upload(self, job_id, body)
        body.seek(0)
        bodies.append(body.read())

    monkeypatch.setattr(SalesforceClient, "bulk_ingest_upload", spy)
    return bodies


def test_a_job_spooled_to_disk_uploads_the_bytes_of_the_whole_csv_and_lands(  # type: ignore[no-untyped-def]
    writer, api, uploaded
) -> None:
    # Rows of every shape: a cleared field (#N/A), untouched cells, quotes and new lines, and a
    # column only later rows have, so the header is known only once every row is spooled.
    writes = [cta(i) for i in range(300)]
    for i in range(100):  # a create leaves a blank field out: no Reason__c column until row 100
        writes[i] = replace(writes[i], values={**writes[i].values, "reason": None})
    writes[107] = replace(cta(107, op="update"), changed=("priority",))
    writes[107] = replace(writes[107], values={**writes[107].values, "priority": None})
    (job,) = writer.submit(TARGETS["cta"], writes, NOW)

    whole = to_csv(TARGETS["cta"], writes, TARGETS, NOW)
    assert uploaded == [whole.encode("utf-8")]
    assert whole.splitlines()[0].endswith(",Reason__c") and "#N/A" in whole
    assert job.external_ids == tuple(w.external_id for w in writes)
    results = writer.poll(job)
    assert results is not None and all(r.ok for r in results)
    assert len(_ours(api)) == 300


def test_a_spool_split_into_uploads_sends_every_row_once_each_under_the_limit(  # type: ignore[no-untyped-def]
    client, uploaded
) -> None:
    writer = BulkWriter(client, TARGETS, max_upload_bytes=4_000)
    writes = [cta(i) for i in range(30)]
    jobs = writer.submit(TARGETS["cta"], writes, NOW)

    whole = to_csv(TARGETS["cta"], writes, TARGETS, NOW).encode("utf-8").split(b"\n")
    header, rows = whole[0], [r for r in whole[1:] if r]
    assert len(uploaded) == len(jobs) > 1
    assert all(len(u) <= 4_000 and u.split(b"\n")[0] == header for u in uploaded)
    assert [r for u in uploaded for r in u.split(b"\n")[1:] if r] == rows
    assert [e for j in jobs for e in j.external_ids] == [w.external_id for w in writes]


def test_a_task_names_its_cta_through_the_polymorphic_header_and_lands_on_it(writer, api) -> None:  # type: ignore[no-untyped-def]
    parent = cta(1)
    _done(writer, writer.submit(TARGETS["cta"], [parent], NOW))
    child = task("bulk_test:task:1", parent.external_id)
    assert to_csv(TARGETS["task"], [child], TARGETS, NOW).splitlines()[0] == (
        "CS_Sync_Key__c,Subject,Description,Status,Priority,CS_Sync_Hash__c,"
        "CS_CTA__c:What.Sync_Key__c"
    )
    (result,) = _done(writer, writer.submit(TARGETS["task"], [child], NOW))
    assert result.ok, result
    cta_id = next(r["Id"] for r in _live(api, "CS_CTA__c") if r["Sync_Key__c"] == "bulk_test:00001")
    landed = next(t for t in _live(api, "Task") if t.get("CS_Sync_Key__c") == child.external_id)
    assert (landed["Id"], landed["WhatId"]) == (result.crm_id, cta_id)


def test_a_job_in_progress_polls_as_none_and_completes_later(  # type: ignore[no-untyped-def]
    writer, sandbox, monkeypatch
) -> None:
    clock = StubClock(datetime.now(UTC))
    monkeypatch.setattr(sandbox.state, "clock", clock)
    sandbox.faults.update(job_seconds=60)
    (job,) = writer.submit(TARGETS["cta"], [cta(1), cta(2)], NOW)
    assert writer.poll(job) is None
    clock.advance(30)
    assert writer.poll(job) is None
    clock.advance(31)
    results = writer.poll(job)
    assert results is not None and [r.ok for r in results] == [True, True]


def test_a_record_failing_a_restricted_picklist_comes_back_failed_with_its_code(writer) -> None:  # type: ignore[no-untyped-def]
    writes = [cta(1), cta(2, priority="Urgent"), cta(3)]
    results = _done(writer, writer.submit(TARGETS["cta"], writes, NOW))
    assert [r.external_id for r in results] == [w.external_id for w in writes]
    assert [r.ok for r in results] == [True, False, True]
    bad = results[1]
    assert bad.code == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST" and bad.crm_id is None
    assert "Urgent" in str(bad.message) and not str(bad.message).endswith("--")


def test_a_failed_job_fails_every_record_with_bulk_job_failed(writer, sandbox, api) -> None:  # type: ignore[no-untyped-def]
    sandbox.faults.update(fail_bulk_jobs=True)
    before = len(_live(api, "CS_CTA__c"))
    results = _done(writer, writer.submit(TARGETS["cta"], [cta(1), cta(2)], NOW))
    assert [(r.ok, r.code) for r in results] == [(False, "BULK_JOB_FAILED")] * 2
    assert all("fail_bulk_jobs" in str(r.message) for r in results)
    assert len(_live(api, "CS_CTA__c")) == before


def test_a_repeated_upsert_updates_the_same_records_without_duplicates(writer, api) -> None:  # type: ignore[no-untyped-def]
    first = _done(writer, writer.submit(TARGETS["cta"], [cta(1), cta(2)], NOW))
    again = [replace(cta(1, name="Renamed", op="update"), changed=("name",)), cta(2, op="update")]
    second = _done(writer, writer.submit(TARGETS["cta"], again, NOW))
    assert [r.crm_id for r in second] == [r.crm_id for r in first]
    assert sorted(r["Name"] for r in _ours(api)) == ["Bulk CTA 2", "Renamed"]


def test_a_plan_bigger_than_one_upload_is_split_into_several_jobs(client, api) -> None:  # type: ignore[no-untyped-def]
    writer = BulkWriter(client, TARGETS, max_upload_bytes=4_000)
    writes = [cta(i) for i in range(30)]
    jobs = writer.submit(TARGETS["cta"], writes, NOW)
    assert len(jobs) > 1
    assert [e for j in jobs for e in j.external_ids] == [w.external_id for w in writes]
    assert all(r.ok for r in _done(writer, jobs))
    assert len(_ours(api)) == 30


def test_deletes_go_by_id_and_an_already_deleted_record_counts_as_done(writer, api) -> None:  # type: ignore[no-untyped-def]
    created = _done(writer, writer.submit(TARGETS["cta"], [cta(1), cta(2)], NOW))
    gone = [replace(cta(i + 1), op="delete", crm_id=r.crm_id) for i, r in enumerate(created)]
    (first_job,) = writer.submit(TARGETS["cta"], gone[:1], NOW)
    assert first_job.operation == "delete" and first_job.crm_ids == (created[0].crm_id,)
    _done(writer, [first_job])
    results = _done(writer, writer.submit(TARGETS["cta"], gone, NOW))
    assert [(r.ok, r.crm_id) for r in results] == [(True, r.crm_id) for r in created]
    assert _ours(api) == []


# -- CSV, no sandbox ---------------------------------------------------------------------------
def test_a_cleared_field_is_na_and_an_untouched_one_is_an_empty_cell() -> None:
    cleared = replace(cta(1, op="update"), changed=("priority",))
    cleared = replace(cleared, values={**cleared.values, "priority": None, "reason": None})
    text = to_csv(TARGETS["cta"], [cleared, cta(2, op="update")], TARGETS, NOW)
    first, second = csv.DictReader(io.StringIO(text, newline=""))
    assert text.startswith("Sync_Key__c,")
    assert (first["Priority__c"], first["Reason__c"]) == ("#N/A", "")  # reason: not changed
    assert (second["Priority__c"], second["Reason__c"]) == ("High", "Support")
    assert first["Last_Evaluated__c"] == "2026-10-09T14:00:00.000Z"
    assert first["Evidence__c"] == cleared.values["evidence"]


def test_a_custom_parent_is_named_without_a_type() -> None:
    milestone = TARGETS["milestone"]
    write = Write(
        op="create",
        target="milestone",
        external_id="bulk_test:m1",
        key="bulk_test:m1",
        identity="bulk_test:m1",
        rule="bulk_test",
        account_id=None,
        values={},
        hashed={},
        hash="h",
        parent_external_id="bulk_test:00001",
    )
    header = to_csv(milestone, [write], TARGETS, NOW).splitlines()[0].split(",")
    assert header[0] == "Sync_Key__c" and "CTA__r.Sync_Key__c" in header


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST:Priority: bad value for restricted "
            "picklist field: Urgent:Priority__c --",
            (
                "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                "Priority: bad value for restricted picklist field: Urgent",
            ),
        ),
        (
            "INVALID_CROSS_REFERENCE_KEY:invalid cross reference id:--",
            ("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id"),
        ),
        ("something odd", ("UNKNOWN_ERROR", "something odd")),
    ],
)
def test_sf_error_splits_into_code_and_message(text: str, expected: tuple[str, str]) -> None:
    assert parse_error(text) == expected


def test_updates_by_id_land_and_map_back_through_the_id_column(writer, api) -> None:  # type: ignore[no-untyped-def]
    accounts = [a["Id"] for a in _live(api, "Account")[:3]]
    writes = [
        Write(
            op="update",
            target="account_health",
            external_id=f"account_health:{account}",
            key=f"account_health:{account}",
            identity=account,
            rule="health",
            account_id=account,
            values={"health_score": 40 + i, "health_color": "Red", "health_updated": "2026-10-09"},
            hashed={"health_score": 40 + i, "health_color": "Red"},
            hash=f"h{i}",
            crm_id=account,
        )
        for i, account in enumerate(accounts)
    ]
    (job,) = writer.submit(TARGETS["account_health"], writes, NOW)
    assert (job.operation, job.crm_ids) == ("update", tuple(accounts))
    results = writer.poll(job)
    assert results is not None
    assert [(r.external_id, r.ok, r.crm_id) for r in results] == [
        (w.external_id, True, w.crm_id) for w in writes
    ]
    scores = {a["Id"]: a["CS_Health_Score__c"] for a in _live(api, "Account")}
    assert [scores[a] for a in accounts] == [40, 41, 42]


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (True, "true"),
        (False, "false"),
        (None, "#N/A"),
        ("", "#N/A"),
        (42, "42"),
        (date(2026, 10, 16), "2026-10-16"),
        (
            datetime(2026, 10, 9, 16, 0, tzinfo=timezone(timedelta(hours=2))),
            "2026-10-09T14:00:00.000Z",
        ),
        ("2026-10-09T14:00:00+0000", "2026-10-09T14:00:00.000Z"),
        ("2026-10-09T14:00:00.250+0000", "2026-10-09T14:00:00.250Z"),
        ("two\r\nlines", "two\nlines"),
        (["A", "B"], "A;B"),
    ],
)
def test_values_are_written_as_bulk_csv_cells(value: Any, cell: str) -> None:
    assert _cell(value) == cell
