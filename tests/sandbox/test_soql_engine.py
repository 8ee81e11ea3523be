"""The emulator's SOQL engine answers the connector's queries as Salesforce does.

Error texts follow real responses: the caret block and INVALID_TYPE text as in the REST error
example on the Salesforce developer forum ("Error Structures"), INVALID_FIELD texts as in
forcedotcom/soql-tooling#86, ``unexpected token: 'OR'`` / ``Invalid datetime: ...`` from the
Summer '24 release notes (SOQL "Changed Error Messages"), ``duplicate field selected`` from
the SOQL and SOSL Reference page on FIELDS().
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from simple_salesforce.format import format_soql

from connector.sandbox import ids
from connector.sandbox.salesforce.schema import FieldDef, SObjectDef
from connector.sandbox.salesforce.soql import QueryResult, SoqlError, bind, execute, parse

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
WSDL = "Please reference your WSDL or the describe call for the appropriate names."


def _obj(name: str, prefix: str, *fields: FieldDef) -> SObjectDef:
    base = (
        FieldDef("Id", "id"),
        FieldDef("IsDeleted", "boolean"),
        FieldDef("SystemModstamp", "datetime"),
    )
    return SObjectDef(
        name, name, name, prefix, name.endswith("__c"), {f.name: f for f in base + fields}
    )


def _ref(name: str, rel: str, *to: str) -> FieldDef:
    return FieldDef(name, "reference", reference_to=to, relationship_name=rel)


SCHEMA = (
    _obj("User", "005", FieldDef("Name", "string"), FieldDef("IsActive", "boolean")),
    _obj(
        "Account",
        "001",
        FieldDef("Name", "string"),
        FieldDef("Industry", "picklist", picklist_values=("Tech", "Retail", "Bank")),
        FieldDef("AnnualRevenue", "currency"),
        FieldDef("Products__c", "multipicklist"),
        FieldDef("Renewal_Date__c", "date"),
        FieldDef("Ext_Key__c", "string", case_sensitive=True),
        FieldDef("Secret__c", "string"),
        _ref("OwnerId", "Owner", "User"),
    ),
    _obj(
        "Contact",
        "003",
        FieldDef("Name", "string"),
        FieldDef("Title", "string"),
        _ref("AccountId", "Account", "Account"),
    ),
    _obj("Opportunity", "006", FieldDef("Name", "string"), _ref("AccountId", "Account", "Account")),
    _obj(
        "CS_CTA__c", "a0C", FieldDef("Name", "string"), _ref("Account__c", "Account__r", "Account")
    ),
    _obj(
        "Task",
        "00T",
        FieldDef("Subject", "string"),
        _ref("WhatId", "What", "Account", "Opportunity", "CS_CTA__c"),
    ),
)


class MemorySource:
    """A RecordSource over dicts, with records minted the way the sandbox mints them."""

    def __init__(self, hidden: tuple[tuple[str, str], ...] = (("Account", "Secret__c"),)) -> None:
        self.schema = {o.name.lower(): o for o in SCHEMA}
        self.data: dict[str, list[dict[str, Any]]] = {o.name: [] for o in SCHEMA}
        self.by_id: dict[str, tuple[str, dict[str, Any]]] = {}
        self.hidden = {(o.lower(), f.lower()) for o, f in hidden}
        self.minter = ids.IdMinter()
        self.tick = 0

    def add(self, sobject: str, **fields: Any) -> dict[str, Any]:
        obj = self.schema[sobject.lower()]
        self.tick += 1
        stamp = (NOW - timedelta(days=30) + timedelta(minutes=self.tick)).strftime(
            "%Y-%m-%dT%H:%M:%S.000+0000"
        )
        rec: dict[str, Any] = {name: None for name in obj.fields}
        rec.update(Id=self.minter.mint(obj.key_prefix), IsDeleted=False, SystemModstamp=stamp)
        rec.update(fields)
        self.data[obj.name].append(rec)
        self.by_id[rec["Id"]] = (obj.name, rec)
        return rec

    def sobject(self, name: str) -> SObjectDef | None:
        return self.schema.get(name.lower())

    def records(self, sobject: str) -> list[dict[str, Any]]:
        return self.data[self.schema[sobject.lower()].name]

    def get(self, record_id: str) -> tuple[str, dict[str, Any]] | None:
        return self.by_id.get(ids.to18(record_id)) if ids.is_valid(record_id) else None

    def is_hidden(self, sobject: str, field: str) -> bool:
        return (sobject.lower(), field.lower()) in self.hidden


@pytest.fixture
def org() -> MemorySource:
    return MemorySource()


def run(org: MemorySource, soql: str, *, deleted: bool = False) -> QueryResult:
    return execute(parse(soql), org, include_deleted=deleted, version="62.0", now=NOW)


def names(org: MemorySource, soql: str, key: str = "Name") -> list[Any]:
    return [row[key] for row in run(org, soql).rows]


def error(org: MemorySource, soql: str) -> SoqlError:
    with pytest.raises(SoqlError) as caught:
        run(org, soql)
    return caught.value


# -- rows in wire shape ---------------------------------------------------------------------


def test_rows_carry_attributes_and_fields_in_select_order(org: MemorySource) -> None:
    acme = org.add("Account", Name="Acme", Industry="Tech")
    row = run(org, "SELECT Industry, Name, Id FROM Account").rows[0]
    assert list(row) == ["attributes", "Industry", "Name", "Id"]
    url = f"/services/data/v62.0/sobjects/Account/{acme['Id']}"
    assert row["attributes"] == {"type": "Account", "url": url}


def test_keywords_and_names_are_case_insensitive_and_output_uses_canonical_names(
    org: MemorySource,
) -> None:
    org.add("Account", Name="Acme")
    result = run(org, "select NAME from account where name = 'ACME'")
    assert result.rows[0]["attributes"]["type"] == "Account"
    assert result.rows[0]["Name"] == "Acme"


def test_parent_path_nests_the_parent_record(org: MemorySource) -> None:
    acme = org.add("Account", Name="Acme")
    org.add("Contact", Name="Ann", AccountId=acme["Id"])
    row = run(org, "SELECT Name, Account.Name, AccountId FROM Contact").rows[0]
    assert list(row) == ["attributes", "Name", "Account", "AccountId"]
    url = f"/services/data/v62.0/sobjects/Account/{acme['Id']}"
    assert row["Account"] == {"attributes": {"type": "Account", "url": url}, "Name": "Acme"}


def test_null_parent_reference_gives_null_relationship(org: MemorySource) -> None:
    org.add("Contact", Name="Orphan")
    assert run(org, "SELECT Account.Name FROM Contact").rows[0]["Account"] is None


def test_two_level_parent_path_nests_twice(org: MemorySource) -> None:
    boss = org.add("User", Name="Boss")
    acme = org.add("Account", Name="Acme", OwnerId=boss["Id"])
    org.add("Contact", Name="Ann", AccountId=acme["Id"])
    row = run(org, "SELECT Account.Name, Account.Owner.Name FROM Contact").rows[0]
    assert row["Account"]["Name"] == "Acme"
    assert row["Account"]["Owner"]["Name"] == "Boss"


def test_custom_relationship_path_uses_relationship_name(org: MemorySource) -> None:
    acme = org.add("Account", Name="Acme")
    org.add("CS_CTA__c", Name="Renew", Account__c=acme["Id"])
    row = run(org, "SELECT account__r.name FROM cs_cta__c").rows[0]
    assert row["Account__r"]["Name"] == "Acme"


def test_object_name_prefix_on_a_field_is_accepted(org: MemorySource) -> None:
    org.add("Contact", Name="Ann")
    assert names(org, "SELECT Contact.Name FROM Contact") == ["Ann"]


def test_polymorphic_what_reports_name_type_and_real_url(org: MemorySource) -> None:
    """Polymorphic parents come back with ``"type": "Name"`` (as observed in REST payloads)."""
    opp = org.add("Opportunity", Name="Deal")
    org.add("Task", Subject="Call", WhatId=opp["Id"])
    what = run(org, "SELECT What.Name, What.Type FROM Task WHERE What.Type = 'opportunity'").rows
    url = f"/services/data/v62.0/sobjects/Opportunity/{opp['Id']}"
    assert what[0]["What"] == {
        "attributes": {"type": "Name", "url": url},
        "Name": "Deal",
        "Type": "Opportunity",
    }


def test_polymorphic_parent_offers_only_name_entity_fields(org: MemorySource) -> None:
    err = error(org, "SELECT What.Industry FROM Task")
    assert err.error_code == "INVALID_FIELD"
    assert "No such column 'Industry' on entity 'Name'." in err.message


def test_count_returns_total_size_and_no_rows(org: MemorySource) -> None:
    for name in ("A", "B", "C"):
        org.add("Account", Name=name)
    result = run(org, "SELECT COUNT() FROM Account WHERE Name != 'B'")
    assert (result.total_size, result.rows) == (2, [])


def test_queryall_rows_include_deleted_only_when_asked(org: MemorySource) -> None:
    org.add("Account", Name="Live")
    org.add("Account", Name="Gone", IsDeleted=True)
    soql = "SELECT Name, IsDeleted FROM Account ORDER BY Name"
    assert [r["Name"] for r in run(org, soql).rows] == ["Live"]
    assert [r["Name"] for r in run(org, soql, deleted=True).rows] == ["Gone", "Live"]


def test_parse_is_syntax_only_and_bind_checks_names(org: MemorySource) -> None:
    query = parse("SELECT Nope FROM Account")
    with pytest.raises(SoqlError):
        bind(query, org)
    assert bind(parse("select name from account"), org).sobject == "Account"


# -- WHERE -----------------------------------------------------------------------------------


@pytest.fixture
def accounts(org: MemorySource) -> MemorySource:
    org.add("Account", Name="Acme", Industry="Tech", AnnualRevenue=500.0)
    org.add("Account", Name="Bolt", Industry="Retail", AnnualRevenue=50.0)
    org.add("Account", Name="Crux", Industry=None, AnnualRevenue=None)
    return org


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("Industry = 'Tech' OR (Industry = 'Retail' AND AnnualRevenue > 10)", ["Acme", "Bolt"]),
        ("NOT Industry = 'Tech'", ["Bolt", "Crux"]),
        ("Industry IN ('tech', 'retail')", ["Acme", "Bolt"]),
        ("Industry NOT IN ('Tech')", ["Bolt", "Crux"]),
        ("Industry != 'Tech'", ["Bolt", "Crux"]),
        ("AnnualRevenue < 1000", ["Acme", "Bolt"]),
        ("Industry = null", ["Crux"]),
        ("Industry = ''", ["Crux"]),
        ("Industry != null", ["Acme", "Bolt"]),
        ("AnnualRevenue >= 50", ["Acme", "Bolt"]),
        ("Name LIKE 'a%'", ["Acme"]),
        ("Name LIKE '_OLT'", ["Bolt"]),
        ("Name = 'ACME'", ["Acme"]),
    ],
)
def test_where_clause_filters_as_salesforce_does(
    accounts: MemorySource, where: str, expected: list[str]
) -> None:
    """!= keeps nulls and < drops them; text compares case-insensitively (SOQL reference)."""
    assert names(accounts, f"SELECT Name FROM Account WHERE {where} ORDER BY Name") == expected


def test_mixing_and_with_or_without_parentheses_is_malformed(accounts: MemorySource) -> None:
    """Summer '24 release notes, SOQL "Changed Error Messages": unexpected token: 'OR'."""
    err = error(accounts, "SELECT Id FROM Account WHERE Name = 'a' AND Name = 'b' OR Name = 'c'")
    assert err.error_code == "MALFORMED_QUERY"
    assert err.message.endswith("ERROR at Row:1:Column:56\nunexpected token: 'OR'")


def test_like_escaped_percent_matches_literally(org: MemorySource) -> None:
    """Quoted String Escape Sequences: in LIKE, \\% matches a single percent sign."""
    org.add("Account", Name="Ter%")
    org.add("Account", Name="Terra")
    assert names(org, r"SELECT Name FROM Account WHERE Name LIKE 'Ter\%'") == ["Ter%"]


def test_case_sensitive_field_compares_exactly(org: MemorySource) -> None:
    org.add("Account", Name="Acme", Ext_Key__c="k-1")
    assert names(org, "SELECT Name FROM Account WHERE Ext_Key__c = 'K-1'") == []
    assert names(org, "SELECT Name FROM Account WHERE Ext_Key__c = 'k-1'") == ["Acme"]


def test_id_filter_accepts_15_character_ids(org: MemorySource) -> None:
    acme = org.add("Account", Name="Acme")
    assert names(org, f"SELECT Name FROM Account WHERE Id = '{acme['Id'][:15]}'") == ["Acme"]


def test_id_filter_with_a_name_is_an_invalid_filter(org: MemorySource) -> None:
    err = error(org, "SELECT Id FROM Contact WHERE AccountId = 'Acme'")
    assert err.error_code == "INVALID_QUERY_FILTER_OPERATOR"
    assert err.message.endswith("invalid ID field: Acme")


def test_includes_and_excludes_match_multipicklist_values(org: MemorySource) -> None:
    org.add("Account", Name="Both", Products__c="Core;Cloud")
    org.add("Account", Name="Core", Products__c="Core")
    org.add("Account", Name="None")
    soql = "SELECT Name FROM Account WHERE Products__c {} ORDER BY Name"
    assert names(org, soql.format("INCLUDES ('cloud;core')")) == ["Both"]
    assert names(org, soql.format("INCLUDES ('Cloud', 'Core')")) == ["Both", "Core"]
    assert names(org, soql.format("EXCLUDES ('Cloud')")) == ["Core", "None"]


def test_datetime_literal_with_offset_compares_in_utc(org: MemorySource) -> None:
    org.add("Account", Name="Early", SystemModstamp="2026-11-23T06:59:59.000+0000")
    org.add("Account", Name="Late", SystemModstamp="2026-11-23T07:00:01.000+0000")
    soql = "SELECT Name FROM Account WHERE SystemModstamp > 2026-11-23T09:00:00+02:00"
    assert names(org, soql) == ["Late"]


def test_datetime_from_format_soql_compares_with_milliseconds(org: MemorySource) -> None:
    org.add("Account", Name="Same", SystemModstamp="2026-11-23T07:00:00.000+0000")
    org.add("Account", Name="After", SystemModstamp="2026-11-23T07:00:00.001+0000")
    cursor = datetime(2026, 11, 23, 8, 0, tzinfo=timezone(timedelta(hours=1)))
    soql = format_soql("SELECT Name FROM Account WHERE SystemModstamp > {}", cursor)
    assert names(org, soql) == ["After"]


def test_invalid_datetime_is_malformed(org: MemorySource) -> None:
    """Summer '24 release notes: ``Invalid datetime: 2020-12-12t12:12:00-25:00``."""
    err = error(org, "SELECT Id FROM Account WHERE SystemModstamp > 2020-12-12t12:12:00-25:00")
    assert err.error_code == "MALFORMED_QUERY"
    assert err.message.endswith("Invalid datetime: 2020-12-12t12:12:00-25:00")


@pytest.mark.parametrize(
    ("where", "tail"),
    [
        ("Renewal_Date__c = '2026-01-01'", "'Renewal_Date__c' must be of type date and"),
        ("Renewal_Date__c = 2026-01-01T00:00:00Z", "'Renewal_Date__c' must be of type date and"),
        ("SystemModstamp > 2026-01-01", "'SystemModstamp' must be of type dateTime and"),
        ("AnnualRevenue > '5'", "'AnnualRevenue' must be of type double and"),
    ],
)
def test_filter_value_of_the_wrong_type_is_invalid_field(
    org: MemorySource, where: str, tail: str
) -> None:
    err = error(org, f"SELECT Id FROM Account WHERE {where}")
    assert err.error_code == "INVALID_FIELD"
    expected = f"value of filter criterion for field {tail} should not be enclosed in quotes"
    assert err.message.endswith(expected)


def test_last_n_days_covers_today_and_n_days_back(org: MemorySource) -> None:
    for name, days_ago in (("today", 0), ("three", 3), ("four", 4), ("ahead", -1)):
        org.add(
            "Account",
            Name=name,
            Renewal_Date__c=(NOW - timedelta(days=days_ago)).date().isoformat(),
        )
    soql = "SELECT Name FROM Account WHERE Renewal_Date__c = LAST_N_DAYS:3 ORDER BY Name"
    assert names(org, soql) == ["three", "today"]


def test_quoted_string_escapes_round_trip_from_format_soql(org: MemorySource) -> None:
    """Quoted String Escape Sequences (SOQL and SOSL Reference), as format_soql writes them."""
    awkward = 'O\'Brien "Bob" \\ back\nline\ttab'
    org.add("Account", Name=awkward)
    org.add("Account", Name="O'Brien")
    soql = format_soql("SELECT Name FROM Account WHERE Name = {}", awkward)
    assert names(org, soql) == [awkward]


def test_backslash_outside_an_escape_sequence_is_malformed(org: MemorySource) -> None:
    assert error(org, r"SELECT Id FROM Account WHERE Name = 'a\qb'").error_code == "MALFORMED_QUERY"


# -- ORDER BY, LIMIT, OFFSET -----------------------------------------------------------------


def test_order_by_puts_nulls_first_ascending_and_last_descending(accounts: MemorySource) -> None:
    """ORDER BY: nulls are the lowest values unless NULLS FIRST/LAST says otherwise."""
    assert names(accounts, "SELECT Name FROM Account ORDER BY Industry") == ["Crux", "Acme", "Bolt"]
    desc = names(accounts, "SELECT Name FROM Account ORDER BY AnnualRevenue DESC")
    assert desc == ["Acme", "Bolt", "Crux"]
    last = names(accounts, "SELECT Name FROM Account ORDER BY AnnualRevenue ASC NULLS LAST")
    assert last == ["Bolt", "Acme", "Crux"]


def test_order_by_picklist_follows_its_defined_order(accounts: MemorySource) -> None:
    """ORDER BY: picklists sort in the order defined in setup, not alphabetically."""
    rows = names(accounts, "SELECT Name FROM Account WHERE Industry != null ORDER BY Industry")
    assert rows == ["Acme", "Bolt"]


def test_order_by_multiple_keys_and_text_ignores_case(org: MemorySource) -> None:
    for name, title in (("b", "x"), ("B", "a"), ("a", "z")):
        org.add("Contact", Name=name, Title=title)
    assert names(org, "SELECT Name FROM Contact ORDER BY Name DESC, Title") == ["B", "b", "a"]


def test_order_by_id_uses_byte_order(org: MemorySource) -> None:
    for _ in range(70):  # the counter crosses from upper- to lower-case base-62 digits
        org.add("User", Name="u")
    rows = names(org, "SELECT Id FROM User ORDER BY Id", key="Id")
    assert rows == sorted(rows)
    assert rows != sorted(rows, key=str.upper)


def test_limit_and_offset_page_after_sorting(org: MemorySource) -> None:
    for name in "edcba":
        org.add("Account", Name=name)
    assert names(org, "SELECT Name FROM Account ORDER BY Name LIMIT 2 OFFSET 1") == ["b", "c"]


def test_offset_above_2000_is_rejected(org: MemorySource) -> None:
    err = error(org, "SELECT Id FROM Account OFFSET 2001")
    assert (err.error_code, err.message) == (
        "NUMBER_OUTSIDE_VALID_RANGE",
        "Maximum SOQL offset allowed is 2000",
    )


# -- errors ----------------------------------------------------------------------------------


def test_unknown_field_is_invalid_field_with_caret_message(org: MemorySource) -> None:
    """Shape as in forcedotcom/soql-tooling#86 and mautic/mautic#13406 REST bodies."""
    err = error(org, "SELECT Titel FROM Contact")
    assert err.error_code == "INVALID_FIELD"
    assert err.message == (
        "\nSELECT Titel FROM Contact\n       ^\nERROR at Row:1:Column:8\n"
        "No such column 'Titel' on entity 'Contact'. If you are attempting to use a custom "
        f"field, be sure to append the '__c' after the custom field name. {WSDL}"
    )


def test_unknown_sobject_is_invalid_type_with_caret_message(org: MemorySource) -> None:
    """The INVALID_TYPE body of the developer forum's "Error Structures" REST example."""
    err = error(org, "select id,name,type from accountx")
    assert err.error_code == "INVALID_TYPE"
    assert err.message == (
        "\nselect id,name,type from accountx\n                         ^\n"
        "ERROR at Row:1:Column:26\nsObject type 'accountx' is not supported. If you are "
        "attempting to use a custom object, be sure to append the '__c' after the entity "
        f"name. {WSDL}"
    )


def test_caret_window_shows_about_thirty_characters_around_the_token(org: MemorySource) -> None:
    """As in vlocityinc/vlocity_build#364: leading tokens beyond the window are cut."""
    err = error(org, "Select Id, vlocity_cmt__GlobalKey__c from vlocity_cmt____Group__c")
    lines = err.message.split("\n")
    assert lines[1] == "vlocity_cmt__GlobalKey__c from vlocity_cmt____Group__c"
    assert lines[2] == " " * 31 + "^"
    assert lines[3] == "ERROR at Row:1:Column:43"


def test_hidden_field_behaves_as_unknown_field(org: MemorySource) -> None:
    err = error(org, "SELECT Secret__c FROM Account")
    assert "No such column 'Secret__c' on entity 'Account'" in err.message


def test_unknown_relationship_is_invalid_field(org: MemorySource) -> None:
    err = error(org, "SELECT Acount.Name FROM Contact")
    assert err.error_code == "INVALID_FIELD"
    assert "Didn't understand relationship 'Acount' in field path." in err.message


def test_duplicate_field_is_rejected(org: MemorySource) -> None:
    """SOQL and SOSL Reference, FIELDS(): ``duplicate field selected: Id`` (INVALID_FIELD)."""
    err = error(org, "SELECT Id, Name, id FROM Account")
    assert (err.error_code, err.message) == ("INVALID_FIELD", "duplicate field selected: id")


@pytest.mark.parametrize(
    ("soql", "token"),
    [
        ("SELECT Id FROM Account LIMIT five", "five"),
        ("SELECT Id FROM Account WHERE", "<EOF>"),
        ("SELECT FROM Account", "SELECT FROM"),
        ("SELECT Id FROM Account WHERE Id IN ()", "Id IN ()"),
    ],
)
def test_syntax_error_reports_the_unexpected_token(
    org: MemorySource, soql: str, token: str
) -> None:
    """Summer '24 release notes: tokens quoted, ``SELECT FROM`` and ``X IN ()`` named whole."""
    err = error(org, soql)
    assert err.error_code == "MALFORMED_QUERY"
    assert err.message.endswith(f"unexpected token: '{token}'")


def test_stray_character_is_reported_at_its_zero_based_column(org: MemorySource) -> None:
    """Summer '24 release notes: ``line 1:15 unexpected token: '$'``."""
    err = error(org, "SELECT Id from $casecomment WHERE isdeleted = false")
    assert err.message.endswith("ERROR at Row:1:Column:15\nline 1:15 unexpected token: '$'")


# -- scale -----------------------------------------------------------------------------------


def test_incremental_pull_over_250k_records_stays_well_within_bounds(org: MemorySource) -> None:
    """A sanity bound, not a benchmark: the connector's pull query over a large org."""
    stamp = NOW - timedelta(days=400)
    rows = org.data["Account"]
    for i in range(250_000):
        moment = stamp + timedelta(seconds=(i * 7919) % 250_000)
        rid = ids.to18(f"001000{i:09d}")
        rows.append(
            {
                "Id": rid,
                "Name": f"a{i}",
                "IsDeleted": False,
                "SystemModstamp": moment.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
            }
        )
    cursor = (stamp + timedelta(seconds=125_000)).isoformat()
    soql = (
        "SELECT Id, Name, IsDeleted, SystemModstamp FROM Account "
        f"WHERE SystemModstamp > {cursor} ORDER BY SystemModstamp, Id"
    )
    started = time.perf_counter()
    result = run(org, soql, deleted=True)
    assert time.perf_counter() - started < 10
    assert result.total_size == 124_999
    stamps = [r["SystemModstamp"] for r in result.rows]
    assert stamps == sorted(stamps)
