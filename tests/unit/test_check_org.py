"""``check_org``: the org's describe against the shipped SFDX metadata and the output mappings.

The org is the sandbox, whose schema is built from the same ``salesforce/force-app`` files, read
through the real client (JWT login, ``GET sobjects/X/describe``) as the integration user.
"""

from __future__ import annotations

import dataclasses
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from connector.check_org import Problem, check_org
from connector.errors import FatalApiError
from connector.sources.salesforce import SalesforceClient, SalesforceLogin
from connector.sources.salesforce.failures import RetryPolicy
from connector.targets import load_targets

REPO = Path(__file__).resolve().parents[2]
FORCE_APP = REPO / "salesforce" / "force-app"
OBJECTS = "salesforce/force-app/main/default/objects"


@pytest.fixture
def client(sandbox, transport) -> Iterator[SalesforceClient]:
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
def describe(client):
    def get(sobject: str) -> Mapping[str, Any] | None:
        try:
            return client.describe(sobject)
        except FatalApiError as exc:
            if exc.status == 404:
                return None
            raise

    return get


@pytest.fixture(scope="module")
def targets():
    return load_targets(REPO / "mappings")


def lines(problems: list[Problem]) -> list[str]:
    return [p.line() for p in problems]


def test_the_sandbox_org_has_everything_the_metadata_and_mappings_name(describe, targets):
    assert lines(check_org(describe, FORCE_APP, targets)) == []


def test_a_field_hidden_from_the_integration_user_is_reported_once_at_its_file(
    sandbox, describe, targets
):
    sandbox.faults.update(hidden_fields={"CS_CTA__c": ["Priority__c"]})

    assert lines(check_org(describe, FORCE_APP, targets)) == [
        f"{OBJECTS}/CS_CTA__c/fields/Priority__c.field-meta.xml: CS_CTA__c.Priority__c is not "
        "in the org (or the integration user cannot see it: check its permission sets)"
    ]


def test_a_picklist_value_the_org_lacks_is_named(tmp_path, describe, targets):
    local = tmp_path / "force-app"
    shutil.copytree(FORCE_APP, local)
    status = local / "main/default/objects/CS_CTA__c/fields/Status__c.field-meta.xml"
    text = status.read_text(encoding="utf-8")
    extra = (
        "<value>\n                <fullName>On Hold</fullName>\n"
        "                <default>false</default>\n"
        "                <label>On Hold</label>\n            </value>\n"
        "        </valueSetDefinition>"
    )
    status.write_text(text.replace("</valueSetDefinition>", extra), encoding="utf-8")

    assert lines(check_org(describe, local, targets)) == [
        f"{OBJECTS}/CS_CTA__c/fields/Status__c.field-meta.xml: "
        "CS_CTA__c.Status__c lacks the active picklist value(s) 'On Hold'"
    ]


def test_a_mapped_field_the_package_does_not_ship_is_reported_at_its_mapping_key(describe, targets):
    cta = targets["cta"]
    edited = dataclasses.replace(cta, fields={**cta.fields, "reason": "Reason_Code__c"})

    assert lines(check_org(describe, FORCE_APP, {**targets, "cta": edited})) == [
        "mappings/salesforce/outputs/cta.toml:fields.reason: CS_CTA__c.Reason_Code__c is not "
        "in the org (or the integration user cannot see it: check its permission sets)"
    ]


# --- the shipped permission sets, list views and compact layout agree with the fields ----------

DEFAULT = FORCE_APP / "main" / "default"
NS = {"m": "http://soap.sforce.com/2006/04/metadata"}


def _metadata_fields() -> set[str]:
    """``Object.Field`` of every field file; Activity fields are granted on Task."""
    out = set()
    for path in DEFAULT.glob("objects/*/fields/*.field-meta.xml"):
        obj = path.parent.parent.name
        out.add(f"{'Task' if obj == 'Activity' else obj}.{path.name.split('.')[0]}")
    return out


def _grants(name: str) -> dict[str, bool]:
    """``Object.Field`` -> editable, from a shipped permission set."""
    path = DEFAULT / "permissionsets" / f"{name}.permissionset-meta.xml"
    root = ET.parse(path).getroot()
    return {
        fp.findtext("m:field", namespaces=NS): fp.findtext("m:editable", namespaces=NS) == "true"
        for fp in root.iterfind("m:fieldPermissions", NS)
    }


def test_every_field_a_permission_set_list_view_or_compact_layout_names_is_shipped():
    fields = _metadata_fields()
    named = set(_grants("CS_Connector_User")) | set(_grants("CS_Connector_Integration"))
    cta = DEFAULT / "objects" / "CS_CTA__c"
    for path in [*cta.glob("listViews/*.xml"), *cta.glob("compactLayouts/*.xml")]:
        root = ET.parse(path).getroot()
        for tag in ("m:columns", "m:filters/m:field", "m:fields"):
            named |= {
                f"CS_CTA__c.{el.text}"
                for el in root.iterfind(tag, NS)
                if el.text and el.text.endswith("__c")
            }
    assert named - fields == set()
    assert set(_grants("CS_Connector_User")) == set(_grants("CS_Connector_Integration"))


def test_the_integration_user_edits_what_the_mappings_write_and_people_edit_what_they_own(
    targets,
):
    written = set()
    for t in targets.values():
        names = [*t.fields.values(), *t.unhashed.values(), *t.on_create.values()]
        names += [*t.constants, *t.stamps, t.external_id, t.hash_field]
        names += [t.status.field if t.status else None]
        written |= {f"{t.sobject}.{n}" for n in names if n}
    integration = _grants("CS_Connector_Integration")
    user = _grants("CS_Connector_User")

    assert {f for f, edit in integration.items() if edit} == written & _metadata_fields()
    assert {f for f, edit in user.items() if edit} == {
        "CS_CTA__c.Status__c",
        "CS_CTA__c.Priority__c",
        "CS_CTA__c.Due_Date__c",
        "CS_CTA__c.Snooze_Until__c",
        "CS_CTA__c.Escalation__c",
        "CS_CTA__c.Comments__c",
        "CS_Success_Plan__c.Status__c",
        "CS_Objective__c.Status__c",
        "Contact.CS_Persona__c",
    }
