"""Unit tests of the sandbox org's data store (``Org``), without HTTP.

Error codes and message texts follow the REST API Developer Guide's "Status Codes and Error
Responses" (errorcodes.htm) and the sObject Collections pages; see each test's docstring.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from connector.sandbox import ids
from connector.sandbox.demo_data import DemoData
from connector.sandbox.ids import IdMinter
from connector.sandbox.salesforce.schema import Schema, load_schema
from connector.sandbox.salesforce.soql import SoqlError
from connector.sandbox.salesforce.store import Org
from connector.sandbox.state import SandboxConfig, SandboxState

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
STAMP0 = "2026-03-01T08:00:00.000+0000"


class Clock:
    def __init__(self, at: datetime = T0) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture(scope="module")
def schema() -> Schema:
    return load_schema()


def _audited(record: dict, user: str) -> dict:
    return {
        "IsDeleted": False,
        "CreatedDate": STAMP0,
        "CreatedById": user,
        "LastModifiedDate": STAMP0,
        "LastModifiedById": user,
        "SystemModstamp": STAMP0,
        **record,
    }


def small_demo() -> DemoData:
    """Two active users and an inactive one, an account, a contact, a CTA and a plan."""
    minter = IdMinter()
    integ, csm, gone = (minter.mint("005") for _ in range(3))
    users = [
        _audited(
            {"Id": integ, "Username": "integration@demo", "LastName": "User", "IsActive": True},
            integ,
        ),
        _audited(
            {"Id": csm, "Username": "csm@demo", "LastName": "Morgan", "IsActive": True}, integ
        ),
        _audited(
            {"Id": gone, "Username": "gone@demo", "LastName": "Blake", "IsActive": False}, integ
        ),
    ]
    account = minter.mint("001")
    contact = minter.mint("003")
    cta = minter.mint("a01")
    plan = minter.mint("a05")
    objective = minter.mint("a06")
    sf = {
        "User": users,
        "Account": [_audited({"Id": account, "Name": "Acme", "OwnerId": csm}, csm)],
        "Contact": [
            _audited(
                {
                    "Id": contact,
                    "LastName": "Lee",
                    "FirstName": "Ada",
                    "Name": "Ada Lee",
                    "AccountId": account,
                    "OwnerId": csm,
                },
                csm,
            )
        ],
        "CS_CTA__c": [
            _audited(
                {
                    "Id": cta,
                    "Name": "Risk",
                    "Sync_Key__c": "support_risk:1",
                    "Status__c": "New",
                    "OwnerId": csm,
                    "Account__c": account,
                },
                integ,
            )
        ],
        "CS_Success_Plan__c": [
            _audited({"Id": plan, "Name": "Get well", "OwnerId": csm, "Account__c": account}, csm)
        ],
        "CS_Objective__c": [
            _audited({"Id": objective, "Name": "NPS", "Success_Plan__c": plan}, csm)
        ],
    }
    return DemoData(
        scale="S",
        seed=1,
        anchor=T0,
        salesforce=sf,
        id_counters=minter.state(),
        users={"integration": integ, "csm1": csm, "inactive": gone},
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def state(clock: Clock) -> SandboxState:
    return SandboxState(config=SandboxConfig(), clock=clock)


@pytest.fixture
def demo() -> DemoData:
    return small_demo()


@pytest.fixture
def org(schema: Schema, state: SandboxState, demo: DemoData) -> Org:
    org = Org(schema, state)
    org.load(demo)
    return org


def integ(demo: DemoData) -> str:
    return demo.users["integration"]


def the(demo: DemoData, sobject: str) -> dict:
    return demo.salesforce[sobject][0]


def codes(result) -> list[str]:
    return [e.status_code for e in result.errors]


def test_insert_sets_audit_fields_from_the_clock_and_the_writing_user(org, demo):
    result = org.insert("Account", {"Name": "Globex"}, user_id=integ(demo))
    record = org.get(result.id)[1]
    assert result.success and result.created
    assert record["CreatedDate"] == "2026-03-02T09:30:00.000+0000"
    assert record["CreatedById"] == record["LastModifiedById"] == integ(demo)
    assert record["OwnerId"] == integ(demo)
    assert record["IsDeleted"] is False


def test_each_write_advances_system_modstamp_strictly_within_one_millisecond(org, demo):
    first = org.insert("Account", {"Name": "A"}, user_id=integ(demo)).id
    second = org.insert("Account", {"Name": "B"}, user_id=integ(demo)).id
    org.update("Account", first, {"Name": "A2"}, user_id=integ(demo))
    stamps = [org.get(second)[1]["SystemModstamp"], org.get(first)[1]["SystemModstamp"]]
    assert stamps == ["2026-03-02T09:30:00.001+0000", "2026-03-02T09:30:00.002+0000"]


def test_modstamps_never_go_back_when_the_clock_does(org, demo, clock):
    first = org.insert("Account", {"Name": "A"}, user_id=integ(demo)).id
    clock.at = T0 - timedelta(hours=1)
    second = org.insert("Account", {"Name": "B"}, user_id=integ(demo)).id
    assert org.get(second)[1]["SystemModstamp"] > org.get(first)[1]["SystemModstamp"]


def test_writes_in_one_transaction_share_one_modstamp(org, demo):
    with org.atomic():
        a = org.insert("Account", {"Name": "A"}, user_id=integ(demo)).id
        b = org.insert("Account", {"Name": "B"}, user_id=integ(demo)).id
    assert org.get(a)[1]["SystemModstamp"] == org.get(b)[1]["SystemModstamp"]


def test_field_names_are_accepted_in_any_case_and_stored_canonically(org, demo):
    result = org.insert(
        "account", {"nAmE": "Initech", "billingcity": "Austin"}, user_id=integ(demo)
    )
    record = org.get(result.id)[1]
    assert (record["Name"], record["BillingCity"]) == ("Initech", "Austin")


def test_contact_name_is_derived_from_first_and_last_name(org, demo):
    result = org.insert(
        "Contact", {"FirstName": "Grace", "LastName": "Hopper"}, user_id=integ(demo)
    )
    assert org.get(result.id)[1]["Name"] == "Grace Hopper"


def test_opportunity_closed_won_is_closed_and_won(org, demo):
    result = org.insert(
        "Opportunity",
        {"Name": "Deal", "StageName": "Closed Won", "CloseDate": "2026-03-31"},
        user_id=integ(demo),
    )
    record = org.get(result.id)[1]
    assert (record["IsClosed"], record["IsWon"]) == (True, True)


def test_completed_task_is_closed_and_takes_the_account_of_its_what(org, demo):
    result = org.insert(
        "Task",
        {"Subject": "Call", "Status": "Completed", "WhatId": the(demo, "Contact")["AccountId"]},
        user_id=integ(demo),
    )
    record = org.get(result.id)[1]
    assert record["IsClosed"] is True
    assert record["AccountId"] == the(demo, "Account")["Id"]


def test_task_without_what_takes_the_account_of_its_contact(org, demo):
    result = org.insert(
        "Task", {"Subject": "Call", "WhoId": the(demo, "Contact")["Id"]}, user_id=integ(demo)
    )
    assert org.get(result.id)[1]["AccountId"] == the(demo, "Account")["Id"]


def test_picklist_defaults_from_the_schema_fill_a_new_record(org, demo):
    result = org.insert("CS_CTA__c", {"Name": "New CTA"}, user_id=integ(demo))
    record = org.get(result.id)[1]
    assert (record["Status__c"], record["Escalation__c"]) == ("New", "Not Escalated")


def test_missing_required_field_is_reported_by_name(org, demo):
    """errorcodes.htm: REQUIRED_FIELD_MISSING "Required fields are missing: [LastName]"."""
    result = org.insert("Contact", {"FirstName": "Ada"}, user_id=integ(demo))
    error = result.errors[0]
    assert not result.success
    assert (error.status_code, error.message, error.fields) == (
        "REQUIRED_FIELD_MISSING",
        "Required fields are missing: [LastName]",
        ("LastName",),
    )


def test_restricted_picklist_rejects_a_value_it_does_not_list(org, demo):
    result = org.insert("CS_CTA__c", {"Name": "x", "Priority__c": "Urgent"}, user_id=integ(demo))
    assert codes(result) == ["INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"]
    assert result.errors[0].fields == ("Priority__c",)


def test_string_longer_than_the_field_is_string_too_long(org, demo):
    result = org.insert("CS_CTA__c", {"Name": "x" * 81}, user_id=integ(demo))
    assert codes(result) == ["STRING_TOO_LONG"]
    assert result.errors[0].message.endswith("(max length=80)")


def test_duplicate_external_id_names_the_record_that_holds_it(org, demo):
    cta = the(demo, "CS_CTA__c")
    result = org.insert(
        "CS_CTA__c", {"Name": "x", "Sync_Key__c": cta["Sync_Key__c"]}, user_id=integ(demo)
    )
    assert codes(result) == ["DUPLICATE_VALUE"]
    assert result.errors[0].message == (
        "duplicate value found: Sync_Key__c duplicates value on record with id: " + cta["Id"][:15]
    )


def test_case_sensitive_external_id_treats_other_case_as_another_value(org, demo):
    result = org.insert(
        "CS_CTA__c", {"Name": "x", "Sync_Key__c": "SUPPORT_RISK:1"}, user_id=integ(demo)
    )
    assert result.success


def test_reference_to_a_missing_record_is_an_invalid_cross_reference(org, demo):
    missing = ids.to18("001" + "5j0" + "ZZZZZZZZZ")
    result = org.insert("Contact", {"LastName": "X", "AccountId": missing}, user_id=integ(demo))
    assert codes(result) == ["INVALID_CROSS_REFERENCE_KEY"]


def test_reference_to_a_record_of_the_wrong_type_is_a_field_integrity_exception(org, demo):
    result = org.insert(
        "Contact", {"LastName": "X", "AccountId": the(demo, "Contact")["Id"]}, user_id=integ(demo)
    )
    assert codes(result) == ["FIELD_INTEGRITY_EXCEPTION"]


def test_read_only_field_cannot_be_written(org, demo):
    result = org.insert("Contact", {"LastName": "X", "Name": "Y"}, user_id=integ(demo))
    assert codes(result) == ["INVALID_FIELD_FOR_INSERT_UPDATE"]
    assert result.errors[0].message.startswith("Unable to create/update fields: Name.")


def test_unknown_field_is_invalid_field(org, demo):
    result = org.insert("Account", {"Name": "X", "Nope__c": 1}, user_id=integ(demo))
    assert codes(result) == ["INVALID_FIELD"]


def test_malformed_id_is_rejected_on_update(org, demo):
    result = org.update("Account", "001notanid", {"Name": "X"}, user_id=integ(demo))
    assert codes(result) == ["MALFORMED_ID"]


def test_fifteen_character_id_is_accepted_and_normalised_to_eighteen(org, demo):
    account = the(demo, "Account")["Id"]
    result = org.update("Account", account[:15], {"Name": "Acme 2"}, user_id=integ(demo))
    assert result.id == account
    assert org.get(account[:15])[1]["Name"] == "Acme 2"


def test_fifteen_character_reference_is_stored_as_eighteen(org, demo):
    account = the(demo, "Account")["Id"]
    result = org.insert(
        "Contact", {"LastName": "X", "AccountId": account[:15]}, user_id=integ(demo)
    )
    assert org.get(result.id)[1]["AccountId"] == account


def test_update_of_a_deleted_record_is_entity_is_deleted(org, demo):
    account = the(demo, "Account")["Id"]
    org.delete(account, user_id=integ(demo))
    result = org.update("Account", account, {"Name": "X"}, user_id=integ(demo))
    assert codes(result) == ["ENTITY_IS_DELETED"]


def test_value_of_the_wrong_type_is_invalid_type_on_field_in_record(org, demo):
    result = org.insert("Account", {"Name": "X", "NumberOfEmployees": "many"}, user_id=integ(demo))
    assert codes(result) == ["INVALID_TYPE_ON_FIELD_IN_RECORD"]


def test_inactive_owner_is_refused(org, demo):
    result = org.insert(
        "Account", {"Name": "X", "OwnerId": demo.users["inactive"]}, user_id=integ(demo)
    )
    assert codes(result) == ["INACTIVE_OWNER_OR_USER"]


def test_lock_row_fault_fails_the_write_naming_the_record(org, demo, state):
    state.faults.update(lock_row_share=1.0)
    account = the(demo, "Account")["Id"]
    result = org.update("Account", account, {"Name": "X"}, user_id=integ(demo))
    assert codes(result) == ["UNABLE_TO_LOCK_ROW"]
    assert result.errors[0].message.endswith(account)


def test_validation_rule_fault_fails_a_matching_write_only(org, demo, state):
    state.faults.update(validation_rules={"CS_CTA__c": {"Priority__c": "Low"}})
    low = org.insert("CS_CTA__c", {"Name": "x", "Priority__c": "Low"}, user_id=integ(demo))
    high = org.insert("CS_CTA__c", {"Name": "y", "Priority__c": "High"}, user_id=integ(demo))
    assert codes(low) == ["FIELD_CUSTOM_VALIDATION_EXCEPTION"]
    assert high.success


def test_a_person_writes_past_the_integration_faults(org, demo, state):
    state.faults.update(lock_row_share=1.0)
    result = org.update(
        "Account",
        the(demo, "Account")["Id"],
        {"Name": "X"},
        user_id=demo.users["csm1"],
        as_person=True,
    )
    assert result.success


def test_hidden_field_cannot_be_written(org, demo, state):
    state.faults.update(hidden_fields={"Account": ["Segment__c"]})
    result = org.insert("Account", {"Name": "X", "Segment__c": "SMB"}, user_id=integ(demo))
    assert codes(result) == ["INVALID_FIELD"]


def test_hidden_field_is_an_invalid_field_in_soql(org, state):
    state.faults.update(hidden_fields={"Account": ["Segment__c"]})
    with pytest.raises(SoqlError) as caught:
        org.query("SELECT Id, Segment__c FROM Account", include_deleted=False, version="62.0")
    assert caught.value.error_code == "INVALID_FIELD"


def test_upsert_creates_when_nothing_matches_then_updates(org, demo):
    created = org.upsert("CS_CTA__c", "Sync_Key__c", "k1", {"Name": "first"}, user_id=integ(demo))
    updated = org.upsert("CS_CTA__c", "sync_key__c", "k1", {"Name": "second"}, user_id=integ(demo))
    assert (created.created, updated.created, updated.id) == (True, False, created.id)
    assert org.get(created.id)[1]["Name"] == "second"


def test_upsert_matching_two_records_is_multiple_choices(schema, state, demo):
    """dome_upsert.htm: an External ID matched more than once is a 300, nothing written."""
    twin = dict(the(demo, "CS_CTA__c"), Id=ids.to18("a015j0000000ZZZ"))
    demo.salesforce["CS_CTA__c"].append(twin)
    org = Org(schema, state)
    org.load(demo)
    result = org.upsert(
        "CS_CTA__c", "Sync_Key__c", twin["Sync_Key__c"], {"Name": "x"}, user_id=integ(demo)
    )
    assert codes(result) == ["MULTIPLE_CHOICES"]
    assert len(result.matches) == 2


def test_upsert_by_a_field_that_is_not_an_external_id_is_not_found(org, demo):
    result = org.upsert("CS_CTA__c", "Name", "x", {}, user_id=integ(demo))
    assert codes(result) == ["NOT_FOUND"]


def test_find_by_external_id_returns_the_live_record(org, demo):
    cta = the(demo, "CS_CTA__c")
    assert (
        org.find_by_external_id("CS_CTA__c", "Sync_Key__c", cta["Sync_Key__c"])["Id"] == cta["Id"]
    )


def test_relationship_by_external_id_resolves_to_the_parent(org, demo):
    cta = the(demo, "CS_CTA__c")
    result = org.insert(
        "CS_Milestone__c",
        {"Name": "EBR", "CTA__r": {"Sync_Key__c": cta["Sync_Key__c"]}},
        user_id=integ(demo),
    )
    assert org.get(result.id)[1]["CTA__c"] == cta["Id"]


def test_relationship_by_unknown_external_id_is_refused(org, demo):
    result = org.insert(
        "CS_Milestone__c", {"Name": "EBR", "CTA__r": {"Sync_Key__c": "nope"}}, user_id=integ(demo)
    )
    assert codes(result) == ["INVALID_FIELD"]
    assert "Foreign key external ID: nope not found" in result.errors[0].message


def test_soft_deleted_record_is_seen_only_by_query_all(org, demo):
    account = the(demo, "Account")["Id"]
    org.delete(account, user_id=integ(demo))
    soql = "SELECT Id, IsDeleted FROM Account"
    assert org.query(soql, include_deleted=False, version="62.0").total_size == 0
    rows = org.query(soql, include_deleted=True, version="62.0").rows
    assert [(r["Id"], r["IsDeleted"]) for r in rows] == [(account, True)]


def test_delete_advances_the_modstamp_so_cursors_see_it(org, demo):
    account = the(demo, "Account")["Id"]
    org.delete(account, user_id=integ(demo))
    assert org.get(account)[1]["SystemModstamp"] > STAMP0


def test_deleting_a_master_record_deletes_its_detail_records(org, demo):
    org.delete(the(demo, "CS_Success_Plan__c")["Id"], user_id=integ(demo))
    assert org.get(the(demo, "CS_Objective__c")["Id"])[1]["IsDeleted"] is True


def test_purged_record_is_gone_even_from_query_all(org, demo):
    account = the(demo, "Account")["Id"]
    org.delete(account, user_id=integ(demo))
    assert org.purge(account)
    result = org.query("SELECT Id FROM Account", include_deleted=True, version="62.0")
    assert result.total_size == 0 and org.get(account) is None


def test_rollback_undoes_every_write_of_the_transaction(org, demo):
    account = the(demo, "Account")["Id"]
    with org.atomic() as tx:
        new = org.insert("Account", {"Name": "temp"}, user_id=integ(demo)).id
        org.update("Account", account, {"Name": "changed"}, user_id=integ(demo))
        tx.rollback()
    assert org.get(new) is None
    assert org.get(account)[1]["Name"] == "Acme"


def test_rollback_restores_external_id_lookups(org, demo):
    with org.atomic() as tx:
        org.upsert("CS_CTA__c", "Sync_Key__c", "k9", {"Name": "x"}, user_id=integ(demo))
        tx.rollback()
    assert org.find_by_external_id("CS_CTA__c", "Sync_Key__c", "k9") is None


def test_new_ids_continue_after_the_demo_counters(org, demo):
    result = org.insert("Account", {"Name": "X"}, user_id=integ(demo))
    assert result.id > the(demo, "Account")["Id"]
    assert len(result.id) == 18


def test_load_keeps_the_demo_data_untouched_so_a_reset_is_clean(org, demo, schema, state):
    org.update("Account", the(demo, "Account")["Id"], {"Name": "changed"}, user_id=integ(demo))
    assert the(demo, "Account")["Name"] == "Acme"
    org.load(demo)
    assert org.get(the(demo, "Account")["Id"])[1]["Name"] == "Acme"


def test_a_query_result_is_not_changed_by_later_writes(org, demo):
    result = org.query("SELECT Id, Name FROM Account", include_deleted=False, version="62.0")
    org.update("Account", the(demo, "Account")["Id"], {"Name": "changed"}, user_id=integ(demo))
    assert result.rows[0]["Name"] == "Acme"
