"""The shipped mappings against the sandbox org, the MappingSet API, and one-pass reporting."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from connector.errors import ConfigErrors
from connector.mappings import MappingSet, load_mappings, resolve
from connector.model import StreamSpec
from connector.sandbox.salesforce.schema import Schema, load_schema
from connector.sandbox.seed import generate

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "mappings"
DEMO_OBJECTS = {
    "account": "Account",
    "contact": "Contact",
    "user": "User",
    "opportunity": "Opportunity",
    "opportunity_contact_role": "OpportunityContactRole",
    "account_contact_role": "AccountContactRole",
    "task": "Task",
    "event": "Event",
    "survey_answer": "Survey_Answer__c",
    "usage_week": "Usage_Week__c",
    "cs_cta": "CS_CTA__c",
    "cs_timeline_entry": "CS_Timeline_Entry__c",
    "cs_milestone": "CS_Milestone__c",
    "cs_health_snapshot": "CS_Health_Snapshot__c",
    "cs_success_plan": "CS_Success_Plan__c",
    "cs_objective": "CS_Objective__c",
}


@cache
def _schema() -> Schema:
    return load_schema()


@cache
def _ticket_fields() -> tuple[dict[str, Any], ...]:
    demo = generate("S", seed=42, anchor=datetime(2026, 5, 4, 12, tzinfo=UTC))
    return tuple(demo.zendesk["ticket_fields"])


def describe(name: str) -> dict[str, Any]:
    return _schema().describe(name, "62.0")


def resolve_against_sandbox(mappings: MappingSet, **kwargs: Any) -> dict[str, StreamSpec]:
    args: dict[str, Any] = {
        "salesforce_describe": describe,
        "zendesk_ticket_fields": list(_ticket_fields()),
        **kwargs,
    }
    return {spec.name: spec for spec in resolve(mappings, **args)}


@pytest.fixture
def specs() -> dict[str, StreamSpec]:
    return resolve_against_sandbox(load_mappings(SHIPPED))


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    root = tmp_path / "mappings"
    shutil.copytree(SHIPPED, root)
    return root


def test_the_shipped_mappings_resolve_against_the_demo_org(specs: dict[str, StreamSpec]) -> None:
    salesforce = {s.name: s.source_object for s in specs.values() if s.source == "salesforce"}
    assert salesforce == DEMO_OBJECTS
    zendesk = {s.name: s.source_object for s in specs.values() if s.source == "zendesk"}
    assert zendesk == {
        "zendesk_ticket": "tickets",
        "zendesk_organization": "organizations",
        "zendesk_user": "users",
        "zendesk_group": "groups",
    }


def test_the_csv_examples_are_listed_as_disabled_and_produce_no_stream() -> None:
    mappings = load_mappings(SHIPPED)
    assert {(m.source, m.stream) for m in mappings.disabled} == {
        ("csv", "survey_answer"),
        ("csv", "usage_week"),
    }


def test_the_csv_examples_fill_the_same_columns_as_their_salesforce_streams() -> None:
    mappings = load_mappings(SHIPPED)
    for csv in mappings.disabled:
        salesforce = mappings.stream(csv.stream)
        assert salesforce is not None
        assert set(csv.columns) <= set(salesforce.columns)


def test_column_types_come_from_describe_unless_a_transform_gives_one(
    specs: dict[str, StreamSpec],
) -> None:
    account = specs["account"]
    types = {c.name: c.type for c in account.columns}
    assert types["renewal_date"] == "date"  # describe: date
    assert types["ivm_kickoff_done"] == "bool"  # describe: boolean
    assert types["licenses_purchased"] == "int"  # describe: double, transform int
    assert types["products_owned"] == "json"  # multipicklist + split_semicolons
    assert types["segment"] == "text"  # picklist
    assert types["health_score"] == "float"  # double


def test_user_is_marked_as_having_no_is_deleted_field(specs: dict[str, StreamSpec]) -> None:
    assert specs["user"].options["has_is_deleted"] is False
    assert specs["contact"].options["has_is_deleted"] is True


def test_the_account_spec_carries_the_customer_filter(specs: dict[str, StreamSpec]) -> None:
    assert specs["account"].options["customer_filter"] == {
        "field": "Type",
        "column": "type",
        "values": ["Customer - Direct", "Customer - Channel"],
    }


def test_every_salesforce_spec_uses_system_modstamp_as_cursor(
    specs: dict[str, StreamSpec],
) -> None:
    cursors = {s.cursor_field for s in specs.values() if s.source == "salesforce"}
    assert cursors == {"SystemModstamp"}


def test_salesforce_field_names_are_given_in_the_orgs_spelling(copy: Path) -> None:
    path = copy / "salesforce" / "contact.toml"
    path.write_text(path.read_text().replace('Title = "title"', 'TITLE = "title"'))
    specs = resolve_against_sandbox(load_mappings(copy))
    column = specs["contact"].column("title")
    assert column is not None and column.source_field == "Title"


def test_the_ticket_spec_maps_custom_field_ids_to_columns(specs: dict[str, StreamSpec]) -> None:
    ticket = specs["zendesk_ticket"]
    assert ticket.options["endpoint"] == "tickets"
    assert ticket.options["custom_fields"] == {
        16: "product_area",
        17: "cs_account_id",
        18: "cs_risk_type",
        19: "cs_cta_id",
    }
    column = ticket.column("product_area")
    assert column is not None and column.source_field == "custom_fields.16"


def test_the_organization_spec_links_tickets_to_accounts(specs: dict[str, StreamSpec]) -> None:
    org = specs["zendesk_organization"]
    assert org.options["account_link"] == {"field": "external_id", "column": "account_id"}
    column = org.column("account_id")
    assert column is not None and (column.source_field, column.transform) == ("external_id", "id18")


def test_zendesk_groups_have_no_cursor_and_the_exports_use_updated_at(
    specs: dict[str, StreamSpec],
) -> None:
    assert specs["zendesk_group"].cursor_field is None
    assert specs["zendesk_ticket"].cursor_field == "updated_at"


def test_the_mapping_set_names_the_customer_filter_and_threshold_columns() -> None:
    mappings = load_mappings(SHIPPED)
    assert mappings.customer_filter is not None
    assert (mappings.customer_filter.stream, mappings.customer_filter.column) == ("account", "type")
    assert mappings.threshold_fields == {
        "support.volume_threshold": "support_volume_threshold",
        "bug.volume_threshold": "bug_volume_threshold",
    }


def test_an_unmapped_threshold_field_drops_out_of_the_threshold_columns(copy: Path) -> None:
    path = copy / "salesforce" / "account.toml"
    text = path.read_text()
    path.write_text(re.sub(r"Bug_Volume_Threshold__c = .*\n", "", text))
    assert load_mappings(copy).threshold_fields == {
        "support.volume_threshold": "support_volume_threshold"
    }


def test_column_for_translates_a_salesforce_field_to_its_column() -> None:
    mappings = load_mappings(SHIPPED)
    assert mappings.column_for("account", "IVM_Training_Done__c") == "ivm_training_done"
    assert mappings.column_for("contact", "left_company__c") == "inactive"
    assert mappings.column_for("contact", "Birthdate") is None
    account = mappings.stream("account")
    assert account is not None and account.field_for("csm_id") == "CSM__c"


def test_without_a_describe_the_salesforce_streams_are_left_out() -> None:
    specs = resolve(load_mappings(SHIPPED), salesforce_describe=None, zendesk_ticket_fields=None)
    assert {s.source for s in specs} == {"zendesk"}


def test_an_unknown_object_is_caught_from_the_describe_callables_lookup_error(copy: Path) -> None:
    path = copy / "salesforce" / "contact.toml"
    path.write_text(path.read_text().replace('object = "Contact"', 'object = "Contct"'))
    with pytest.raises(ConfigErrors) as caught:
        resolve_against_sandbox(load_mappings(copy))  # KeyError from the sandbox describe
    assert [e.line() for e in caught.value.errors] == [
        "mappings/salesforce/contact.toml:object: no sObject 'Contct' in the org"
    ]


def test_every_problem_of_every_file_is_reported_in_one_pass(copy: Path) -> None:
    contact = copy / "salesforce" / "contact.toml"
    text = contact.read_text().replace(
        'Title = "title"', 'Title = { column = "title", transform = "upper" }'
    )
    contact.write_text(text.replace('Name = "name"', 'Name = "Full Name"'))
    opportunity = copy / "salesforce" / "opportunity.toml"
    opportunity.write_text(opportunity.read_text().replace("[fields]", "enabled = 1\n[fields]"))
    (copy / "zendesk" / "broken.toml").write_text("endpoint = \n")
    with pytest.raises(ConfigErrors) as caught:
        load_mappings(copy)
    lines = [e.line() for e in caught.value.errors]
    assert lines == [
        "mappings/salesforce/contact.toml:fields.Name: column 'Full Name' is not a valid column"
        " name (lower-case letters, digits and _, starting with a letter)",
        "mappings/salesforce/contact.toml:fields.Title: unknown transform 'upper' (known: bool,"
        " date, datetime, float, id18, int, json, lower, split_semicolons, strip, zendesk_id)",
        "mappings/salesforce/opportunity.toml:enabled: expected true or false, got 1",
        "mappings/zendesk/broken.toml: invalid TOML at line 1, column 12: Invalid value",
    ]


def test_resolve_reports_every_unknown_field_at_once(copy: Path) -> None:
    for name, old, new in [
        ("contact", 'Title = "title"', 'Titel = "title"'),
        ("contact", 'Email = { column = "email"', 'Emial = { column = "email"'),
        ("account", 'Segment__c = "segment"', 'Segmnt__c = "segment"'),
    ]:
        path = copy / "salesforce" / f"{name}.toml"
        path.write_text(path.read_text().replace(old, new))
    with pytest.raises(ConfigErrors) as caught:
        resolve_against_sandbox(load_mappings(copy))
    assert [(e.file, e.key) for e in caught.value.errors] == [
        ("mappings/salesforce/account.toml", "fields.Segmnt__c"),
        ("mappings/salesforce/contact.toml", "fields.Emial"),
        ("mappings/salesforce/contact.toml", "fields.Titel"),
    ]


def test_a_missing_mappings_folder_is_one_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigErrors) as caught:
        load_mappings(tmp_path / "nowhere")
    assert caught.value.errors[0].reason == "no such mappings folder"


def test_files_outside_the_three_source_folders_are_not_read_as_streams(copy: Path) -> None:
    (copy / "salesforce" / "outputs").mkdir(exist_ok=True)
    (copy / "salesforce" / "outputs" / "cs_cta.toml").write_text("anything = 1\n")
    (copy / "rules.toml").write_text("[support]\nvolume_threshold = 20\n")
    assert len(load_mappings(copy).streams) == len(load_mappings(SHIPPED).streams)


def _documented_contract() -> dict[str, set[str]]:
    """Stream -> columns, from docs/mappings.md's contract section."""
    text = (REPO / "docs" / "mappings.md").read_text()
    contract: dict[str, set[str]] = {}
    stream = ""
    for line in text[text.index("## The column contract") :].splitlines():
        heading = re.match(r"### `(\w+)`", line)
        if heading:
            stream = heading.group(1)
        row = re.match(r"\| `(\w+)` \| (.*)", line)
        if row and stream and not row.group(2).startswith("`"):
            contract.setdefault(stream, set()).add(row.group(1))
        elif row:  # a "stream | columns" table
            contract[row.group(1)] = set(re.findall(r"`(\w+)`", row.group(2)))
    return contract


def test_the_column_contract_in_the_docs_matches_the_shipped_mappings() -> None:
    mappings = load_mappings(SHIPPED)
    documented = _documented_contract()
    roles = documented.pop("opportunity_contact_role")  # one table for both role streams
    documented["opportunity_contact_role"] = roles - {"account_id"}
    documented["account_contact_role"] = roles - {"opportunity_id"}
    shipped = {m.stream: set(m.columns) for m in mappings.streams}
    assert documented == shipped
