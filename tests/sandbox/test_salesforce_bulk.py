"""Bulk API 2.0 in the sandbox, through simple-salesforce's ``bulk2`` and raw HTTP.

Wire formats checked against the Bulk API 2.0 and Bulk API Developer Guide: "Create a Query
Job", "Get Information About a Query Job", "Get Results for a Query Job" (Sforce-Locator,
Sforce-NumberOfRecords, 412 before completion), "Create a Job", "Upload Job Data" (201),
"Upload Complete", "Get Information About an Ingest Job", "Get Job Successful/Failed/
Unprocessed Record Results", "Delete a Job", "Job States", "Prepare CSV Files" (empty leaves a
field alone, ``#N/A`` nulls it), "Valid Date Format in Records (2.0)" and "Relationship Fields
in a Header Row (2.0)".
"""

from __future__ import annotations

import csv
import io
import math
import time

import pytest
from simple_salesforce.exceptions import SalesforceOperationError

from connector.sandbox.salesforce import bulk_csv as bulk_csv
from connector.sandbox.salesforce.bulk_ingest import _error_text
from connector.sandbox.salesforce.errors import RecordError
from connector.sandbox.salesforce.schema import FieldDef

API = "62.0"
BASE = f"https://demo.my.salesforce.com/services/data/v{API}/jobs"


@pytest.fixture
def jobs(sf):  # type: ignore[no-untyped-def]
    """Raw calls under ``.../jobs`` with the fixture's session."""

    def call(method: str, path: str = "", **kw):  # type: ignore[no-untyped-def]
        headers = {"Authorization": f"Bearer {sf.session_id}", **kw.pop("headers", {})}
        if "json" in kw:
            headers["Content-Type"] = "application/json"
        return sf.session.request(method, BASE + path, headers=headers, **kw)

    return call


@pytest.fixture
def api(sandbox):  # type: ignore[no-untyped-def]
    return sandbox.emulators["salesforce"]


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _live(api, sobject: str) -> list[dict]:  # type: ignore[no-untyped-def]
    return [r for r in api.all_records(sobject) if not r.get("IsDeleted")]


def _wait_for(jobs, kind: str, job_id: str, state: str = "JobComplete") -> dict:  # type: ignore[no-untyped-def]
    for _ in range(100):
        info = jobs("GET", f"/{kind}/{job_id}").json()
        if info["state"] == state:
            return info  # type: ignore[no-any-return]
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} never reached {state}")


def _ingest(jobs, csv_text: str, **job) -> str:  # type: ignore[no-untyped-def]
    """Create, upload and close an ingest job; returns its id."""
    job_id = jobs("POST", "/ingest", json=job).json()["id"]
    put = jobs(
        "PUT",
        f"/ingest/{job_id}/batches",
        data=csv_text.encode(),
        headers={"Content-Type": "text/csv"},
    )
    assert put.status_code == 201
    assert jobs("PATCH", f"/ingest/{job_id}", json={"state": "UploadComplete"}).ok
    return job_id  # type: ignore[no-any-return]


# -- query jobs -------------------------------------------------------------------------------
def test_query_pages_follow_the_locator_until_null(sf, sandbox, api):  # type: ignore[no-untyped-def]
    """ "Get Results for a Query Job": maxRecords per page, Sforce-Locator "null" on the last."""
    expected = {c["Id"] for c in _live(api, "Contact")}
    pages = list(sf.bulk2.Contact.query("SELECT Id, Name FROM Contact", max_records=5, wait=0))
    assert len(pages) == math.ceil(len(expected) / 5) >= 2
    assert {row["Id"] for page in pages for row in _rows(page)} == expected
    results = [c for c in sandbox.calls.calls("salesforce") if c.path.endswith("/results")]
    assert "locator=" not in results[0].query and all("locator=" in c.query for c in results[1:])
    assert sum(c.records_read for c in results) == len(expected)


def test_query_results_are_csv_as_bulk_api_writes_it(sf, jobs):  # type: ignore[no-untyped-def]
    """Every value quoted, null as "", booleans true/false, datetimes in Z form, dotted
    relationship columns in select-list order ("Get Results for a Query Job")."""
    created = sf.Contact.create({"LastName": "Nobody"})["id"]
    job = jobs(
        "POST",
        "/query",
        json={
            "operation": "query",
            "query": f"SELECT Id, LastName, Account.Name, CreatedDate, IsDeleted FROM Contact "
            f"WHERE Id = '{created}'",
        },
    ).json()
    assert job["state"] == "UploadComplete" and job["object"] == "Contact"
    _wait_for(jobs, "query", job["id"])
    r = jobs("GET", f"/query/{job['id']}/results")
    header, row = r.text.splitlines()
    assert header == '"Id","LastName","Account.Name","CreatedDate","IsDeleted"'
    assert row.startswith(f'"{created}","Nobody","","') and row.endswith('Z","false"')
    assert (r.headers["Sforce-Locator"], r.headers["Sforce-NumberOfRecords"]) == ("null", "1")
    assert r.headers["Content-Type"].startswith("text/csv")


def test_query_job_info_has_the_documented_keys(sf, jobs):  # type: ignore[no-untyped-def]
    """ "Get Information About a Query Job"."""
    job_id = jobs(
        "POST", "/query", json={"operation": "query", "query": "SELECT Id FROM Account"}
    ).json()["id"]
    info = _wait_for(jobs, "query", job_id)
    assert set(info) >= {
        "id",
        "operation",
        "object",
        "createdById",
        "createdDate",
        "systemModstamp",
        "state",
        "concurrencyMode",
        "contentType",
        "apiVersion",
        "jobType",
        "lineEnding",
        "columnDelimiter",
        "numberRecordsProcessed",
        "retries",
        "totalProcessingTime",
    }
    assert (info["jobType"], info["apiVersion"], info["concurrencyMode"]) == (
        "V2Query",
        62.0,
        "Parallel",
    )
    assert info["createdDate"].endswith("+0000") and info["id"].startswith("750")


def test_a_query_job_keeps_the_rows_it_saw_when_it_was_created(sf, sandbox, jobs):  # type: ignore[no-untyped-def]
    """A sandbox choice, not a documented behaviour: the rows are fixed at creation (a real
    org reads them while the job runs), so a test knows exactly what a job returns."""
    sandbox.faults.update(job_seconds=0.2)
    job_id = jobs(
        "POST", "/query", json={"operation": "query", "query": "SELECT Id FROM Account"}
    ).json()["id"]
    added = sf.Account.create({"Name": "Late Arrival Ltd"})["id"]
    _wait_for(jobs, "query", job_id)
    ids = {row["Id"] for row in _rows(jobs("GET", f"/query/{job_id}/results").text)}
    assert added not in ids and ids


def test_query_all_returns_deleted_rows_and_query_does_not(sf):  # type: ignore[no-untyped-def]
    """ "Create a Query Job": queryAll returns records deleted to the recycle bin."""
    gone = sf.Account.create({"Name": "Short Lived Inc"})["id"]
    sf.Account.delete(gone)
    soql = f"SELECT Id, IsDeleted FROM Account WHERE Id = '{gone}'"
    assert [_rows(p) for p in sf.bulk2.Account.query_all(soql, wait=0)] == [
        [{"Id": gone, "IsDeleted": "true"}]
    ]
    assert [_rows(p) for p in sf.bulk2.Account.query(soql, wait=0)] == [[]]


def test_job_seconds_keep_a_query_in_progress_and_its_results_unavailable(sandbox, jobs):  # type: ignore[no-untyped-def]
    """ "Job States" and "Get Results for a Query Job" (412 until JobComplete)."""
    sandbox.faults.update(job_seconds=0.4)
    job_id = jobs(
        "POST", "/query", json={"operation": "query", "query": "SELECT Id FROM User"}
    ).json()["id"]
    assert jobs("GET", f"/query/{job_id}").json()["state"] == "InProgress"
    early = jobs("GET", f"/query/{job_id}/results")
    assert early.status_code == 412 and early.json()[0]["errorCode"] == "JOB_NOT_COMPLETE"
    time.sleep(0.45)
    info = jobs("GET", f"/query/{job_id}").json()
    assert (info["state"], info["numberRecordsProcessed"]) == (
        "JobComplete",
        len(sandbox.state.demo.salesforce["User"]),
    )


def test_failed_query_jobs_report_an_error_message(sf, sandbox, jobs):  # type: ignore[no-untyped-def]
    """ "Get Information About a Query Job": state Failed with errorMessage."""
    sandbox.faults.update(fail_bulk_jobs=True)
    job_id = jobs(
        "POST", "/query", json={"operation": "query", "query": "SELECT Id FROM Account"}
    ).json()["id"]
    info = jobs("GET", f"/query/{job_id}").json()
    assert info["state"] == "Failed" and info["errorMessage"]
    with pytest.raises(SalesforceOperationError):
        list(sf.bulk2.Account.query("SELECT Id FROM Account", wait=0))


def test_invalid_soql_is_refused_when_the_job_is_created(jobs):  # type: ignore[no-untyped-def]
    """ "Create a Query Job" refuses the query itself; the SOQL error code is the REST one."""
    r = jobs("POST", "/query", json={"operation": "query", "query": "SELECT Nope FROM Account"})
    assert r.status_code == 400 and r.json()[0]["errorCode"] == "INVALID_FIELD"


def test_abort_stops_a_query_job_and_delete_removes_it(sandbox, jobs):  # type: ignore[no-untyped-def]
    """ "Abort a Query Job" and "Delete a Query Job" (204 No Content)."""
    sandbox.faults.update(job_seconds=30)
    job_id = jobs(
        "POST", "/query", json={"operation": "query", "query": "SELECT Id FROM Account"}
    ).json()["id"]
    assert jobs("PATCH", f"/query/{job_id}", json={"state": "Aborted"}).json()["state"] == (
        "Aborted"
    )
    assert job_id in {j["id"] for j in jobs("GET", "/query").json()["records"]}
    assert jobs("DELETE", f"/query/{job_id}").status_code == 204
    assert jobs("GET", f"/query/{job_id}").status_code == 404


# -- ingest jobs ------------------------------------------------------------------------------
def _account_id(api) -> str:  # type: ignore[no-untyped-def]
    return str(_live(api, "Account")[0]["Id"])


def test_upsert_by_external_id_creates_then_updates(sf, api):  # type: ignore[no-untyped-def]
    """ "Upsert Records" and "Get Job Successful Record Results" (sf__Id, sf__Created)."""
    account = _account_id(api)
    records = [
        {
            "Sync_Key__c": f"bulktest:{i}",
            "Name": f"CTA {i}",
            "Type__c": "Risk",
            "Account__c": account,
        }
        for i in range(3)
    ]
    first = sf.bulk2.CS_CTA__c.upsert(records=records, external_id_field="Sync_Key__c", wait=0)
    assert (first[0]["numberRecordsProcessed"], first[0]["numberRecordsFailed"]) == (3, 0)
    created = _rows(sf.bulk2.CS_CTA__c.get_successful_records(first[0]["job_id"]))
    assert {r["sf__Created"] for r in created} == {"true"}
    records[0]["Name"] = "CTA renamed"
    second = sf.bulk2.CS_CTA__c.upsert(records=records, external_id_field="Sync_Key__c", wait=0)
    again = _rows(sf.bulk2.CS_CTA__c.get_successful_records(second[0]["job_id"]))
    assert {r["sf__Created"] for r in again} == {"false"}
    assert {r["sf__Id"] for r in again} == {r["sf__Id"] for r in created}
    names = {
        r["Sync_Key__c"]: r["Name"]
        for r in _live(api, "CS_CTA__c")
        if str(r["Sync_Key__c"]).startswith("bulktest:")
    }
    assert names == {"bulktest:0": "CTA renamed", "bulktest:1": "CTA 1", "bulktest:2": "CTA 2"}


def test_failed_rows_carry_status_code_message_and_fields(sf, api):  # type: ignore[no-untyped-def]
    """ "Get Job Failed Record Results": sf__Id, sf__Error, then the uploaded columns."""
    records = [
        {"Sync_Key__c": "good", "Name": "Fine", "Type__c": "Risk"},
        {"Sync_Key__c": "bad", "Name": "Broken", "Type__c": "Bogus"},
    ]
    result = sf.bulk2.CS_CTA__c.upsert(records=records, external_id_field="Sync_Key__c", wait=0)
    assert (result[0]["numberRecordsProcessed"], result[0]["numberRecordsFailed"]) == (2, 1)
    failed = sf.bulk2.CS_CTA__c.get_failed_records(result[0]["job_id"])
    assert failed.splitlines()[0].startswith('"sf__Id","sf__Error",')
    (row,) = _rows(failed)
    assert row["sf__Id"] == "" and row["Sync_Key__c"] == "bad"
    assert row["sf__Error"].startswith("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST:")
    assert row["sf__Error"].endswith(":Type__c --")


def test_empty_cells_leave_fields_alone_and_na_sets_them_to_null(sf, api, jobs):  # type: ignore[no-untyped-def]
    """ "Prepare CSV Files": empty = unchanged, #N/A = null."""
    cta = sf.CS_CTA__c.create(
        {"Name": "Keep", "Priority__c": "High", "Comments__c": "note", "Type__c": "Risk"}
    )["id"]
    job_id = _ingest(
        jobs, f"Id,Priority__c,Comments__c\n{cta},,#N/A\n", object="CS_CTA__c", operation="update"
    )
    assert _wait_for(jobs, "ingest", job_id)["numberRecordsFailed"] == 0
    record = next(r for r in api.all_records("CS_CTA__c") if r["Id"] == cta)
    assert (record["Priority__c"], record["Comments__c"]) == ("High", None)


def test_a_polymorphic_parent_can_be_named_by_its_external_id(sf, api, jobs):  # type: ignore[no-untyped-def]
    """ "Relationship Fields in a Header Row (2.0)": ObjectType:Relationship.ExternalId."""
    cta = sf.CS_CTA__c.create({"Name": "Parent", "Sync_Key__c": "parent:1", "Type__c": "Risk"})[
        "id"
    ]
    job_id = _ingest(
        jobs,
        "Subject,CS_Sync_Key__c,CS_CTA__c:What.Sync_Key__c\nCall them,task:1,parent:1\n",
        object="Task",
        operation="insert",
    )
    assert _wait_for(jobs, "ingest", job_id)["numberRecordsFailed"] == 0
    task = next(t for t in _live(api, "Task") if t.get("CS_Sync_Key__c") == "task:1")
    assert task["WhatId"] == cta


def test_ingest_job_info_and_the_write_count_land_on_the_call_that_processes(sandbox, jobs):  # type: ignore[no-untyped-def]
    """ "Create a Job" (contentUrl, Open) and "Get Information About an Ingest Job"."""
    sandbox.faults.update(job_seconds=0.3)
    created = jobs("POST", "/ingest", json={"object": "Account", "operation": "insert"}).json()
    assert created["state"] == "Open"
    assert created["contentUrl"] == f"services/data/v{API}/jobs/ingest/{created['id']}/batches"
    job_id = created["id"]
    jobs(
        "PUT",
        f"/ingest/{job_id}/batches",
        data=b"Name\nAlpha\nBeta\n",
        headers={"Content-Type": "text/csv"},
    )
    closed = jobs("PATCH", f"/ingest/{job_id}", json={"state": "UploadComplete"}).json()
    assert closed["state"] == "UploadComplete"
    assert jobs("GET", f"/ingest/{job_id}").json()["state"] == "InProgress"
    time.sleep(0.35)
    info = jobs("GET", f"/ingest/{job_id}").json()
    assert (info["state"], info["numberRecordsProcessed"], info["jobType"]) == (
        "JobComplete",
        2,
        "V2Ingest",
    )
    written = [
        c.records_written for c in sandbox.calls.calls("salesforce") if c.path.endswith(job_id)
    ]
    assert written[-1] == 2 and sum(written) == 2


def test_a_failed_ingest_job_leaves_every_row_unprocessed(sandbox, api, jobs):  # type: ignore[no-untyped-def]
    """ "Get Job Unprocessed Record Results": the uploaded columns, no sf__ columns."""
    sandbox.faults.update(fail_bulk_jobs=True)
    before = len(api.all_records("Account"))
    job_id = _ingest(jobs, "Name\nNever\n", object="Account", operation="insert")
    info = jobs("GET", f"/ingest/{job_id}").json()
    assert info["state"] == "Failed" and info["errorMessage"]
    assert jobs("GET", f"/ingest/{job_id}/unprocessedrecords/").text == 'Name\n"Never"\n'
    assert len(api.all_records("Account")) == before


def test_an_unknown_column_fails_the_whole_job(jobs):  # type: ignore[no-untyped-def]
    """ "Errors" (InvalidBatch); the message as real orgs word it."""
    job_id = _ingest(jobs, "Name,Bogus__c\nX,1\n", object="Account", operation="insert")
    info = _wait_for(jobs, "ingest", job_id, "Failed")
    assert info["errorMessage"] == "InvalidBatch : Field name not found : Bogus__c"


def test_a_second_upload_to_the_same_job_is_refused(jobs):  # type: ignore[no-untyped-def]
    """ "Upload Job Data": one upload per job; the message as real orgs word it."""
    job_id = jobs("POST", "/ingest", json={"object": "Account", "operation": "insert"}).json()["id"]
    first = jobs(
        "PUT", f"/ingest/{job_id}/batches", data=b"Name\nA\n", headers={"Content-Type": "text/csv"}
    )
    second = jobs(
        "PUT", f"/ingest/{job_id}/batches", data=b"Name\nB\n", headers={"Content-Type": "text/csv"}
    )
    assert first.status_code == 201 and second.status_code == 400
    assert "Found multiple contents for job" in second.json()[0]["message"]


def test_ingest_jobs_are_listed_and_deleted(jobs):  # type: ignore[no-untyped-def]
    """ "Get All Jobs" (done, records, nextRecordsUrl) and "Delete a Job" (204)."""
    job_id = _ingest(jobs, "Name\nListed\n", object="Account", operation="insert")
    _wait_for(jobs, "ingest", job_id)
    listing = jobs("GET", "/ingest").json()
    assert listing["done"] is True and job_id in {j["id"] for j in listing["records"]}
    assert jobs("DELETE", f"/ingest/{job_id}").status_code == 204
    assert jobs("GET", f"/ingest/{job_id}").status_code == 404


def test_an_unknown_object_is_refused_when_the_job_is_created(jobs):  # type: ignore[no-untyped-def]
    """ "Create a Job": the object must exist."""
    r = jobs("POST", "/ingest", json={"object": "Nope__c", "operation": "insert"})
    assert r.status_code == 400 and "Nope__c" in r.json()[0]["message"]


# -- CSV rules, unit level ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("", "string", bulk_csv.UNSET),
        ("#N/A", "string", None),
        ("true", "boolean", True),
        ("0", "boolean", False),
        ("12", "int", 12),
        ("1.5", "currency", 1.5),
        ("2024-02-03", "date", "2024-02-03"),
        ("2024-02-03T10:00:00.000+02:00", "datetime", "2024-02-03T08:00:00.000+0000"),
        ("2024-02-03T10:00:00Z", "datetime", "2024-02-03T10:00:00.000+0000"),
        ("soon", "date", "soon"),
    ],
)
def test_uploaded_cells_become_typed_values(text, kind, expected):  # type: ignore[no-untyped-def]
    """ "Valid Date Format in Records (2.0)" and "Prepare CSV Files"."""
    assert bulk_csv.typed(text, FieldDef("F", kind)) == expected


def test_query_cells_are_written_as_bulk_api_writes_them() -> None:
    """ "Get Results for a Query Job": text cells; datetimes in the ``Z`` form."""
    assert bulk_csv.cell(None, "text") == ""
    assert bulk_csv.cell(True, "boolean") == "true"
    assert bulk_csv.cell("2024-01-02T03:04:05.000+0000", "datetime") == "2024-01-02T03:04:05.000Z"
    assert bulk_csv.cell("2024-01-02", "date") == "2024-01-02"


def test_error_text_names_the_fields_or_dashes() -> None:
    """ "Get Job Failed Record Results": ``sf__Error`` is ``CODE:message:fields``."""
    assert _error_text(
        (RecordError("REQUIRED_FIELD_MISSING", "Required fields are missing: [Name]", ("Name",)),)
    ) == ("REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --")
    assert (
        _error_text((RecordError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id"),))
        == "INVALID_CROSS_REFERENCE_KEY:invalid cross reference id:--"
    )


def test_a_crlf_upload_to_an_lf_job_is_refused() -> None:
    """ "Create a Job": lineEnding must match the uploaded data."""
    with pytest.raises(bulk_csv.CsvProblem, match="LineEnding is invalid"):
        bulk_csv.read(b"Name\r\nA\r\n", "COMMA", "LF")
