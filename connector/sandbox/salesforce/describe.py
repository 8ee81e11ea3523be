"""The REST API's describe JSON (Describe Global and sObject Describe) for the sandbox schema.

Shapes follow the REST API Developer Guide ("Describe Global", "sObject Describe") and the SOAP
API's DescribeGlobalSObjectResult / DescribeSObjectResult / Field, whose property names the REST
JSON reuses, so clients (simple-salesforce, the connector's ``check``) read what an org returns.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from connector.sandbox.salesforce.schema import ChildRelationship, FieldDef, SObjectDef

MASTER_RECORD_TYPE = "012000000000000AAA"
MERGEABLE = frozenset({"Account", "Contact", "Lead", "Case"})
SOAP_TYPES = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "boolean": "xsd:boolean",
    "int": "xsd:int",
    "double": "xsd:double",
    "currency": "xsd:double",
    "percent": "xsd:double",
    "date": "xsd:date",
    "datetime": "xsd:dateTime",
}
_NUMBERS = frozenset({"double", "currency", "percent"})
_NOT_GROUPABLE = frozenset({"datetime", "multipicklist", "textarea"}) | _NUMBERS
_NO_LENGTH = frozenset({"boolean", "int", "date", "datetime"}) | _NUMBERS


def _urls(name: str, version: str) -> dict[str, str]:
    base = f"/services/data/v{version}/sobjects/{name}"
    return {"sobject": base, "describe": f"{base}/describe", "rowTemplate": f"{base}/{{ID}}"}


def global_entry(obj: SObjectDef, version: str) -> dict[str, Any]:
    """One ``DescribeGlobalSObjectResult``: what the object is and what calls it accepts."""
    return {
        "activateable": False,
        "associateEntityType": None,
        "associateParentEntity": None,
        "createable": obj.createable,
        "custom": obj.custom,
        "customSetting": False,
        "deepCloneable": False,
        "deletable": obj.deletable,
        "deprecatedAndHidden": False,
        "feedEnabled": False,
        "hasSubtypes": False,
        "isInterface": False,
        "isSubtype": False,
        "keyPrefix": obj.key_prefix,
        "label": obj.label,
        "labelPlural": obj.label_plural,
        "layoutable": True,
        "mergeable": obj.name in MERGEABLE,
        "mruEnabled": True,
        "name": obj.name,
        "queryable": obj.queryable,
        "replicateable": True,
        "retrieveable": True,
        "searchable": True,
        "triggerable": True,
        "undeletable": obj.deletable,
        "updateable": obj.updateable,
        "urls": _urls(obj.name, version),
    }


def describe_global(objects: list[SObjectDef], version: str) -> dict[str, Any]:
    """``GET /services/data/vXX.X/sobjects/``."""
    return {
        "encoding": "UTF-8",
        "maxBatchSize": 200,
        "sobjects": [global_entry(obj, version) for obj in objects],
    }


def describe_sobject(obj: SObjectDef, version: str, hidden: AbstractSet[str]) -> dict[str, Any]:
    """``GET .../sobjects/<name>/describe``; ``hidden`` holds lower-case field names to omit."""
    out = global_entry(obj, version)
    out.update(
        {
            "actionOverrides": [],
            "childRelationships": [child_entry(c) for c in obj.child_relationships],
            "compactLayoutable": True,
            "defaultImplementation": None,
            "extendedBy": None,
            "extendsInterfaces": None,
            "fields": [field_entry(f) for f in obj.fields.values() if f.name.lower() not in hidden],
            "implementedBy": None,
            "implementsInterfaces": None,
            "listviewable": None,
            "lookupLayoutable": None,
            "namedLayoutInfos": [],
            "networkScopeFieldName": None,
            "recordTypeInfos": [_master_record_type(obj.name, version)],
            "searchLayoutable": True,
            "sobjectDescribeOption": "FULL",
            "supportedScopes": [{"label": "All " + obj.label_plural.lower(), "name": "everything"}],
        }
    )
    return out


def _master_record_type(name: str, version: str) -> dict[str, Any]:
    layout = f"/services/data/v{version}/sobjects/{name}/describe/layouts/{MASTER_RECORD_TYPE}"
    return {
        "active": True,
        "available": True,
        "defaultRecordTypeMapping": True,
        "developerName": "Master",
        "master": True,
        "name": "Master",
        "recordTypeId": MASTER_RECORD_TYPE,
        "urls": {"layout": layout},
    }


def child_entry(rel: ChildRelationship) -> dict[str, Any]:
    """One ``ChildRelationship`` as describe lists it under the parent."""
    return {
        "cascadeDelete": rel.cascade_delete,
        "childSObject": rel.child_sobject,
        "deprecatedAndHidden": False,
        "field": rel.field,
        "junctionIdListNames": [],
        "junctionReferenceTo": [],
        "relationshipName": rel.relationship_name,
        "restrictedDelete": False,
    }


def _picklist(f: FieldDef) -> list[dict[str, Any]]:
    return [
        {
            "active": True,
            "defaultValue": v == f.default_value,
            "label": v,
            "validFor": None,
            "value": v,
        }
        for v in f.picklist_values
    ]


def _sizes(f: FieldDef) -> dict[str, Any]:
    textual = f.type not in _NO_LENGTH
    return {
        "length": f.length if textual else 0,
        "byteLength": (18 if f.type in ("id", "reference") else f.length * 3) if textual else 0,
        "digits": f.precision if f.type == "int" else 0,
        "precision": f.precision if f.type in _NUMBERS else 0,
        "scale": f.scale if f.type in _NUMBERS else 0,
    }


def _capabilities(f: FieldDef) -> dict[str, Any]:
    long_text = f.type == "textarea" and f.length > 255
    return {
        "aggregatable": not long_text and f.type != "multipicklist",
        "filterable": not long_text,
        "groupable": f.type not in _NOT_GROUPABLE,
        "sortable": not long_text and f.type != "multipicklist",
        "permissionable": f.custom and f.nillable,
        "idLookup": f.id_lookup,
        "nameField": f.name_field,
        "namePointing": f.polymorphic,
        "polymorphicForeignKey": f.polymorphic,
    }


def field_entry(f: FieldDef) -> dict[str, Any]:
    """One ``Field`` of describe: type, sizes, what the API lets a client do with it."""
    out: dict[str, Any] = {
        "name": f.name,
        "label": f.label,
        "type": f.type,
        "soapType": SOAP_TYPES.get(f.type, "xsd:string"),
        "nillable": f.nillable,
        "createable": f.createable,
        "updateable": f.updateable,
        "defaultedOnCreate": f.defaulted_on_create,
        "defaultValue": f.default_value if f.type == "boolean" else None,
        "defaultValueFormula": None,
        "calculated": f.calculated,
        "calculatedFormula": None,
        "custom": f.custom,
        "externalId": f.external_id,
        "unique": f.unique,
        "caseSensitive": f.case_sensitive,
        "autoNumber": False,
        "encrypted": False,
        "picklistValues": _picklist(f),
        "restrictedPicklist": f.restricted_picklist,
        "dependentPicklist": False,
        "controllerName": None,
        "referenceTo": list(f.reference_to),
        "relationshipName": f.relationship_name,
        "relationshipOrder": 0 if f.custom and f.cascade_delete else None,
        "referenceTargetField": None,
        "cascadeDelete": f.cascade_delete,
        "restrictedDelete": False,
        "writeRequiresMasterRead": False,
        "htmlFormatted": False,
        "extraTypeInfo": "plaintextarea" if f.type == "textarea" else None,
        "inlineHelpText": None,
        "deprecatedAndHidden": False,
        "compoundFieldName": None,
        "displayLocationInDecimal": False,
        "filteredLookupInfo": None,
        "formulaTreatNullNumberAsZero": False,
        "highScaleNumber": False,
        "mask": None,
        "maskType": None,
        "queryByDistance": False,
        "searchPrefilterable": False,
        "aiPredictionField": False,
    }
    out.update(_sizes(f))
    out.update(_capabilities(f))
    return out
