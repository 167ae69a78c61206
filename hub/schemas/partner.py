"""Partner API and offering bodies."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from hub.schemas.canonical import BoxListingSchema
from hub.schemas.common import Ref, Text


class OfferingsSchema(Schema):
    connection_id = fields.Integer(dump_only=True)
    box_ids = fields.List(Ref(), required=True,
                          metadata={"description": "Every box offered on this connection; "
                                                   "a PUT replaces the set."})


class FeedArgsSchema(Schema):
    cursor = fields.String(validate=validate.Length(max=100_000),
                           metadata={"description": "next_cursor of the previous read; "
                                                    "none for a first, complete read"})
    limit = fields.Integer(validate=validate.Range(min=1, max=500),
                           metadata={"description": "at most this many boxes"})


class FeedEntrySchema(BoxListingSchema):
    """A box offered to the platform (the full listing), or one withdrawn from it
    (box_id, code, offered=false and change_id only)."""

    code = fields.String(allow_none=True)
    offered = fields.Boolean(required=True)
    change_id = fields.Integer(required=True,
                               metadata={"description": "the box's latest change on this page"})


class FeedPageSchema(Schema):
    data = fields.List(fields.Nested(FeedEntrySchema))
    next_cursor = fields.String(metadata={"description": "pass it as ?cursor= next time"})
    has_more = fields.Boolean(metadata={"description": "more changes wait: read again now"})


class ListingReportSchema(Schema):
    external_id = Text(200, required=True,
                       metadata={"description": "the platform's product id for the box"})
    url = fields.Url(required=True, require_tld=False, schemes={"http", "https"},
                     validate=validate.Length(max=1000),
                     metadata={"description": "the product's public page"})


CADENCE_CHOICES = ("weekly", "biweekly", "monthly")


class PartnerProductSubmitSchema(Schema):
    """A platform's own subscription product, as it submits it for listing in the mall."""

    name = Text(200, required=True)
    description = fields.String(load_default="", validate=validate.Length(max=5000))
    url = fields.Url(required=True, require_tld=False, schemes={"http", "https"},
                     validate=validate.Length(max=1000),
                     metadata={"description": "the product's public page on the platform"})
    image_url = fields.Url(load_default=None, allow_none=True, require_tld=False,
                           schemes={"http", "https"}, validate=validate.Length(max=1000))
    price = fields.Integer(required=True, strict=True,
                           validate=validate.Range(min=0, max=2_147_483_647),
                           metadata={"description": "KRW per delivered round"})
    cadence = fields.String(required=True, validate=validate.OneOf(CADENCE_CHOICES))


class PartnerProductSchema(PartnerProductSubmitSchema):
    id = fields.Integer(dump_only=True)
    connection_id = fields.Integer(dump_only=True)
    external_id = fields.String(dump_only=True)
    status = fields.String(dump_only=True, metadata={
        "description": "pending (awaits review), approved, rejected or withdrawn"})
    review_note = fields.String(dump_only=True, allow_none=True)
    reviewed_by = fields.String(dump_only=True, allow_none=True)
    reviewed_at = fields.DateTime(dump_only=True, allow_none=True)
    listed = fields.Dict(dump_only=True, allow_none=True, metadata={
        "description": "the approved content the mall shows; null when not in the mall"})
    mall_links = fields.List(fields.Dict(), dump_only=True, metadata={
        "description": "where the mall lists it: [{connection_id, url}]"})
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class ReviewSchema(Schema):
    note = Text(500, load_default=None, allow_none=True,
                metadata={"description": "shown to the platform; say why when rejecting"})
