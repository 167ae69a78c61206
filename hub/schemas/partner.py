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
