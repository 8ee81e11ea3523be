"""The sandbox schema: SFDX metadata, standard objects, and the describe JSON built from them.

References checked:
- Metadata API Developer Guide, CustomObject and CustomField
  (developer.salesforce.com/docs/platform/api-metadata/references/meta-types/metadata-customobject.html,
  www.salesforce.com/us/developer/docs/api_meta/Content/customfield.htm) and "Metadata Field Types"
  (api_meta/meta_field_types.htm: a Number field is a double, scale 0 included).
- REST API Developer Guide, "Describe Global" (api-rest/guide/resources-describeglobal.html)
  and "sObject Describe" / "Get Field and Other Metadata for an Object"
  (api_rest/dome_sobject_describe.htm); SOAP API "DescribeGlobalResult"
  (api/guide/sforce-api-calls-describeglobal-describeglobalresult.html) for the property names
  the REST JSON reuses.
- Object Reference: Task, OpportunityContactRole, AccountContactRole; Field Reference (sfFieldRef)
  for Task and OpportunityContactRole lengths.
"""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from connector.sandbox.salesforce import schema as sf_schema
from connector.sandbox.salesforce.schema import Schema, load_schema
from connector.sandbox.salesforce.sfdx import METADATA_NS, metadata_files

REPO = Path(__file__).resolve().parents[2]
SALESFORCE = REPO / "salesforce"
FORCE_APP = SALESFORCE / "force-app"
DEMO_INPUTS = SALESFORCE / "demo-inputs"
DOC = REPO / "docs" / "salesforce-objects.md"

CS_OBJECTS = [
    "CS_CTA__c",
    "CS_Timeline_Entry__c",
    "CS_Milestone__c",
    "CS_Health_Snapshot__c",
    "CS_Success_Plan__c",
    "CS_Objective__c",
]
COLORS = ("Green", "Yellow", "Orange", "Red")
MEASURES = ("Support", "Bug", "Deployment", "Adoption", "NPS", "Engagement")


@pytest.fixture(scope="module")
def schema() -> Schema:
    return load_schema()


def _expected() -> dict[tuple[str, str], tuple[str, int]]:
    """(object, field) -> (describe type, length or precision), per docs/salesforce-objects.md."""
    long_text, date, lookup = ("textarea", 32768), ("date", 0), ("reference", 0)
    pick, number = ("picklist", 0), ("double", 18)
    e: dict[tuple[str, str], tuple[str, int]] = {}
    for obj in CS_OBJECTS:
        e[(obj, "Name")] = ("string", 80)
        e[(obj, "Sync_Key__c")] = ("string", 255)
        e[(obj, "Sync_Hash__c")] = ("string", 64)
    cta = {
        "Account__c": lookup,
        "Contact__c": lookup,
        "Opportunity__c": lookup,
        "Type__c": pick,
        "Reason__c": pick,
        "Status__c": pick,
        "Closed_Date__c": date,
        "Priority__c": pick,
        "Due_Date__c": date,
        "Snooze_Until__c": date,
        "Escalation__c": pick,
        "Comments__c": long_text,
        "Rule_Id__c": ("string", 80),
        "Evidence__c": long_text,
        "Rule_State__c": pick,
        "Zendesk_Ticket_Id__c": ("string", 20),
        "Last_Evaluated__c": ("datetime", 0),
    }
    e.update({("CS_CTA__c", f): t for f, t in cta.items()})
    timeline = {
        "Account__c": lookup,
        "CTA__c": lookup,
        "Entry_Type__c": pick,
        "Entry_Date__c": date,
        "Body__c": long_text,
    }
    e.update({("CS_Timeline_Entry__c", f): t for f, t in timeline.items()})
    milestone = {
        "Account__c": lookup,
        "Milestone_Type__c": pick,
        "Milestone_Date__c": date,
        "CTA__c": lookup,
        "Opportunity__c": lookup,
        "Notes__c": long_text,
    }
    e.update({("CS_Milestone__c", f): t for f, t in milestone.items()})
    snap = {
        "Account__c": lookup,
        "Week__c": ("string", 8),
        "Week_Start__c": date,
        "Overall_Color__c": pick,
        "Overall_Score__c": ("double", 5),
        "Evidence__c": long_text,
    }
    for m in MEASURES:
        snap[f"{m}_Color__c"] = pick
        snap[f"{m}_Figure__c"] = ("double", 16)
    e.update({("CS_Health_Snapshot__c", f): t for f, t in snap.items()})
    plan = {
        "Account__c": lookup,
        "Plan_Type__c": pick,
        "Status__c": pick,
        "Health_Recovered__c": ("boolean", 0),
        "Health_Recovered_Date__c": date,
        "Evidence__c": long_text,
    }
    e.update({("CS_Success_Plan__c", f): t for f, t in plan.items()})
    objective = {
        "Success_Plan__c": lookup,
        "Measure__c": pick,
        "Target__c": ("string", 255),
        "Current_Figure__c": ("string", 80),
        "Status__c": pick,
    }
    e.update({("CS_Objective__c", f): t for f, t in objective.items()})
    e[("Contact", "CS_Persona__c")] = pick
    for activity in ("Task", "Event"):
        e[(activity, "CS_Sync_Key__c")] = ("string", 255)
        e[(activity, "CS_Sync_Hash__c")] = ("string", 64)
    e[("Account", "CS_Health_Score__c")] = ("double", 5)
    e[("Account", "CS_Health_Color__c")] = pick
    e[("Account", "CS_Health_Updated__c")] = date
    account_inputs = {
        "Segment__c": pick,
        "CSM__c": lookup,
        "Lifecycle_Stage__c": pick,
        "Licenses_Purchased__c": number,
        "Licenses_Active__c": number,
        "Renewal_Date__c": date,
        "Products_Owned__c": ("multipicklist", 0),
        "IVM_Kickoff_Done__c": ("boolean", 0),
        "IVM_Integration_Live__c": ("boolean", 0),
        "IVM_Training_Done__c": ("boolean", 0),
        "Support_Volume_Threshold__c": number,
        "Bug_Volume_Threshold__c": number,
    }
    e.update({("Account", f): t for f, t in account_inputs.items()})
    e[("Contact", "Left_Company__c")] = ("boolean", 0)
    survey = {
        "Name": ("string", 80),
        "Account__c": lookup,
        "Contact__c": lookup,
        "Kind__c": pick,
        "Score__c": ("double", 2),
        "Answer_Date__c": date,
        "Comment__c": long_text,
    }
    e.update({("Survey_Answer__c", f): t for f, t in survey.items()})
    usage = {
        "Name": ("string", 80),
        "Account__c": lookup,
        "Week_Start__c": date,
        "Active_Users__c": number,
    }
    for feat in ("Dashboards", "Reports", "Alerts", "Integrations", "Automations", "Mobile", "API"):
        usage[f"Feature_{feat}__c"] = number
    e.update({("Usage_Week__c", f): t for f, t in usage.items()})
    return e


EXPECTED = _expected()


# --- the SFDX source ---------------------------------------------------------------------------


ROOT_BY_SUFFIX = {
    ".object-meta.xml": "CustomObject",
    ".field-meta.xml": "CustomField",
    ".listView-meta.xml": "ListView",
    ".permissionset-meta.xml": "PermissionSet",
    ".layout-meta.xml": "Layout",
    ".compactLayout-meta.xml": "CompactLayout",
    ".reportType-meta.xml": "ReportType",
}


def test_every_metadata_file_is_metadata_api_xml_named_for_its_component():
    files = list(metadata_files([FORCE_APP, DEMO_INPUTS]))
    assert len(files) > 100
    for path in files:
        root = ET.parse(path).getroot()
        suffix = "." + path.name.split(".", 1)[1]
        kind = ROOT_BY_SUFFIX[suffix]
        assert root.tag == f"{{{METADATA_NS}}}{kind}", path
        if kind == "CustomField":
            full_name = root.find(f"{{{METADATA_NS}}}fullName")
            assert full_name is not None and path.name == f"{full_name.text}.field-meta.xml"


def test_sfdx_project_lists_both_packages_with_force_app_as_default():
    project = json.loads((SALESFORCE / "sfdx-project.json").read_text())
    dirs = {d["path"]: d.get("default", False) for d in project["packageDirectories"]}
    assert dirs == {"force-app": True, "demo-inputs": False}
    assert project["sourceApiVersion"] == "62.0"


def test_lookups_declare_a_delete_constraint_and_objects_their_sharing_and_status():
    for path in metadata_files([FORCE_APP, DEMO_INPUTS]):
        root = ET.parse(path).getroot()
        ns = {"m": METADATA_NS}
        if root.findtext("m:type", namespaces=ns) == "Lookup":
            assert root.findtext("m:deleteConstraint", namespaces=ns) == "SetNull", path
        if path.name.endswith(".object-meta.xml"):
            assert root.findtext("m:deploymentStatus", namespaces=ns) == "Deployed"
            assert root.findtext("m:sharingModel", namespaces=ns) in (
                "ReadWrite",
                "ControlledByParent",
            )
            assert root.find("m:nameField", ns) is not None


# --- the documented fields ---------------------------------------------------------------------


@pytest.mark.parametrize(("obj", "name"), sorted(EXPECTED))
def test_documented_field_exists_with_its_describe_type(schema, obj, name):
    kind, size = EXPECTED[(obj, name)]
    field = schema.get(obj).field(name)
    assert field is not None, f"{obj}.{name} missing"
    assert field.type == kind
    if kind in ("string", "textarea"):
        assert field.length == size
    if kind == "double":
        assert field.precision == size


def test_every_custom_field_the_doc_names_is_in_the_schema(schema):
    names = set(re.findall(r"`([A-Za-z_]+__c)`", DOC.read_text())) - {"M_Color__c", "M_Figure__c"}
    known = {f.name for obj in schema for f in obj.fields.values()} | set(schema.names())
    assert names - known == set()


def test_sync_keys_are_unique_case_sensitive_external_ids(schema):
    keys = [schema.get(o).field("Sync_Key__c") for o in CS_OBJECTS]
    keys += [schema.get(o).field("CS_Sync_Key__c") for o in ("Task", "Event")]
    for key in keys:
        assert (key.external_id, key.unique, key.case_sensitive, key.id_lookup) == (
            True,
            True,
            True,
            True,
        )
    assert not schema.get("CS_CTA__c").field("Sync_Hash__c").external_id


RESTRICTED = {
    ("CS_CTA__c", f)
    for f in ("Type__c", "Reason__c", "Status__c", "Priority__c", "Escalation__c", "Rule_State__c")
} | {("CS_Milestone__c", "Milestone_Type__c")}


@pytest.mark.parametrize(
    ("obj", "name"), sorted(k for k, v in EXPECTED.items() if v[0] == "picklist")
)
def test_picklist_is_restricted_exactly_when_the_doc_says_so(schema, obj, name):
    assert schema.get(obj).field(name).restricted_picklist == ((obj, name) in RESTRICTED)


def test_picklists_carry_the_documented_values_and_defaults(schema):
    status = schema.get("CS_CTA__c").field("Status__c")
    assert status.picklist_values == (
        "New",
        "In Progress",
        "Closed - Success",
        "Closed - No Action",
        "Closed - Lost",
    )
    assert (status.default_value, status.defaulted_on_create) == ("New", True)
    assert schema.get("CS_CTA__c").field("Escalation__c").default_value == "Not Escalated"
    assert schema.get("CS_Success_Plan__c").field("Status__c").default_value == "Active"
    assert schema.get("CS_Objective__c").field("Status__c").default_value == "Not Started"
    assert schema.get("CS_Health_Snapshot__c").field("Bug_Color__c").picklist_values == COLORS
    assert schema.get("CS_CTA__c").field("Type__c").default_value is None


def test_lookups_name_their_relationship_and_the_parent_lists_the_children(schema):
    account_field = schema.get("CS_CTA__c").field("Account__c")
    assert account_field.reference_to == ("Account",)
    assert account_field.relationship_name == "Account__r"
    assert schema.get("Account").relationship("csm__r").name == "CSM__c"
    children = {
        (c.child_sobject, c.relationship_name) for c in schema.get("Account").child_relationships
    }
    assert {
        ("Contact", "Contacts"),
        ("CS_CTA__c", "CS_CTAs__r"),
        ("Opportunity", "Opportunities"),
    } <= children


def test_master_detail_is_required_and_cascades(schema):
    parent = schema.get("CS_Objective__c").field("Success_Plan__c")
    assert not parent.nillable and parent.cascade_delete and parent.required_on_create
    assert schema.get("CS_Objective__c").field("OwnerId") is None  # owned through its plan


def test_checkboxes_are_never_null_and_default_from_metadata(schema):
    box = schema.get("Account").field("IVM_Kickoff_Done__c")
    assert (box.nillable, box.defaulted_on_create, box.default_value) == (False, True, False)
    assert not box.required_on_create


def test_custom_activity_fields_appear_on_task_and_event(schema):
    for name in ("Task", "Event"):
        assert schema.get(name).field("CS_Sync_Key__c").custom
    assert schema.get("Activity") is None


def test_tasks_can_point_to_objects_that_enable_activities(schema):
    what = schema.get("Task").field("WhatId")
    assert {"Account", "Opportunity", "CS_CTA__c", "CS_Success_Plan__c"} <= set(what.reference_to)
    assert "CS_Health_Snapshot__c" not in what.reference_to
    assert (what.relationship_name, what.polymorphic) == ("What", True)
    assert schema.get("Task").relationship("what").name == "WhatId"
    assert schema.get("CS_CTA__c").field("LastActivityDate") is not None
    cta_children = {c.relationship_name for c in schema.get("CS_CTA__c").child_relationships}
    assert {"Tasks", "Events"} <= cta_children


# --- standard objects ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("obj", "prefix"),
    [
        ("Account", "001"),
        ("Contact", "003"),
        ("User", "005"),
        ("Opportunity", "006"),
        ("Task", "00T"),
        ("Event", "00U"),
        ("OpportunityContactRole", "00K"),
        ("AccountContactRole", "02Z"),
        ("Organization", "00D"),
        ("CS_CTA__c", "a01"),
    ],
)
def test_objects_have_real_or_stable_key_prefixes(schema, obj, prefix):
    assert schema.get(obj).key_prefix == prefix
    assert schema.by_prefix(prefix).name == obj
    assert schema.by_prefix(prefix + "5j0000000001AAA").name == obj


def test_key_prefixes_are_unique(schema):
    prefixes = [o.key_prefix for o in schema]
    assert len(prefixes) == len(set(prefixes))


@pytest.mark.parametrize(
    ("obj", "name", "kind", "length"),
    [
        ("Account", "Name", "string", 255),
        ("Contact", "LastName", "string", 80),
        ("Task", "Subject", "combobox", 255),
        ("Task", "Description", "textarea", 32000),
        ("OpportunityContactRole", "Role", "picklist", 40),
        ("User", "Username", "string", 80),
    ],
)
def test_standard_fields_have_the_object_reference_types(schema, obj, name, kind, length):
    field = schema.get(obj).field(name)
    assert (field.type, field.length) == (kind, length)


def test_required_on_create_follows_nillable_createable_and_defaults(schema):
    required = {(o.name, f.name) for o in schema for f in o.fields.values() if f.required_on_create}
    assert {
        ("Contact", "LastName"),
        ("Opportunity", "CloseDate"),
        ("Opportunity", "StageName"),
        ("Opportunity", "Name"),
        ("OpportunityContactRole", "OpportunityId"),
    } <= required
    assert ("Task", "Status") not in required  # defaulted to Not Started
    assert ("Task", "OwnerId") not in required  # defaults to the running user
    assert ("Contact", "Name") not in required  # computed from the name parts


def test_system_fields_are_read_only(schema):
    for obj in schema:
        for name in ("Id", "CreatedDate", "CreatedById", "LastModifiedDate", "SystemModstamp"):
            field = obj.field(name)
            assert field is not None and not field.createable and not field.updateable, obj.name
    for name in ("IsClosed", "AccountId"):
        assert not schema.get("Task").field(name).createable


def test_user_has_no_isdeleted_and_cannot_be_deleted(schema):
    user = schema.get("user")
    assert user.field("IsDeleted") is None and not user.deletable
    assert user.field("ManagerId").relationship_name == "Manager"


def test_picklist_stock_values_include_the_demo_ones(schema):
    assert {"New Business", "Renewal", "Upsell", "New Customer"} <= set(
        schema.get("Opportunity").field("Type").picklist_values
    )
    assert "Champion" in schema.get("OpportunityContactRole").field("Role").picklist_values
    assert "Closed Won" in schema.get("Opportunity").field("StageName").picklist_values


# --- lookups and loading ------------------------------------------------------------------------


def test_names_are_case_insensitive_and_unknown_ones_are_none(schema):
    assert schema.get("cs_cta__C").name == "CS_CTA__c"
    assert schema.get("account").field("NAME").name == "Name"
    assert schema.get("Lead") is None
    with pytest.raises(KeyError):
        schema.describe("Lead", "62.0")


def test_loading_only_the_connector_package_leaves_out_the_demo_inputs():
    schema = load_schema([FORCE_APP])
    assert schema.get("Survey_Answer__c") is None
    assert schema.get("Account").field("Segment__c") is None
    assert schema.get("Account").field("CS_Health_Score__c") is not None


def test_an_unsupported_field_type_names_the_file(tmp_path):
    fields = tmp_path / "pkg" / "objects" / "Account" / "fields"
    fields.mkdir(parents=True)
    (fields / "Geo__c.field-meta.xml").write_text(
        f'<CustomField xmlns="{METADATA_NS}"><fullName>Geo__c</fullName>'
        "<type>Location</type></CustomField>"
    )
    with pytest.raises(ValueError, match="Geo__c.field-meta.xml"):
        load_schema([tmp_path / "pkg"])


def test_default_dirs_fall_back_to_the_copy_inside_the_package(tmp_path, monkeypatch):
    shipped = tmp_path / "data" / "metadata"
    for pkg in ("force-app", "demo-inputs"):
        shutil.copytree(SALESFORCE / pkg, shipped / pkg)
    monkeypatch.setattr(sf_schema, "METADATA_ROOTS", (tmp_path / "missing", shipped))
    assert load_schema().get("Usage_Week__c") is not None


# --- describe JSON -------------------------------------------------------------------------------

GLOBAL_KEYS = {
    "name",
    "label",
    "labelPlural",
    "keyPrefix",
    "custom",
    "queryable",
    "createable",
    "updateable",
    "deletable",
    "layoutable",
    "searchable",
    "retrieveable",
    "replicateable",
    "triggerable",
    "undeletable",
    "customSetting",
    "urls",
}
FIELD_KEYS = {
    "name",
    "label",
    "type",
    "length",
    "precision",
    "scale",
    "digits",
    "byteLength",
    "nillable",
    "createable",
    "updateable",
    "defaultedOnCreate",
    "defaultValue",
    "externalId",
    "unique",
    "caseSensitive",
    "idLookup",
    "picklistValues",
    "restrictedPicklist",
    "referenceTo",
    "relationshipName",
    "calculated",
    "custom",
    "nameField",
    "soapType",
    "filterable",
    "sortable",
    "groupable",
    "cascadeDelete",
    "polymorphicForeignKey",
    "autoNumber",
    "htmlFormatted",
    "dependentPicklist",
}


def test_describe_global_has_the_documented_shape_and_lists_custom_objects(schema):
    body = schema.describe_global("v62.0")
    assert (body["encoding"], body["maxBatchSize"]) == ("UTF-8", 200)
    by_name = {o["name"]: o for o in body["sobjects"]}
    for entry in body["sobjects"]:
        assert entry.keys() >= GLOBAL_KEYS
    for name in CS_OBJECTS:
        assert by_name[name]["custom"] and re.fullmatch(r"a\d\d", by_name[name]["keyPrefix"])
    assert by_name["Account"]["urls"] == {
        "sobject": "/services/data/v62.0/sobjects/Account",
        "describe": "/services/data/v62.0/sobjects/Account/describe",
        "rowTemplate": "/services/data/v62.0/sobjects/Account/{ID}",
    }


def test_describe_global_leaves_out_hidden_objects(schema):
    body = schema.describe_global("62.0", hidden=lambda name: name == "Usage_Week__c")
    assert "Usage_Week__c" not in {o["name"] for o in body["sobjects"]}


def test_describe_has_the_documented_keys(schema):
    body = schema.describe("CS_CTA__c", "62.0")
    assert GLOBAL_KEYS | {"fields", "childRelationships", "recordTypeInfos"} <= body.keys()
    assert (body["name"], body["keyPrefix"], body["custom"]) == ("CS_CTA__c", "a01", True)
    for field in body["fields"]:
        assert field.keys() >= FIELD_KEYS, field["name"]
    assert body["recordTypeInfos"][0]["master"] is True
    child = next(c for c in body["childRelationships"] if c["relationshipName"] == "Tasks")
    assert (child["childSObject"], child["field"]) == ("Task", "WhatId")


def test_describe_fields_read_like_an_orgs(schema):
    fields = {f["name"]: f for f in schema.describe("CS_CTA__c", "62.0")["fields"]}
    key = fields["Sync_Key__c"]
    assert (key["type"], key["length"], key["byteLength"], key["soapType"]) == (
        "string",
        255,
        765,
        "xsd:string",
    )
    assert (key["externalId"], key["unique"], key["caseSensitive"], key["idLookup"]) == (
        True,
        True,
        True,
        True,
    )
    status = fields["Status__c"]
    assert status["restrictedPicklist"] and status["picklistValues"][0] == {
        "active": True,
        "defaultValue": True,
        "label": "New",
        "validFor": None,
        "value": "New",
    }
    assert fields["Evidence__c"]["filterable"] is False
    assert fields["Id"]["type"] == "id" and fields["Id"]["length"] == 18
    score = next(
        f for f in schema.describe("Account", "62.0")["fields"] if f["name"] == "Licenses_Active__c"
    )
    assert (score["type"], score["precision"], score["scale"]) == ("double", 18, 0)


def test_a_hidden_field_is_absent_from_describe(schema):
    body = schema.describe("Account", "62.0", hidden_fields={"segment__c"})
    names = {f["name"] for f in body["fields"]}
    assert "Segment__c" not in names and "CSM__c" in names
