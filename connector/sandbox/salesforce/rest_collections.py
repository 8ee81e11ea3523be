"""sObject Collections: create, update, upsert and delete up to 200 records in one call.

Results come back in request order, 200 OK for a well-formed request; with ``allOrNone`` a
failure anywhere rolls every write back and the records that had succeeded report
``ALL_OR_NONE_OPERATION_ROLLED_BACK`` (keeping their id only when they existed before), as the
Create/Update/Upsert/Delete Records Using sObject Collections pages show.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Response

from connector.sandbox.salesforce import errors as err
from connector.sandbox.salesforce.errors import RecordError, WriteResult
from connector.sandbox.salesforce.rest_records import ext_field_missing
from connector.sandbox.salesforce.wire import BadRequest, Call, json_response, read_json

if TYPE_CHECKING:
    from connector.sandbox.salesforce.store import Org

MAX_RECORDS = 200
Op = Callable[[], WriteResult]


def too_many() -> BadRequest:
    return BadRequest(
        400,
        "EXCEEDED_ID_LIMIT",
        "record limit reached. cannot submit more than 200 records into this call",
    )


class CollectionsApi:
    """``/composite/sobjects`` and ``/composite/sobjects/{X}/{ExtField}``."""

    def __init__(self, org: Org) -> None:
        self.org = org

    def create(self, call: Call) -> Response:
        all_or_none, records = self._body(call)
        ops = [self._create_op(call, r) for r in records]
        return self._run(call, ops, all_or_none, upsert=False)

    def update(self, call: Call) -> Response:
        all_or_none, records = self._body(call)
        ops = [self._update_op(call, r) for r in records]
        return self._run(call, ops, all_or_none, upsert=False)

    def upsert(self, call: Call, sobject: str, field: str) -> Response:
        sobj = self.org.schema.get(sobject)
        if sobj is None:
            raise BadRequest(404, "NOT_FOUND", "The requested resource does not exist")
        fdef = sobj.field(field)
        if fdef is None or self.org.is_hidden(sobj.name, fdef.name) or not fdef.external_id:
            raise ext_field_missing(field)
        all_or_none, records = self._body(call)
        ops = [self._upsert_op(call, sobj.name, fdef.name, r) for r in records]
        return self._run(call, ops, all_or_none, upsert=True)

    def delete(self, call: Call) -> Response:
        ids = [i for i in call.request.args.get("ids", "").split(",") if i]
        if len(ids) > MAX_RECORDS:
            raise too_many()
        all_or_none = call.request.args.get("allOrNone", "false").lower() == "true"
        ops: list[Op] = [self._delete_op(call, i) for i in ids]
        return self._run(call, ops, all_or_none, upsert=False)

    # -- request and result shapes --------------------------------------------------------
    @staticmethod
    def _body(call: Call) -> tuple[bool, list[dict[str, Any]]]:
        body = read_json(call)
        records = body.get("records") if isinstance(body, dict) else None
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise BadRequest(400, "JSON_PARSER_ERROR", "records must be a list of sObjects")
        if len(records) > MAX_RECORDS:
            raise too_many()
        for record in records:
            attributes = record.get("attributes")
            if not isinstance(attributes, dict) or not attributes.get("type"):
                raise BadRequest(400, "INVALID_TYPE", "Must send a concrete entity type.")
        flag = body.get("allOrNone", False)
        return (flag.lower() == "true" if isinstance(flag, str) else bool(flag)), records

    def _run(self, call: Call, ops: list[Op], all_or_none: bool, *, upsert: bool) -> Response:
        with self.org.atomic() as tx:
            results = [op() for op in ops]
            if all_or_none and not all(r.success for r in results):
                tx.rollback()
                results = [_rolled_back(r) if r.success else r for r in results]
        call.ctx.wrote(sum(r.success for r in results))
        return json_response([_wire(r, upsert) for r in results])

    # -- one record each ------------------------------------------------------------------
    def _create_op(self, call: Call, record: dict[str, Any]) -> Op:
        sobject, values = _split(record)
        return lambda: self.org.insert(sobject, values, user_id=call.user_id)

    def _update_op(self, call: Call, record: dict[str, Any]) -> Op:
        sobject, values = _split(record)
        id_key = next((k for k in values if k.lower() == "id"), None)
        record_id = values.pop(id_key) if id_key else None
        if not record_id:
            missing = RecordError("MISSING_ARGUMENT", "Id not specified in an update call", ("Id",))
            return lambda: err.failed(missing)
        return lambda: self.org.update(sobject, str(record_id), values, user_id=call.user_id)

    def _upsert_op(self, call: Call, sobject: str, field: str, record: dict[str, Any]) -> Op:
        kind, values = _split(record)
        if kind.lower() != sobject.lower():
            wrong = err.invalid_type(kind)
            return lambda: err.failed(wrong)
        value = next((v for k, v in values.items() if k.lower() == field.lower()), None)

        def op() -> WriteResult:
            result = self.org.upsert(sobject, field, value, values, user_id=call.user_id)
            if result.matches:
                found = ", ".join(result.matches)
                return err.failed(
                    RecordError(
                        "DUPLICATE_EXTERNAL_ID",
                        f"{field}: more than one record found for external id field: [{found}]",
                        (field,),
                    )
                )
            return result

        return op

    def _delete_op(self, call: Call, record_id: str) -> Op:
        return lambda: self.org.delete(record_id, user_id=call.user_id)


def _split(record: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    values = {k: v for k, v in record.items() if k != "attributes"}
    return str(record["attributes"]["type"]), values


def _rolled_back(result: WriteResult) -> WriteResult:
    kept = None if result.created else result.id
    return WriteResult(kept, False, errors=(err.ROLLED_BACK,))


def _wire(result: WriteResult, upsert: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    rolled_back = result.errors and result.errors[0] is err.ROLLED_BACK
    if result.id is not None and (result.success or rolled_back):
        out["id"] = result.id
    out["success"] = result.success
    out["errors"] = [e.as_wire() for e in result.errors]
    if upsert and result.success:
        out["created"] = result.created
    return out
