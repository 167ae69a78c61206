"""A partner's approved subscription product as a channel lists it: a link out to the
platform where it is sold, never sold by the channel itself."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from hub.models.plan import CADENCES
from hub.schemas.common import Krw, Ref, Text


class LinkOutSchema(Schema):
    partner_product_id = Ref(required=True)
    tenant_id = Ref(required=True)
    connection_id = Ref(required=True, metadata={"description": "the partner connection"})
    platform = Text(200, required=True, metadata={"description": "the platform's name"})
    external_id = fields.String(
        allow_none=True, load_default=None, validate=validate.Length(min=1, max=200),
        metadata={"description": "the channel's product id from a previous push"})
    platform_product_id = Text(200, required=True)
    name = Text(250, required=True)
    description = fields.String(load_default="", allow_none=True,
                                validate=validate.Length(max=50_000))
    url = fields.Url(required=True, require_tld=False, schemes={"http", "https"},
                     validate=validate.Length(max=1000),
                     metadata={"description": "the product's public page on the platform"})
    image_url = fields.Url(allow_none=True, load_default=None, require_tld=False,
                           schemes={"http", "https"}, validate=validate.Length(max=1000))
    price = Krw(required=True, metadata={"description": "KRW per round"})
    cadence = fields.String(required=True, validate=validate.OneOf(CADENCES))
