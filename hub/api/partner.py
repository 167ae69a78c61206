"""The Partner API: what a partner platform calls with its own token (role "partner").

A partner token speaks for one partner connection: it reads the feed of the boxes offered
to that platform, reports its listings (links) for them, and submits its own subscription
products for listing in the mall. It can call nothing else."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app
from flask.views import MethodView
from marshmallow import Schema
from sqlalchemy import select

from hub.api.auth import principal
from hub.api.common import Blueprint, audited, db, write
from hub.api.pagination import ListArgs, page, page_schema, paginate
from hub.api.problems import ApiProblem, field_error, not_found
from hub.models import Box, Connection, Offering, PartnerProduct
from hub.schemas.common import Text
from hub.schemas.connection import BindingSchema
from hub.schemas.partner import (
    FeedArgsSchema,
    FeedPageSchema,
    ListingReportSchema,
    PartnerProductSchema,
    PartnerProductSubmitSchema,
)
from hub.services import partner_products
from hub.services.audit import snapshot
from hub.services.bindings import BindingConflict, bind
from hub.services.partner_feed import FeedCursor, decode_cursor, encode_cursor, read_feed

blp = Blueprint(
    "Partner API", __name__, url_prefix="/api/v1/partner",
    description="Called by partner platforms (민간플랫폼) with a partner token, bound to their "
                "connection: the feed of the boxes offered to them, and their listings.")


def _connection() -> Connection:
    p = principal()
    connection = db().get(Connection, p.connection_id) if p.connection_id else None
    if connection is None or connection.tenant_id != p.tenant_id:
        raise ApiProblem(403, "Forbidden", "This token is bound to no partner connection.")
    if connection.status == "disabled":  # paused only stops the hub's notifications
        raise ApiProblem(403, "Forbidden", "The operator has disabled this connection.")
    return connection


@blp.route("/feed")
class Feed(MethodView):
    @blp.arguments(FeedArgsSchema, location="query")
    @blp.response(200, FeedPageSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """The offered boxes that changed since the cursor, oldest change first.

        Without a cursor: every box offered to the platform. Each entry is the box's full
        listing (plans, prices, availability, its links on the mall and other platforms)
        with `offered: true`, or `{box_id, code, offered: false}` once when the box was
        withdrawn. Entries are in change order, each box at most once per page in its latest
        state. Keep `next_cursor` and pass it next time: it never skips a change, even one
        committed while the previous page was being read (it re-reads a short overlap window
        and skips what was already delivered). When `has_more` is true, read again at once."""
        connection = _connection()
        settings = current_app.extensions["gudok"].settings
        limit = min(args.get("limit") or settings.page_size_default, settings.page_size_max)
        try:
            cursor = decode_cursor(args["cursor"]) if args.get("cursor") else FeedCursor()
        except ValueError:
            raise field_error("cursor", "Not a cursor this feed returned.") from None
        result = read_feed(db(), connection, cursor, limit,
                           timedelta(seconds=settings.feed_overlap_seconds))
        return {"data": result.data, "next_cursor": encode_cursor(result.cursor),
                "has_more": result.has_more}


@blp.route("/listings/<box_code>")
class Listing(MethodView):
    @blp.arguments(ListingReportSchema)
    @blp.response(200, BindingSchema)
    def put(self, data: dict[str, Any], box_code: str) -> Any:
        """Report the platform's listing of a box: its product id and public URL.

        The hub keeps it as the box's link on this platform; the mall and the other
        platforms' feeds then carry it. 404 if the box is not offered to this platform,
        409 if the product id is already linked to another box."""
        connection = _connection()
        session = db()
        box = session.scalar(select(Box).where(Box.tenant_id == connection.tenant_id,
                                               Box.code == box_code))
        if box is None or session.scalar(select(Offering.id).where(
                Offering.connection_id == connection.id, Offering.box_id == box.id)) is None:
            raise not_found("box offered to this platform")
        with write() as session:
            try:
                row = bind(session, connection.id, "box", box.id, data["external_id"],
                           data["url"])
            except BindingConflict as error:
                raise ApiProblem(409, "Conflict", str(error)) from None
            audited(session, "link", "binding", row, None)
        return row, 200


class ProductPath(Schema):
    external_id = Text(200, required=True)


def dump_product(row: PartnerProduct) -> dict[str, Any]:
    """A product as both APIs show it, with where the mall lists it."""
    data = {column.key: getattr(row, column.key) for column in PartnerProduct.__table__.columns}
    data["mall_links"] = partner_products.mall_links(db(), row)
    return data


def _own_product(connection: Connection, external_id: str) -> PartnerProduct:
    row = db().scalar(select(PartnerProduct).where(
        PartnerProduct.connection_id == connection.id,
        PartnerProduct.external_id == external_id))
    if row is None:
        raise not_found("product")
    return row


ProductPage = page_schema(PartnerProductSchema, "PartnerProductPage")


@blp.route("/products")
class Products(MethodView):
    @blp.arguments(ListArgs, location="query")
    @blp.response(200, ProductPage)
    def get(self, args: dict[str, Any]) -> Any:
        """The platform's own products submitted for the mall, with their review status."""
        connection = _connection()
        query = select(PartnerProduct).where(PartnerProduct.connection_id == connection.id)
        rows, next_cursor = paginate(db(), query, PartnerProduct.id, args)
        return page([dump_product(r) for r in rows], next_cursor)


@blp.route("/products/<external_id>")
class Product(MethodView):
    @blp.response(200, PartnerProductSchema)
    def get(self, external_id: str) -> Any:
        """One submitted product and its review status."""
        return dump_product(_own_product(_connection(), _product_id(external_id)))

    @blp.arguments(PartnerProductSubmitSchema)
    @blp.response(200, PartnerProductSchema)
    @blp.alt_response(201, schema=PartnerProductSchema, description="Submitted for review")
    def put(self, data: dict[str, Any], external_id: str) -> Any:
        """Submit the platform's own subscription product for listing in the mall.

        `external_id` is the platform's product id. An operator reviews it; once approved,
        the mall lists it as a product linking to `url`. Sending the same content again
        changes nothing; changed content goes back to review while the mall keeps showing
        the approved content. The outcome of a review arrives as a `product.reviewed`
        notification."""
        connection = _connection()
        external_id = _product_id(external_id)
        with write() as session:
            existing = session.scalar(select(PartnerProduct).where(
                PartnerProduct.connection_id == connection.id,
                PartnerProduct.external_id == external_id))
            before = snapshot(existing) if existing is not None else None
            row, created = partner_products.submit(session, connection, external_id, data)
            if created or snapshot(row) != before:
                audited(session, "create" if created else "update", "partner_product", row,
                        before)
        return dump_product(row), 201 if created else 200

    @blp.response(204)
    def delete(self, external_id: str) -> Any:
        """Withdraw the product: out of review, and out of the mall at its next sync."""
        connection = _connection()
        row = _own_product(connection, _product_id(external_id))
        before = snapshot(row)
        with write() as session:
            partner_products.withdraw(session, row)
            audited(session, "withdraw", "partner_product", row, before)
        return None


def _product_id(external_id: str) -> str:
    errors = ProductPath().validate({"external_id": external_id})
    if errors or "\x00" in external_id:
        raise field_error("external_id", "A product id has 1 to 200 characters.")
    return external_id
