"""Canonical records: what mappings produce and consume. Every mapper output is loaded
through one of these schemas before it is applied or sent."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from hub.models.box import BOX_CATEGORIES, BOX_STATUSES
from hub.models.plan import CADENCES

EVENT_KINDS = (
    "product.upserted", "product.deleted", "stock.updated",
    "order.upserted", "order.cancelled", "order.refunded", "fulfilment.created",
    "subscription.changed",
)
ORDER_STATUSES = ("unpaid", "paid", "fulfilled", "cancelled", "refunded")


class ListingLinkSchema(Schema):
    """Where the same box is listed on another channel (a cross-listing link)."""

    connection_id = fields.Integer(required=True)
    platform = fields.String(required=True, validate=validate.Length(min=1, max=200))
    external_id = fields.String(required=True, validate=validate.Length(min=1, max=200))
    url = fields.Url(allow_none=True, require_tld=False, load_default=None)


class PlanListingSchema(Schema):
    plan_id = fields.Integer(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    cadence = fields.String(required=True, validate=validate.OneOf(CADENCES))
    prepaid_rounds = fields.Integer(required=True, validate=validate.Range(min=1))
    term_rounds = fields.Integer(allow_none=True, load_default=None)
    round_price = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))
    external_id = fields.String(allow_none=True, load_default=None)


class BoxListingSchema(Schema):
    """A box as a channel lists it: what catalog push sends to a platform."""

    box_id = fields.Integer(required=True)
    tenant_id = fields.Integer(required=True)
    code = fields.String(required=True)
    title = fields.String(required=True)
    description = fields.String(allow_none=True, load_default=None)
    images = fields.List(fields.Url(require_tld=False), load_default=list)
    category = fields.String(required=True, validate=validate.OneOf(BOX_CATEGORIES))
    status = fields.String(required=True, validate=validate.OneOf(BOX_STATUSES))
    box_version = fields.Integer(required=True)
    available = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))
    plans = fields.List(fields.Nested(PlanListingSchema), required=True)
    links = fields.List(fields.Nested(ListingLinkSchema), load_default=list)
    external_id = fields.String(allow_none=True, load_default=None)


class OrderLineSchema(Schema):
    external_line_id = fields.String(required=True)
    external_product_id = fields.String(allow_none=True, load_default=None)
    external_variant_id = fields.String(allow_none=True, load_default=None)
    sku = fields.String(allow_none=True, load_default=None)
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    unit_price = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))


class OrderRecordSchema(Schema):
    external_id = fields.String(required=True)
    number = fields.String(allow_none=True, load_default=None)
    status = fields.String(required=True, validate=validate.OneOf(ORDER_STATUSES))
    placed_at = fields.AwareDateTime(required=True)
    updated_at = fields.AwareDateTime(required=True)
    currency = fields.String(load_default="KRW", validate=validate.Length(equal=3))
    total = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))
    refunded = fields.Integer(load_default=0, strict=True, validate=validate.Range(min=0))
    lines = fields.List(fields.Nested(OrderLineSchema), required=True)
    customer_ref = fields.String(allow_none=True, load_default=None,
                                 metadata={"description": "opaque; never a name or e-mail"})
    coupon_code = fields.String(allow_none=True, load_default=None,
                                validate=validate.Length(min=1, max=64),
                                metadata={"description": "a coupon campaign of the hub"})
    coupon_amount = fields.Integer(allow_none=True, load_default=None, strict=True,
                                   validate=validate.Range(min=0),
                                   metadata={"description": "what the coupon took off"})
    channel_fee = fields.Integer(allow_none=True, load_default=None, strict=True,
                                 validate=validate.Range(min=0),
                                 metadata={"description": "the channel's fee on the order"})


class CanonicalEventSchema(Schema):
    """One event from a platform, as the hub understands it."""

    kind = fields.String(required=True, validate=validate.OneOf(EVENT_KINDS))
    external_id = fields.String(required=True, validate=validate.Length(min=1, max=200))
    occurred_at = fields.AwareDateTime(required=True)
    order = fields.Nested(OrderRecordSchema, allow_none=True, load_default=None)
    data = fields.Dict(load_default=dict)
