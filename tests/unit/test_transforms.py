"""Named transforms, and rows built from Salesforce, Zendesk and CSV records."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from connector.errors import RecordError
from connector.model import Column, Row, StreamSpec
from connector.sandbox.ids import to18
from connector.transforms import (
    TRANSFORMS,
    SourceInstant,
    parse_datetime,
    register,
    row_builder,
    salesforce_id18,
    source_instant,
    to_row,
    utc_text,
)

REPO = Path(__file__).resolve().parents[2]


def spec(*columns: Column, source: str = "salesforce") -> StreamSpec:
    return StreamSpec("thing", source, "Thing", columns, None, "mappings/x.toml")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "given", "expected"),
    [
        ("strip", "  Acme  ", "Acme"),
        ("strip", "   ", None),
        ("lower", "Ann@Example.COM", "ann@example.com"),
        ("split_semicolons", "Analytics;Automation", ["Analytics", "Automation"]),
        ("split_semicolons", "Analytics; ;Mobile;", ["Analytics", "Mobile"]),
        ("json", ["bug", "urgent"], ["bug", "urgent"]),
        ("json", '{"a": 1}', {"a": 1}),
        ("date", "2026-05-04", date(2026, 5, 4)),
        ("datetime", "2026-05-04T10:30:00.000+0000", datetime(2026, 5, 4, 10, 30, tzinfo=UTC)),
        ("datetime", "2026-05-04T10:30:00Z", datetime(2026, 5, 4, 10, 30, tzinfo=UTC)),
        ("datetime", "2026-05-04T12:30:00+02:00", datetime(2026, 5, 4, 10, 30, tzinfo=UTC)),
        ("datetime", "2026-05-04T10:30:00", datetime(2026, 5, 4, 10, 30, tzinfo=UTC)),
        ("datetime", 0, datetime(1970, 1, 1, tzinfo=UTC)),
        ("int", 200.0, 200),
        ("int", "42", 42),
        ("int", 7, 7),
        ("float", "2.5", 2.5),
        ("float", 3, 3.0),
        ("bool", True, True),
        ("bool", "Yes", True),
        ("bool", "0", False),
        ("id18", "0015j0000000001", "0015j0000000001AAA"),
        ("id18", "001Ab00000XyZab", "001Ab00000XyZabIAF"),
        ("id18", "001ab00000xyzabiaf", "001Ab00000XyZabIAF"),  # case restored from the suffix
        ("zendesk_id", 360001234, "360001234"),
        ("zendesk_id", "42", "42"),
    ],
)
def test_a_transform_turns_a_source_value_into_its_store_value(
    name: str, given: Any, expected: Any
) -> None:
    assert TRANSFORMS[name].fn(given) == expected


@pytest.mark.parametrize(
    ("name", "given", "message"),
    [
        ("int", 4.5, "expected a whole number, got 4.5"),
        ("int", True, "expected a whole number, got True"),
        ("float", "n/a", "expected a number, got 'n/a'"),
        ("float", "nan", "expected a number, got 'nan'"),
        ("bool", "maybe", "expected true or false, got 'maybe'"),
        ("date", "04/05/2026", "expected a date YYYY-MM-DD, got '04/05/2026'"),
        ("datetime", "yesterday", "expected an ISO 8601 date-time, got 'yesterday'"),
        ("json", "[1,", "not valid JSON: '[1,'"),
        ("id18", "ACME-001", "not a Salesforce id (15 or 18 letters and digits): 'ACME-001'"),
        ("zendesk_id", "abc", "expected a Zendesk id, got 'abc'"),
        ("split_semicolons", 3, "expected text such as 'A;B', got 3"),
    ],
)
def test_a_transform_rejects_a_value_it_cannot_read(name: str, given: Any, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        TRANSFORMS[name].fn(given)


def test_id18_agrees_with_the_sandbox_id_minter() -> None:
    for id15 in ("0015j0000000001", "a0D30000001n7Pi", "003Zz00000AbCdE"):
        assert salesforce_id18(id15) == to18(id15)


def test_id18_keeps_an_18_character_id_as_it_is() -> None:
    assert salesforce_id18("a0D30000001n7PiEAI") == "a0D30000001n7PiEAI"


def test_every_transform_declares_a_store_type() -> None:
    assert {t.output for t in TRANSFORMS.values()} <= {
        "text", "int", "float", "bool", "date", "datetime", "json",
    }  # fmt: skip


def test_the_docs_list_every_registered_transform() -> None:
    text = (REPO / "docs" / "mappings.md").read_text()
    table = text[text.index("## Transforms") : text.index("## The column contract")]
    assert set(re.findall(r"^\| `(\w+)` \|", table, re.M)) == set(TRANSFORMS)


def test_register_adds_a_named_transform_to_the_registry() -> None:
    @register("test_reverse", "text", accepts={"text"})
    def reverse(value: Any) -> str:
        """Reverse text."""
        return str(value)[::-1]

    try:
        assert TRANSFORMS["test_reverse"].fn("abc") == "cba"
        assert TRANSFORMS["test_reverse"].doc == "Reverse text."
    finally:
        del TRANSFORMS["test_reverse"]


SF_RECORD = {
    "attributes": {"type": "Survey_Answer__c"},
    "Id": "a015j0000000001AAA",
    "Name": "Relationship survey - Pia Turner",
    "Score__c": 6.0,
    "Answer_Date__c": "2026-04-24",
    "Contact__c": None,
    "CreatedDate": "2026-04-24T09:15:00.000+0000",
}
ANSWER = spec(
    Column("name", "text", "Name"),
    Column("score", "int", "Score__c", "int"),
    Column("answer_date", "date", "Answer_Date__c"),
    Column("contact_id", "text", "Contact__c"),
    Column("created_at", "datetime", "CreatedDate"),
    Column("comment", "text", "Comment__c"),
)


def test_a_salesforce_record_becomes_a_row_of_typed_values() -> None:
    stamp = datetime(2026, 4, 24, 9, 15, tzinfo=UTC)
    row = to_row(ANSWER, "a015j0000000001AAA", stamp, False, SF_RECORD)
    assert row == Row(
        "a015j0000000001AAA",
        stamp,
        False,
        {
            "name": "Relationship survey - Pia Turner",
            "score": 6,
            "answer_date": date(2026, 4, 24),
            "contact_id": None,
            "created_at": datetime(2026, 4, 24, 9, 15, tzinfo=UTC),
            "comment": None,  # not in the record
        },
    )


def test_a_value_that_does_not_convert_names_the_record_and_the_field() -> None:
    with pytest.raises(RecordError) as caught:
        to_row(ANSWER, "a01X", None, False, {**SF_RECORD, "Score__c": 6.5})
    assert (caught.value.record_id, caught.value.reason) == (
        "a01X",
        "fields.Score__c: expected a whole number, got 6.5",
    )


def test_an_empty_string_is_stored_as_null() -> None:
    row = to_row(ANSWER, "a01X", None, False, {**SF_RECORD, "Answer_Date__c": "", "Name": ""})
    assert row.values["answer_date"] is None and row.values["name"] is None


def test_a_text_column_refuses_a_list_and_suggests_a_transform() -> None:
    tags = spec(Column("tags", "text", "tags"), source="zendesk")
    with pytest.raises(RecordError, match=r"fields\.tags: expected text, got \['bug'\]"):
        to_row(tags, "1", None, False, {"tags": ["bug"]})


def test_a_number_in_a_text_column_is_written_out() -> None:
    ids = spec(Column("group_id", "text", "group_id"), source="zendesk")
    assert to_row(ids, "1", None, False, {"group_id": 360}).values == {"group_id": "360"}


def test_zendesk_custom_fields_are_read_by_id() -> None:
    ticket = spec(
        Column("status", "text", "status"),
        Column("product_area", "text", "custom_fields.16"),
        Column("cs_risk_type", "text", "custom_fields.18"),
        Column("escalated", "bool", "custom_fields.20"),
        source="zendesk",
    )
    raw = {
        "status": "open",
        "custom_fields": [
            {"id": 16, "value": "analytics"},
            {"id": 18, "value": None},
            {"id": 20, "value": True},
        ],
    }
    assert to_row(ticket, "25", None, False, raw).values == {
        "status": "open",
        "product_area": "analytics",
        "cs_risk_type": None,
        "escalated": True,
    }


def test_a_missing_custom_field_is_null() -> None:
    ticket = spec(Column("product_area", "text", "custom_fields.16"), source="zendesk")
    assert to_row(ticket, "25", None, False, {"custom_fields": []}).values == {"product_area": None}


def test_a_bad_custom_field_value_names_the_custom_field() -> None:
    ticket = spec(Column("seats", "int", "custom_fields.21"), source="zendesk")
    raw = {"custom_fields": [{"id": 21, "value": "lots"}]}
    with pytest.raises(RecordError, match=r"^25: custom_fields\.21: expected a number"):
        to_row(ticket, "25", None, False, raw)


def test_a_dotted_source_field_reads_into_a_nested_object() -> None:
    org = spec(
        Column("account_id", "text", "organization_fields.sf_account", "id18"),
        Column("channel", "text", "via.channel"),
        source="zendesk",
    )
    raw = {"organization_fields": {"sf_account": "0015j0000000001"}, "via": None}
    assert to_row(org, "7", None, False, raw).values == {
        "account_id": "0015j0000000001AAA",
        "channel": None,
    }


def test_csv_cells_are_converted_by_their_transforms() -> None:
    usage = spec(
        Column("week_start", "date", "week_start", "date"),
        Column("active_users", "int", "active_users", "int"),
        Column("feature_api", "float", "api_calls", "float"),
        Column("contact_id", "text", "contact_id", "id18"),
        source="csv",
    )
    raw = {"week_start": "2026-04-27", "active_users": "17", "api_calls": "12.5", "contact_id": ""}
    assert to_row(usage, "r1", None, False, raw).values == {
        "week_start": date(2026, 4, 27),
        "active_users": 17,
        "feature_api": 12.5,
        "contact_id": None,
    }


def test_datetimes_are_stored_in_utc_whatever_offset_the_source_wrote() -> None:
    event = spec(Column("start_at", "datetime", "StartDateTime"))
    raw = {"StartDateTime": "2026-05-04T09:00:00.000-0500"}
    start = to_row(event, "00U1", None, False, raw).values["start_at"]
    assert start == datetime(2026, 5, 4, 14, 0, tzinfo=UTC)
    assert start.utcoffset() == timedelta(0)
    assert start.tzinfo == UTC


def test_a_compiled_builder_gives_the_same_rows_as_to_row() -> None:
    build = row_builder(ANSWER)
    assert build("a01X", None, True, SF_RECORD) == to_row(ANSWER, "a01X", None, True, SF_RECORD)


@pytest.mark.parametrize(
    "text",
    [
        "2025-06-17T00:26:58Z",
        "2025-06-17T00:26:58.120Z",
        "2025-12-02T09:07:03.000+0000",
        "2025-12-02T09:07:03.999+00:00",
        "0999-01-01T00:00:00.001Z",
    ],
)
def test_api_utc_text_is_read_without_formatting_and_gives_isoformat_text(text):
    instant = source_instant(text)
    assert isinstance(instant, SourceInstant) and instant.tzinfo is UTC
    assert instant == datetime.fromisoformat(text)
    assert parse_datetime(text) == instant
    assert utc_text(instant) == instant.replace(tzinfo=None).isoformat(" ", "microseconds")


@pytest.mark.parametrize(
    "text",
    [
        "20250617T002658.123Z",  # basic form: fromisoformat takes it, the slices would not
        "2025-06-17T00:26:58,123Z",  # comma before the fraction
        "2025-06-17T002658.1234Z",
        "2025-06-17T24:00:00Z",
        "2025-12-02T09:07:03.000+0200",
        "2025-12-02T09:07:03.000-0000x",
        " 2025-06-17T00:26:58Z",
        "2025-02-30T00:00:00Z",
        "2025-06-17T00:26:58",
        "",
    ],
)
def test_other_text_is_left_to_the_full_parse(text):
    assert source_instant(text) is None


def test_an_instant_derived_from_a_source_instant_is_formatted():
    instant = source_instant("2025-06-17T00:26:58Z")
    assert instant is not None
    later = instant + timedelta(microseconds=5)
    moved = instant.replace(hour=3)
    assert utc_text(later) == "2025-06-17 00:26:58.000005"
    assert utc_text(moved) == "2025-06-17 03:26:58.000000"
    assert utc_text(datetime(2025, 1, 1, 1, tzinfo=timezone(timedelta(hours=1)))) == (
        "2025-01-01 00:00:00.000000"
    )
