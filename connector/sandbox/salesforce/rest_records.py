"""sObject resources of the REST emulator: one record by Id or by External Id.

Status codes as the REST API Developer Guide gives them: create 201 with a SaveResult, update
and delete 204, upsert 201 (created) or 200 with ``created: false`` (API 46.0 and later), 300
with the matching records' URLs when an External Id matches more than once, 404 for unknown
objects, records and External Id fields, and 400 with ``[{message, errorCode, fields}]`` for
record errors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Response

from connector.sandbox.salesforce.errors import WriteResult
from connector.sandbox.salesforce.schema import SObjectDef
from connector.sandbox.salesforce.wire import BadRequest, Call, json_response, read_object

if TYPE_CHECKING:
    from connector.sandbox.salesforce.store import Org

_WSDL_HINT = (
    "If you are attempting to use a custom field, be sure to append the '__c' after "
    "the custom field name. Please reference your WSDL or the describe call for the "
    "appropriate names."
)


def ext_field_missing(field: str) -> BadRequest:
    return BadRequest(
        404, "NOT_FOUND", f"Provided external ID field does not exist or is not accessible: {field}"
    )


class RecordsApi:
    """``/sobjects/{X}``, ``/sobjects/{X}/{id}`` and ``/sobjects/{X}/{ExtField}/{value}``."""

    def __init__(self, org: Org) -> None:
        self.org = org

    def sobject(self, name: str) -> SObjectDef:
        """The object named in the URL, else 404 NOT_FOUND."""
        sobj = self.org.schema.get(name)
        if sobj is None:
            raise BadRequest(404, "NOT_FOUND", "The requested resource does not exist")
        return sobj

    def locate(self, sobj: SObjectDef, record_id: str) -> tuple[str, dict[str, Any]]:
        """The live record an id in the URL names, or the 404 the API gives."""
        key = self.org.normalize_id(record_id)
        if key is None:  # not an id: the API reads the segment as an External Id field
            raise ext_field_missing(record_id)
        found = self.org.get(key)
        if found is None or found[0] != sobj.name:
            raise BadRequest(404, "NOT_FOUND", "The requested resource does not exist")
        if found[1].get("IsDeleted"):
            raise BadRequest(404, "ENTITY_IS_DELETED", "entity is deleted")
        return key, found[1]

    # -- by Id --------------------------------------------------------------------------
    def get(self, call: Call, sobject: str, record_id: str) -> Response:
        sobj = self.sobject(sobject)
        _key, record = self.locate(sobj, record_id)
        call.ctx.read(1)
        return json_response(self.row(call, sobj, record, call.request.args.get("fields")))

    def create(self, call: Call, sobject: str) -> Response:
        sobj = self.sobject(sobject)
        result = self.org.insert(sobj.name, read_object(call), user_id=call.user_id)
        if not result.success:
            return self.failure(call, sobj, result)
        call.ctx.wrote(1)
        return json_response({"id": result.id, "success": True, "errors": []}, 201)

    def update(self, call: Call, sobject: str, record_id: str) -> Response:
        sobj = self.sobject(sobject)
        key, _record = self.locate(sobj, record_id)
        values = {k: v for k, v in read_object(call).items() if k != "attributes"}
        result = self.org.update(sobj.name, key, values, user_id=call.user_id)
        if not result.success:
            return self.failure(call, sobj, result)
        call.ctx.wrote(1)
        return Response(status=204)

    def delete(self, call: Call, sobject: str, record_id: str) -> Response:
        sobj = self.sobject(sobject)
        key, _record = self.locate(sobj, record_id)
        result = self.org.delete(key, user_id=call.user_id)
        if not result.success:
            return self.failure(call, sobj, result)
        call.ctx.wrote(1)
        return Response(status=204)

    # -- by External Id -----------------------------------------------------------------
    def get_by_external_id(self, call: Call, sobject: str, field: str, value: str) -> Response:
        sobj = self.sobject(sobject)
        fdef = sobj.field(field)
        if (
            fdef is None
            or self.org.is_hidden(sobj.name, fdef.name)
            or not (fdef.external_id or fdef.id_lookup)
        ):
            raise ext_field_missing(field)
        matches = self.org.match_external_id(sobj.name, fdef.name, value)
        if len(matches) > 1:
            return json_response([call.sobject_url(sobj.name, i) for i in matches], 300)
        if not matches:
            raise BadRequest(404, "NOT_FOUND", "The requested resource does not exist")
        found = self.org.get(matches[0])
        assert found is not None
        call.ctx.read(1)
        return json_response(self.row(call, sobj, found[1], call.request.args.get("fields")))

    def upsert(self, call: Call, sobject: str, field: str, value: str) -> Response:
        sobj = self.sobject(sobject)
        values = {k: v for k, v in read_object(call).items() if k != "attributes"}
        result = self.org.upsert(sobj.name, field, value, values, user_id=call.user_id)
        if not result.success:
            return self.failure(call, sobj, result)
        call.ctx.wrote(1)
        body: dict[str, Any] = {
            "id": result.id,
            "success": True,
            "errors": [],
            "created": result.created,
        }
        return json_response(body, 201 if result.created else 200)

    # -- shapes -------------------------------------------------------------------------
    def row(
        self, call: Call, sobj: SObjectDef, record: dict[str, Any], fields: str | None
    ) -> dict[str, Any]:
        """A record as ``GET .../sobjects/{X}/{id}`` returns it, ``?fields=`` honoured."""
        if fields:
            names = []
            for name in (n.strip() for n in fields.split(",") if n.strip()):
                fdef = sobj.field(name)
                if fdef is None or self.org.is_hidden(sobj.name, fdef.name):
                    raise BadRequest(
                        400,
                        "INVALID_FIELD",
                        f"No such column '{name}' on entity '{sobj.name}'. {_WSDL_HINT}",
                    )
                names.append(fdef.name)
        else:
            names = [n for n in sobj.fields if not self.org.is_hidden(sobj.name, n)]
        row: dict[str, Any] = {
            "attributes": {"type": sobj.name, "url": call.sobject_url(sobj.name, record["Id"])}
        }
        row.update((n, record.get(n)) for n in names)
        return row

    def failure(self, call: Call, sobj: SObjectDef, result: WriteResult) -> Response:
        """A failed single-record write: 300, 404 or 400 with every error."""
        codes = [e.status_code for e in result.errors]
        if "MULTIPLE_CHOICES" in codes:
            return json_response([call.sobject_url(sobj.name, i) for i in result.matches], 300)
        if "NOT_FOUND" in codes:
            return json_response([e.as_rest_error() for e in result.errors], 404)
        return json_response([e.as_rest_error() for e in result.errors], 400)
