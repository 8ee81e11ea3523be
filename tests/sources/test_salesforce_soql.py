"""Every SOQL the Salesforce source sends, checked as text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sf_support import CONTACT, USER

from connector.errors import ConfigError
from connector.model import Column, StreamSpec
from connector.sources.salesforce import soql

SINCE = datetime(2026, 3, 4, 5, 6, 7, 890_000, tzinfo=UTC)
CONTACT_FIELDS = (
    "Id, SystemModstamp, IsDeleted, Email, Title, AccountId, Account.Name, Left_Company__c, "
    "CreatedDate"
)


def test_a_first_sweep_selects_every_row_in_cursor_order():
    assert soql.incremental(CONTACT, None, inclusive=False) == (
        f"SELECT {CONTACT_FIELDS} FROM Contact ORDER BY SystemModstamp, Id"
    )


def test_an_incremental_sweep_reads_rows_after_the_cursor():
    assert soql.incremental(CONTACT, SINCE, inclusive=False) == (
        f"SELECT {CONTACT_FIELDS} FROM Contact "
        "WHERE SystemModstamp > 2026-03-04T05:06:07+00:00 ORDER BY SystemModstamp, Id"
    )


def test_a_resumed_sweep_reads_from_the_checkpoint_inclusive():
    assert soql.incremental(CONTACT, SINCE, inclusive=True) == (
        f"SELECT {CONTACT_FIELDS} FROM Contact "
        "WHERE SystemModstamp >= 2026-03-04T05:06:07+00:00 ORDER BY SystemModstamp, Id"
    )


def test_datetimes_in_other_zones_are_written_in_utc():
    cet = SINCE.astimezone(timezone(timedelta(hours=1)))

    assert "SystemModstamp > 2026-03-04T05:06:07+00:00 " in soql.incremental(CONTACT, cet, False)


def test_a_naive_datetime_is_refused():
    with pytest.raises(ValueError, match="naive"):
        soql.incremental(CONTACT, datetime(2026, 1, 1), inclusive=False)  # noqa: DTZ001


def test_the_bulk_query_has_no_order_by():
    assert soql.bulk(CONTACT) == f"SELECT {CONTACT_FIELDS} FROM Contact"


def test_the_count_query_counts_the_object():
    assert soql.count(CONTACT) == "SELECT COUNT() FROM Contact"


def test_the_id_sweep_selects_ids_in_order():
    assert soql.all_ids(CONTACT) == "SELECT Id FROM Contact ORDER BY Id"


def test_an_object_without_is_deleted_does_not_select_it():
    assert soql.incremental(USER, None, inclusive=False) == (
        "SELECT Id, SystemModstamp, Username, IsActive FROM User ORDER BY SystemModstamp, Id"
    )


def test_fields_already_selected_are_not_repeated():
    spec = StreamSpec(
        "c",
        "salesforce",
        "Contact",
        (Column("id", "text", "Id"), Column("stamp", "datetime", "systemmodstamp")),
        "SystemModstamp",
        "t",
    )

    assert soql.fields(spec) == ["Id", "SystemModstamp", "IsDeleted"]


def test_a_mapping_cursor_field_orders_and_filters_the_sweep():
    spec = StreamSpec("c", "salesforce", "Contact", (), "LastModifiedDate", "t")

    assert soql.incremental(spec, SINCE, inclusive=False) == (
        "SELECT Id, LastModifiedDate, IsDeleted FROM Contact "
        "WHERE LastModifiedDate > 2026-03-04T05:06:07+00:00 ORDER BY LastModifiedDate, Id"
    )


@pytest.mark.parametrize("field", ["Name; DELETE", "Name FROM User --", "1Name", "Account..Name"])
def test_a_field_that_is_not_an_api_name_is_a_config_error_naming_the_mapping(field):
    spec = StreamSpec("c", "salesforce", "Contact", (Column("x", "text", field),), None, "m.toml")

    with pytest.raises(ConfigError) as caught:
        soql.incremental(spec, None, inclusive=False)

    assert caught.value.file == "m.toml" and field in caught.value.key


def test_an_object_name_with_a_path_is_a_config_error():
    spec = StreamSpec("c", "salesforce", "Contact.Account", (), None, "m.toml")

    with pytest.raises(ConfigError):
        soql.count(spec)
