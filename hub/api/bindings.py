"""Bindings (입점 링크): a hub row's id and URL on one connection; the cross-listing links."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import fields, validate
from sqlalchemy import select

from hub.api.auth import principal, scope, visible
from hub.api.common import Blueprint, audited, db, write
from hub.api.crud import ListArgs, with_filters
from hub.api.etag import check_if_match, etag_of
from hub.api.pagination import page, page_schema, paginate
from hub.api.problems import ApiProblem, field_error
from hub.models import Binding, Box, Connection, Item, Merchant, PartnerProduct, Plan
from hub.models.connection import BINDING_ENTITIES, BINDING_STATUSES
from hub.schemas.common import IdFilter
from hub.schemas.connection import BindingSchema
from hub.services.audit import snapshot

blp = Blueprint("bindings", __name__, url_prefix="/api/v1/bindings",
                description="Links between hub rows and their ids and URLs on a connection.")

ENTITY_MODELS: dict[str, type[Any]] = {"merchant": Merchant, "item": Item, "box": Box,
                                       "plan": Plan, "partner_product": PartnerProduct}
BindingPage = page_schema(BindingSchema, "BindingPage")


class BindingListArgs(ListArgs):
    connection_id = IdFilter()
    entity_type = fields.String(validate=validate.OneOf(BINDING_ENTITIES))
    internal_id = IdFilter()
    external_id = fields.String()
    status = fields.String(validate=validate.OneOf(BINDING_STATUSES))


@blp.route("")
class Bindings(MethodView):
    @blp.arguments(BindingListArgs, location="query")
    @blp.response(200, BindingPage)
    def get(self, args: dict[str, Any]) -> Any:
        query = with_filters(select(Binding), args, {
            "connection_id": Binding.connection_id, "entity_type": Binding.entity_type,
            "internal_id": Binding.internal_id, "external_id": Binding.external_id,
            "status": Binding.status})
        rows, next_cursor = paginate(db(), scope(query, Binding.tenant_id, args), Binding.id,
                                     args)
        return page(rows, next_cursor)

    @blp.arguments(BindingSchema)
    @blp.response(201, BindingSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Link a hub row to its id (and URL) on a connection. Linking again is a no-op."""
        session = db()
        connection = session.get(Connection, data["connection_id"])
        p = principal()
        if connection is None or (not p.is_admin and connection.tenant_id != p.tenant_id):
            raise field_error("connection_id", "No such connection.")
        target = session.get(ENTITY_MODELS[data["entity_type"]], data["internal_id"])
        if target is None or target.tenant_id != connection.tenant_id:
            raise field_error("internal_id", f"No {data['entity_type']} with this id here.")
        existing = session.scalars(select(Binding).where(
            Binding.connection_id == connection.id, Binding.entity_type == data["entity_type"],
            (Binding.internal_id == data["internal_id"])
            | (Binding.external_id == data["external_id"]))).all()
        for row in existing:
            if row.internal_id == data["internal_id"] and \
                    row.external_id == data["external_id"] and \
                    row.url == data.get("url") and row.status == "active":
                return row, 200, {"ETag": etag_of(row)}
        if existing:
            raise ApiProblem(409, "Conflict", "The row or the external id is already linked "
                             "on this connection; unlink it first.")
        with write() as session:
            row = Binding(tenant_id=connection.tenant_id, status="active", **data)
            session.add(row)
            audited(session, "link", "binding", row, None)
        return row, 201, {"ETag": etag_of(row)}


@blp.route("/<int:binding_id>")
class BindingMember(MethodView):
    @blp.response(200, BindingSchema)
    def get(self, binding_id: int) -> Any:
        row = visible(db().get(Binding, binding_id))
        return row, 200, {"ETag": etag_of(row)}

    @blp.response(204)
    def delete(self, binding_id: int) -> Any:
        """Unlink: the hub row no longer points at the external one on this connection."""
        row = visible(db().get(Binding, binding_id))
        check_if_match(row)
        before = snapshot(row)
        with write() as session:
            audited(session, "unlink", "binding", row, before)
            session.delete(row)
        return None
