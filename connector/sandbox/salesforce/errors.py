"""Per-record write outcomes of the sandbox org, with Salesforce's status codes and message texts.

Every message the emulator returns for a record is built here, so the texts checked against the
REST API documentation (and against what real orgs answer) live in one place.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RecordError:
    """One entry of a SaveResult's ``errors`` array."""

    status_code: str
    message: str
    fields: tuple[str, ...] = ()

    def as_wire(self) -> dict[str, object]:
        """The JSON shape of sObject Collections results (``statusCode``)."""
        return {
            "statusCode": self.status_code,
            "message": self.message,
            "fields": list(self.fields),
        }

    def as_rest_error(self) -> dict[str, object]:
        """The JSON shape of a single-record REST error (``errorCode``)."""
        return {"message": self.message, "errorCode": self.status_code, "fields": list(self.fields)}


@dataclass(frozen=True)
class WriteResult:
    """The outcome of writing one record (SaveResult / UpsertResult / DeleteResult)."""

    id: str | None
    success: bool
    created: bool = False
    errors: tuple[RecordError, ...] = ()
    matches: tuple[str, ...] = ()  # ids matched by an upsert that found more than one record


def failed(*errors: RecordError, record_id: str | None = None) -> WriteResult:
    """A failed result carrying ``errors``."""
    return WriteResult(id=record_id, success=False, errors=tuple(errors))


def id15(record_id: str) -> str:
    """Salesforce quotes 15-character ids in error messages."""
    return record_id[:15]


def required_missing(fields: list[str]) -> RecordError:
    return RecordError(
        "REQUIRED_FIELD_MISSING",
        f"Required fields are missing: [{', '.join(fields)}]",
        tuple(fields),
    )


def bad_picklist(label: str, field: str, value: object) -> RecordError:
    return RecordError(
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        f"{label}: bad value for restricted picklist field: {value}",
        (field,),
    )


def too_long(label: str, field: str, value: str, max_length: int) -> RecordError:
    return RecordError(
        "STRING_TOO_LONG",
        f"{label}: data value too large: {value} (max length={max_length})",
        (field,),
    )


def wrong_type(label: str, field: str, value: object) -> RecordError:
    return RecordError(
        "INVALID_TYPE_ON_FIELD_IN_RECORD", f"{label}: value not of required type: {value}", (field,)
    )


def out_of_range(label: str, field: str, value: object) -> RecordError:
    return RecordError(
        "NUMBER_OUTSIDE_VALID_RANGE",
        f"{label}: value outside of valid range on numeric field: {value}",
        (field,),
    )


def duplicate_value(field: str, other_id: str) -> RecordError:
    return RecordError(
        "DUPLICATE_VALUE",
        f"duplicate value found: {field} duplicates value on record with id: {id15(other_id)}",
    )


def no_such_column(field: str, sobject: str) -> RecordError:
    return RecordError("INVALID_FIELD", f"No such column '{field}' on sobject of type {sobject}")


def read_only(field: str) -> RecordError:
    return RecordError(
        "INVALID_FIELD_FOR_INSERT_UPDATE",
        f"Unable to create/update fields: {field}. Please check the security settings of this "
        "field and verify that it is read/write for your profile or permission set.",
        (field,),
    )


def id_on_insert() -> RecordError:
    return RecordError(
        "INVALID_FIELD_FOR_INSERT_UPDATE", "cannot specify Id in an insert call", ("Id",)
    )


def malformed_id(value: str) -> RecordError:
    return RecordError("MALFORMED_ID", f"malformed id {value}")


def id_of_wrong_type(label: str, field: str, value: str, code: str = "MALFORMED_ID") -> RecordError:
    """A well-formed id of another object: MALFORMED_ID for the record's own Id."""
    return RecordError(code, f"{label} ID: id value of incorrect type: {value}", (field,))


def invalid_cross_reference() -> RecordError:
    return RecordError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")


def entity_is_deleted() -> RecordError:
    return RecordError("ENTITY_IS_DELETED", "entity is deleted")


def inactive_user(user_id: str, sobject: str, owner: bool) -> RecordError:
    tail = f" as owner of {sobject.lower()}" if owner else ""
    return RecordError(
        "INACTIVE_OWNER_OR_USER", f"operation performed with inactive user [{id15(user_id)}]{tail}"
    )


def lock_row(record_id: str) -> RecordError:
    return RecordError(
        "UNABLE_TO_LOCK_ROW",
        f"unable to obtain exclusive access to this record or 1 records: {record_id}",
    )


def custom_validation(sobject: str, rule: dict[str, object]) -> RecordError:
    condition = " and ".join(f"{k} = {v}" for k, v in rule.items())
    return RecordError(
        "FIELD_CUSTOM_VALIDATION_EXCEPTION",
        f"{sobject} cannot be saved when {condition} (sandbox validation rule)",
    )


def foreign_key_not_found(value: object, field: str, sobject: str) -> RecordError:
    return RecordError(
        "INVALID_FIELD",
        f"Foreign key external ID: {value} not found for field {field} in entity {sobject}",
    )


def foreign_key_multiple(value: object, field: str, sobject: str) -> RecordError:
    return RecordError(
        "INVALID_FIELD",
        f"Foreign key external ID: {value} matches multiple "
        f"records for field {field} in entity {sobject}",
    )


def ext_id_missing(field: str) -> RecordError:
    return RecordError("MISSING_ARGUMENT", f"{field} not specified")


def not_external_id(field: str) -> RecordError:
    return RecordError(
        "NOT_FOUND", f"Provided external ID field does not exist or is not accessible: {field}"
    )


def multiple_choices(field: str, value: str) -> RecordError:
    return RecordError(
        "MULTIPLE_CHOICES", f"More than one record found for external id field {field}: {value}"
    )


def invalid_type(sobject: str) -> RecordError:
    return RecordError("INVALID_TYPE", f"sObject type '{sobject}' is not supported.")


ROLLED_BACK = RecordError(
    "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "Record rolled back because not all records were valid and the request was using "
    "AllOrNone header",
)
