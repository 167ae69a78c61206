"""Operators review the products partner platforms submit for listing in the mall."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import fields, validate
from sqlalchemy import select

from hub.api.auth import principal, scope, visible
from hub.api.common import Blueprint, audited, db, write
from hub.api.crud import with_filters
from hub.api.etag import check_if_match, etag_of
from hub.api.pagination import ListArgs, page, paginate
from hub.api.partner import ProductPage, dump_product
from hub.models import Connection, PartnerProduct
from hub.schemas.common import IdFilter
from hub.schemas.partner import PartnerProductSchema, ReviewSchema
from hub.services import partner_products
from hub.services.audit import snapshot

blp = Blueprint("partner products", __name__, url_prefix="/api/v1/partner-products",
                description="Products partner platforms submit for listing in the mall: "
                            "review them; approved ones are listed as links to the platform.")


class PartnerProductArgs(ListArgs):
    connection = IdFilter(metadata={"description": "the submitting platform's connection id"})
    status = fields.String(validate=validate.OneOf(
        ("pending", "approved", "rejected", "withdrawn")))


@blp.route("")
class Collection(MethodView):
    @blp.arguments(PartnerProductArgs, location="query")
    @blp.response(200, ProductPage)
    def get(self, args: dict[str, Any]) -> Any:
        """Submitted products, oldest first; `?status=pending` is the review queue."""
        query = with_filters(select(PartnerProduct), args, {
            "connection": PartnerProduct.connection_id, "status": PartnerProduct.status})
        rows, next_cursor = paginate(db(), scope(query, PartnerProduct.tenant_id, args),
                                     PartnerProduct.id, args)
        return page([dump_product(r) for r in rows], next_cursor)


@blp.route("/<int:product_id>")
class Member(MethodView):
    @blp.response(200, PartnerProductSchema)
    def get(self, product_id: int) -> Any:
        row = visible(db().get(PartnerProduct, product_id))
        return dump_product(row), 200, {"ETag": etag_of(row)}


def _review(product_id: int, data: dict[str, Any], approve: bool) -> Any:
    row = visible(db().get(PartnerProduct, product_id))
    check_if_match(row)
    before = snapshot(row)
    with write() as session:
        connection = session.get_one(Connection, row.connection_id)
        partner_products.review(session, row, connection, approve=approve,
                                note=data.get("note"), actor=principal().actor)
        audited(session, "approve" if approve else "reject", "partner_product", row, before)
    return dump_product(row), 200, {"ETag": etag_of(row)}


@blp.route("/<int:product_id>/approve")
class Approve(MethodView):
    @blp.arguments(ReviewSchema)
    @blp.response(200, PartnerProductSchema)
    def post(self, data: dict[str, Any], product_id: int) -> Any:
        """Approve the submitted content: the mall lists it at its next sync, linking to
        the platform. 409 if the platform has withdrawn it."""
        return _review(product_id, data, True)


@blp.route("/<int:product_id>/reject")
class Reject(MethodView):
    @blp.arguments(ReviewSchema)
    @blp.response(200, PartnerProductSchema)
    def post(self, data: dict[str, Any], product_id: int) -> Any:
        """Reject it (say why in `note`): the mall does not list it, or stops listing it."""
        return _review(product_id, data, False)
