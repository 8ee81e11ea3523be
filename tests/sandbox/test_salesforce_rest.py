"""The Salesforce REST emulator over HTTPS, through simple-salesforce and raw ``requests``.

Each wire-format test names the page of the REST API Developer Guide (developer.salesforce.com,
``api_rest``) whose examples it checks.
"""

from __future__ import annotations

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

V = "v62.0"


class Rest:
    """Raw REST calls with the session simple-salesforce opened."""

    def __init__(self, session, sf: Salesforce) -> None:
        self.session = session
        self.root = sf.base_url.split("/services/")[0]
        session.headers["Authorization"] = f"Bearer {sf.session_id}"

    def url(self, path: str) -> str:
        return (
            path
            if path.startswith("http")
            else (
                self.root + (path if path.startswith("/services") else f"/services/data/{V}/{path}")
            )
        )

    def __getattr__(self, method: str):
        return lambda path, **kw: self.session.request(method.upper(), self.url(path), **kw)


@pytest.fixture
def rest(sf, session_factory) -> Rest:
    return Rest(session_factory(), sf)


@pytest.fixture
def api(sandbox):
    return sandbox.emulators["salesforce"]


@pytest.fixture
def users(sandbox) -> dict[str, str]:
    return sandbox.state.demo.users


def account_id(api) -> str:
    return next(r["Id"] for r in api.all_records("Account") if not r["IsDeleted"])


def add_tasks(api, users, n: int) -> None:
    """Insert ``n`` Tasks in-process (fast set-up for the paging tests)."""
    with api.org.atomic():
        for i in range(n):
            api.org.insert("Task", {"Subject": f"T{i}"}, user_id=users["integration"])


def task_count(api) -> int:
    return len(api.all_records("Task"))


def cta(i: int, **extra) -> dict:
    return {
        "attributes": {"type": "CS_CTA__c"},
        "Name": f"CTA {i}",
        "Sync_Key__c": f"k{i}",
        **extra,
    }


# -- directory, sessions, limits -------------------------------------------------------------
def test_versions_list_needs_no_session_and_offers_v55_to_v62(session_factory, sandbox):
    """dome_versions.htm: ``GET /services/data/`` lists label, url and version."""
    body = session_factory().get(f"https://{sandbox.instance_host}/services/data/").json()
    assert [v["version"] for v in body] == [f"{n}.0" for n in range(55, 63)]
    assert body[-1] == {"label": "Winter '25", "url": "/services/data/v62.0", "version": "62.0"}


def test_unsupported_version_is_not_found(rest):
    assert rest.get("/services/data/v54.0/limits").status_code == 404


def test_data_call_without_a_session_is_invalid_session_id(session_factory, sandbox):
    """errorcodes.htm: 401 with INVALID_SESSION_ID."""
    r = session_factory().get(f"https://{sandbox.instance_host}/services/data/{V}/limits")
    assert r.status_code == 401
    assert r.json()[0]["errorCode"] == "INVALID_SESSION_ID"


def test_every_data_response_carries_the_limit_info_header(rest, sandbox):
    """headers_api_usage.htm: ``Sforce-Limit-Info: api-usage=N/M`` on each REST response."""
    responses = [
        rest.get("limits"),
        rest.get("query", params={"q": "SELECT Nope FROM Account"}),
        rest.get("sobjects/Account/001000000000000AAA"),
    ]
    assert [r.status_code for r in responses] == [200, 400, 404]
    max_ = sandbox.config.api_daily_max
    assert [r.headers["Sforce-Limit-Info"] for r in responses] == [
        f"api-usage={n}/{max_}" for n in (1, 2, 3)
    ]


def test_simple_salesforce_reads_api_usage_from_the_header(sf):
    sf.query("SELECT Id FROM Account LIMIT 1")
    assert sf.api_usage["api-usage"].used == 1


def test_limits_resource_reports_daily_api_requests(rest, sandbox):
    """resources_limits.htm: ``DailyApiRequests`` with ``Max`` and ``Remaining``."""
    body = rest.get("limits").json()
    daily = sandbox.config.api_daily_max
    assert body["DailyApiRequests"] == {"Max": daily, "Remaining": daily - 1}


def test_request_limit_after_n_calls_is_403_total_requests(rest, sandbox):
    """errorcodes.htm: 403 REQUEST_LIMIT_EXCEEDED when the org's API requests are used up."""
    sandbox.faults.update(request_limit_after=2)
    statuses = [rest.get("limits").status_code for _ in range(3)]
    refused = rest.get("limits")
    assert statuses == [200, 200, 403]
    assert refused.json() == [
        {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
    ]


def test_concurrent_limit_fault_is_403_concurrent_requests(rest, sandbox):
    """salesforce_app_limits_platform_api.htm: REQUEST_LIMIT_EXCEEDED on concurrent requests."""
    sandbox.faults.update(concurrent_limit_share=1.0)
    r = rest.get("limits")
    assert r.status_code == 403
    assert r.json()[0]["message"] == "ConcurrentRequests (Concurrent API Requests) Limit exceeded."


def test_wrong_method_is_405(rest):
    assert rest.put("sobjects/Account").status_code == 405


# -- describe -------------------------------------------------------------------------------
def test_describe_global_lists_the_connector_objects(sf):
    names = {o["name"] for o in sf.describe()["sobjects"]}
    assert {"Account", "Task", "CS_CTA__c"} <= names


def test_describe_answers_with_and_without_a_trailing_slash(rest):
    with_slash, without = (
        rest.get("sobjects/CS_CTA__c/describe/"),
        rest.get("sobjects/CS_CTA__c/describe"),
    )
    assert with_slash.json()["name"] == without.json()["name"] == "CS_CTA__c"


def test_sobject_basic_info_has_object_describe_and_recent_items(rest):
    """resources_sobject_basic_info.htm: ``objectDescribe`` and ``recentItems``."""
    body = rest.get("sobjects/Account").json()
    assert body["objectDescribe"]["name"] == "Account" and body["recentItems"] == []


def test_hidden_field_is_missing_from_describe_and_invalid_in_soql(sf, sandbox):
    sandbox.faults.update(hidden_fields={"Account": ["Segment__c"]})
    fields = {f["name"] for f in sf.Account.describe()["fields"]}
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query("SELECT Segment__c FROM Account")
    assert "Segment__c" not in fields
    assert caught.value.content[0]["errorCode"] == "INVALID_FIELD"


# -- query ----------------------------------------------------------------------------------
def test_query_pages_two_thousand_records_to_the_last_page(rest, api, users):
    """dome_query.htm: ``totalSize``, ``done``, ``nextRecordsUrl`` ``.../query/<locator>-2000``."""
    add_tasks(api, users, 4500)
    total = task_count(api)
    page = rest.get("query", params={"q": "SELECT Id FROM Task"}).json()
    sizes, seen = [len(page["records"])], {r["Id"] for r in page["records"]}
    assert page["nextRecordsUrl"].endswith("-2000")
    while not page["done"]:
        page = rest.get(page["nextRecordsUrl"]).json()
        sizes.append(len(page["records"]))
        seen |= {r["Id"] for r in page["records"]}
    assert sizes[:2] == [2000, 2000] and sum(sizes) == total == len(seen)
    assert page["totalSize"] == total and "nextRecordsUrl" not in page


def test_batch_size_header_sets_the_page_size(rest, api, users):
    """headers_queryoptions.htm: ``Sforce-Query-Options: batchSize=N``."""
    add_tasks(api, users, 600)
    r = rest.get(
        "query",
        params={"q": "SELECT Id FROM Task"},
        headers={"Sforce-Query-Options": "batchSize=250"},
    )
    assert len(r.json()["records"]) == 250


def test_batch_size_below_the_minimum_is_raised_to_200(rest, api, users):
    """headers_queryoptions.htm: the minimum is 200, the maximum 2,000."""
    add_tasks(api, users, 300)
    r = rest.get(
        "query",
        params={"q": "SELECT Id FROM Task"},
        headers={"Sforce-Query-Options": "batchSize=10"},
    )
    assert len(r.json()["records"]) == 200


def test_query_all_next_records_url_uses_the_query_resource(rest, api, users):
    """resources_queryall_more_results.htm: queryAll's nextRecordsUrl contains ``query``."""
    add_tasks(api, users, 2100)
    page = rest.get("queryAll", params={"q": "SELECT Id FROM Task"}).json()
    assert page["nextRecordsUrl"].startswith(f"/services/data/{V}/query/01g")
    via_query_all = rest.get(page["nextRecordsUrl"].replace("/query/", "/queryAll/"))
    assert via_query_all.status_code == 200


def test_simple_salesforce_query_all_reads_every_page(sf, api, users):
    add_tasks(api, users, 2500)
    assert len(sf.query_all("SELECT Id FROM Task")["records"]) == task_count(api)


def test_open_cursor_is_not_changed_by_later_writes(rest, api, users):
    add_tasks(api, users, 2100)
    page = rest.get("query", params={"q": "SELECT Id, Subject FROM Task"}).json()
    rest_of_it = [r["Id"] for r in api.all_records("Task")]
    for record_id in rest_of_it:
        api.person_update("Task", record_id, {"Subject": "changed"})
    more = rest.get(page["nextRecordsUrl"]).json()
    assert all(r["Subject"] != "changed" for r in more["records"])


def test_deleted_records_are_returned_only_by_query_all(sf, api):
    record_id = account_id(api)
    sf.Account.delete(record_id)
    soql = f"SELECT Id, IsDeleted FROM Account WHERE Id = '{record_id}'"
    assert sf.query(soql)["totalSize"] == 0
    assert sf.query_all(soql, include_deleted=True)["records"][0]["IsDeleted"] is True


def test_invalid_soql_is_400_with_message_and_error_code(rest):
    """errorcodes.htm: 400 with ``[{"message", "errorCode"}]``."""
    r = rest.get("query", params={"q": "SELECT Id FROM Nope__c"})
    assert r.status_code == 400 and r.json()[0]["errorCode"] == "INVALID_TYPE"


def test_unknown_query_locator_is_invalid_query_locator(rest):
    r = rest.get("query/01g5j0000000001AAA-2000")
    assert r.status_code == 400 and r.json()[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_query_pages_count_the_records_read(rest, sandbox):
    sandbox.calls.clear()
    total = rest.get("query", params={"q": "SELECT Id FROM Account"}).json()["totalSize"]
    assert sandbox.calls.calls()[-1].records_read == total


# -- one record -----------------------------------------------------------------------------
def test_create_returns_201_with_id_success_and_errors(rest):
    """dome_sobject_create.htm: 201 ``{"id", "success": true, "errors": []}``."""
    r = rest.post("sobjects/Account", json={"Name": "Globex"})
    assert r.status_code == 201
    assert r.json() == {"id": r.json()["id"], "success": True, "errors": []}
    assert len(r.json()["id"]) == 18


def test_get_with_fields_returns_only_those_fields(rest, api):
    """dome_get_field_values.htm: ``?fields=`` limits the record to the listed fields."""
    record_id = account_id(api)
    body = rest.get(f"sobjects/Account/{record_id}", params={"fields": "Name,Id"}).json()
    assert list(body) == ["attributes", "Name", "Id"]
    assert body["attributes"]["url"] == f"/services/data/{V}/sobjects/Account/{record_id}"


def test_update_returns_204_and_sets_last_modified_by_the_session_user(rest, api, users):
    """dome_update_fields.htm: a successful PATCH answers 204 with no body."""
    record_id = account_id(api)
    r = rest.patch(f"sobjects/Account/{record_id}", json={"Name": "Renamed"})
    assert r.status_code == 204 and r.content == b""
    record = api.org.get(record_id)[1]
    assert (record["Name"], record["LastModifiedById"]) == ("Renamed", users["integration"])


def test_delete_returns_204(rest, api):
    """dome_delete_record.htm: 204 No Content."""
    assert rest.delete(f"sobjects/Account/{account_id(api)}").status_code == 204


def test_fifteen_character_id_in_the_url_is_accepted(rest, api):
    record_id = account_id(api)
    body = rest.get(f"sobjects/Account/{record_id[:15]}").json()
    assert body["Id"] == record_id


def test_malformed_id_in_the_url_is_read_as_an_unknown_external_id_field(rest):
    r = rest.get("sobjects/Account/not-an-id")
    assert r.status_code == 404
    assert r.json()[0]["message"] == (
        "Provided external ID field does not exist or is not accessible: not-an-id"
    )


def test_unknown_sobject_is_404_not_found(rest):
    r = rest.get("sobjects/Nope__c/describe")
    assert r.status_code == 404 and r.json()[0]["errorCode"] == "NOT_FOUND"


def test_record_error_is_400_with_message_error_code_and_fields(rest):
    """errorcodes.htm: record errors carry ``message``, ``errorCode`` and ``fields``."""
    r = rest.post("sobjects/Contact", json={"FirstName": "Ada"})
    assert r.status_code == 400
    assert r.json() == [
        {
            "message": "Required fields are missing: [LastName]",
            "errorCode": "REQUIRED_FIELD_MISSING",
            "fields": ["LastName"],
        }
    ]


def test_duplicate_external_id_is_duplicate_value(rest):
    rest.post("sobjects/CS_CTA__c", json={"Name": "a", "Sync_Key__c": "dup"})
    r = rest.post("sobjects/CS_CTA__c", json={"Name": "b", "Sync_Key__c": "dup"})
    assert r.status_code == 400 and r.json()[0]["errorCode"] == "DUPLICATE_VALUE"
    assert (
        "duplicate value found: Sync_Key__c duplicates value on record with id: "
        in r.json()[0]["message"]
    )


def test_inactive_owner_is_inactive_owner_or_user(rest, users):
    r = rest.post("sobjects/Account", json={"Name": "X", "OwnerId": users["inactive"]})
    assert r.status_code == 400 and r.json()[0]["errorCode"] == "INACTIVE_OWNER_OR_USER"


def test_validation_rule_fault_is_field_custom_validation_exception(rest, sandbox):
    sandbox.faults.update(validation_rules={"CS_CTA__c": {"Priority__c": "Low"}})
    r = rest.post("sobjects/CS_CTA__c", json={"Name": "x", "Priority__c": "Low"})
    assert r.json()[0]["errorCode"] == "FIELD_CUSTOM_VALIDATION_EXCEPTION"


def test_upsert_creates_with_201_and_created_true(rest):
    """dome_upsert.htm: 201 and ``"created": true`` (API 46.0 and later)."""
    r = rest.patch("sobjects/CS_CTA__c/Sync_Key__c/k1", json={"Name": "n"})
    assert r.status_code == 201
    assert r.json() == {"id": r.json()["id"], "success": True, "errors": [], "created": True}


def test_upsert_updates_with_200_and_created_false(rest):
    """dome_upsert.htm: an update answers 200 with ``"created": false`` since API 46.0."""
    first = rest.patch("sobjects/CS_CTA__c/Sync_Key__c/k1", json={"Name": "n"}).json()
    r = rest.patch("sobjects/CS_CTA__c/Sync_Key__c/k1", json={"Name": "n2"})
    assert r.status_code == 200
    assert r.json() == {"id": first["id"], "success": True, "errors": [], "created": False}


def test_upsert_key_with_a_slash_reaches_the_record(rest, api):
    rest.patch("sobjects/CS_CTA__c/Sync_Key__c/parent:1/step", json={"Name": "child"})
    assert api.org.find_by_external_id("CS_CTA__c", "Sync_Key__c", "parent:1/step")


def test_upsert_matching_two_records_is_300_with_their_urls(rest, api, users):
    """dome_upsert.htm: an External ID matched more than once answers 300."""
    first = api.person_insert("CS_CTA__c", {"Name": "a", "Sync_Key__c": "twin"}).id
    twin = dict(api.org.get(first)[1], Id=api.org.mint(api.schema.get("CS_CTA__c")))
    with api.state.lock:
        api.org.put("CS_CTA__c", twin)
    r = rest.patch("sobjects/CS_CTA__c/Sync_Key__c/twin", json={"Name": "x"})
    assert r.status_code == 300
    assert sorted(r.json()) == sorted(
        f"/services/data/{V}/sobjects/CS_CTA__c/{i}" for i in (first, twin["Id"])
    )


def test_upsert_by_a_field_that_is_not_an_external_id_is_404(rest):
    r = rest.patch("sobjects/CS_CTA__c/Name/x", json={})
    assert r.status_code == 404 and r.json()[0]["errorCode"] == "NOT_FOUND"


def test_simple_salesforce_upsert_reports_the_status_code(sf):
    assert sf.CS_CTA__c.upsert("Sync_Key__c/k7", {"Name": "n"}) == 201
    assert sf.CS_CTA__c.upsert("Sync_Key__c/k7", {"Name": "n"}) == 200


# -- sObject Collections --------------------------------------------------------------------
def test_collections_create_returns_results_in_request_order(rest):
    """resources_composite_sobjects_collections_create.htm: SaveResults in request order."""
    r = rest.post("composite/sobjects", json={"records": [cta(1), cta(2, Priority__c="Bad")]})
    body = r.json()
    assert r.status_code == 200
    assert body[0]["success"] and body[0]["errors"] == [] and len(body[0]["id"]) == 18
    assert body[1] == {
        "success": False,
        "errors": [
            {
                "statusCode": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                "message": "Priority: bad value for restricted picklist field: Bad",
                "fields": ["Priority__c"],
            }
        ],
    }


def test_collections_all_or_none_rolls_every_record_back(rest, api):
    """resources_composite_sobjects_collections_create.htm: with allOrNone the good records
    report ALL_OR_NONE_OPERATION_ROLLED_BACK and nothing is written."""
    before = len(api.all_records("CS_CTA__c"))
    body = rest.post(
        "composite/sobjects",
        json={"allOrNone": True, "records": [cta(1), cta(2, Priority__c="Bad")]},
    ).json()
    assert body[0] == {
        "success": False,
        "errors": [
            {
                "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                "message": "Record rolled back because not all records were valid and the request "
                "was using AllOrNone header",
                "fields": [],
            }
        ],
    }
    assert len(api.all_records("CS_CTA__c")) == before


def test_collections_update_rolled_back_record_keeps_its_id(rest, api):
    """resources_composite_sobjects_collections_update.htm: rolled-back updates keep ``id``."""
    record_id = account_id(api)
    body = rest.patch(
        "composite/sobjects",
        json={
            "allOrNone": True,
            "records": [
                {"attributes": {"type": "Account"}, "id": record_id, "Name": "ok"},
                {"attributes": {"type": "Account"}, "id": record_id[:15], "Name": None},
            ],
        },
    ).json()
    assert body[0]["id"] == record_id and body[0]["success"] is False
    assert api.org.get(record_id)[1]["Name"] != "ok"


def test_collections_update_with_an_id_of_another_type_is_malformed_id(rest, api):
    """resources_composite_sobjects_collections_update.htm: MALFORMED_ID for that record."""
    record_id = account_id(api)
    body = rest.patch(
        "composite/sobjects",
        json={"records": [{"attributes": {"type": "Contact"}, "id": record_id, "Title": "x"}]},
    ).json()
    assert body == [
        {
            "success": False,
            "errors": [
                {
                    "statusCode": "MALFORMED_ID",
                    "message": f"Contact ID: id value of incorrect type: {record_id}",
                    "fields": ["Id"],
                }
            ],
        }
    ]


def test_collections_over_200_records_is_exceeded_id_limit(rest):
    r = rest.post("composite/sobjects", json={"records": [cta(i) for i in range(201)]})
    assert r.status_code == 400 and r.json()[0]["errorCode"] == "EXCEEDED_ID_LIMIT"


def test_collections_delete_over_200_ids_is_exceeded_id_limit(rest, api):
    ids = ",".join([account_id(api)] * 201)
    r = rest.delete("composite/sobjects", params={"ids": ids})
    assert r.status_code == 400 and r.json()[0]["errorCode"] == "EXCEEDED_ID_LIMIT"


def test_collections_delete_reports_a_malformed_id(rest, api):
    """resources_composite_sobjects_collections_delete.htm: ``malformed id X``."""
    body = rest.delete(
        "composite/sobjects", params={"ids": f"{account_id(api)},001RM000003oLrB000"}
    ).json()
    assert body[0]["success"] is True
    assert body[1] == {
        "success": False,
        "errors": [
            {
                "statusCode": "MALFORMED_ID",
                "message": "malformed id 001RM000003oLrB000",
                "fields": [],
            }
        ],
    }


def test_collections_record_without_a_type_is_refused(rest):
    r = rest.post("composite/sobjects", json={"records": [{"Name": "x"}]})
    assert r.status_code == 400


def test_collections_upsert_reports_created_per_record(rest):
    """resources_composite_sobjects_collections_upsert.htm: ``created`` per UpsertResult."""
    rest.patch("composite/sobjects/CS_CTA__c/Sync_Key__c", json={"records": [cta(1)]})
    body = rest.patch(
        "composite/sobjects/CS_CTA__c/Sync_Key__c", json={"records": [cta(1), cta(2)]}
    ).json()
    assert [(r["success"], r["created"]) for r in body] == [(True, False), (True, True)]


def test_collections_insert_4500_records_and_page_them_back(rest, api):
    """Collections of 200 fill a result that queryAll pages back in full."""
    for start in range(0, 4500, 200):
        body = rest.post(
            "composite/sobjects",
            json={"records": [cta(i) for i in range(start, min(start + 200, 4500))]},
        ).json()
        assert all(r["success"] for r in body)
    page = rest.get("queryAll", params={"q": "SELECT Id FROM CS_CTA__c"}).json()
    count = len(page["records"])
    while not page["done"]:
        page = rest.get(page["nextRecordsUrl"]).json()
        count += len(page["records"])
    assert count == page["totalSize"] >= 4500


def test_lock_row_fault_fails_records_with_unable_to_lock_row(rest, sandbox, api):
    sandbox.faults.update(lock_row_share=1.0)
    body = rest.patch(
        "composite/sobjects",
        json={"records": [{"attributes": {"type": "Account"}, "id": account_id(api), "Name": "x"}]},
    ).json()
    assert body[0]["errors"][0]["statusCode"] == "UNABLE_TO_LOCK_ROW"
    assert body[0]["errors"][0]["message"].startswith(
        "unable to obtain exclusive access to this record or 1 records: "
    )


# -- admin: the org's people ------------------------------------------------------------------
def test_admin_edit_as_a_person_sets_last_modified_by_that_person(
    session_factory, sandbox, api, users
):
    record_id = account_id(api)
    url = f"https://127.0.0.1:{sandbox.port}/__sandbox/data/salesforce/Account/{record_id}"
    r = session_factory().patch(
        url, json={"values": {"Name": "By hand"}, "as_user": "csm1"}, verify=str(sandbox.ca_path)
    )
    assert r.status_code == 200
    assert api.org.get(record_id)[1]["LastModifiedById"] == users["csm1"]


def test_admin_purge_removes_the_record_even_from_query_all(sf, api):
    record_id = account_id(api)
    api.person_delete(record_id)
    api.purge(record_id)
    soql = f"SELECT Id FROM Account WHERE Id = '{record_id}'"
    assert sf.query_all(soql, include_deleted=True)["totalSize"] == 0


def test_admin_usage_reports_the_api_calls_made(session_factory, sandbox, sf):
    sf.query("SELECT Id FROM Account")
    url = f"https://127.0.0.1:{sandbox.port}/__sandbox/data/salesforce/_usage"
    body = session_factory().get(url, verify=str(sandbox.ca_path)).json()
    assert body["api_usage"] == 1
