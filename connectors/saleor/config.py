"""The configuration of a Saleor connection, and its values with defaults for
connections stored before a field existed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import fields, validate

from connectors.base import ConnectorConfigSchema, Secret

DEFAULT_PRODUCT_TYPE = "구독 꾸러미"


class SaleorConfigSchema(ConnectorConfigSchema):
    api_url = fields.Url(required=True, schemes={"http", "https"}, require_tld=False,
                         metadata={"description": "The mall's GraphQL endpoint, "
                                                  "e.g. https://mall.example.kr/graphql/"})
    channel_slug = fields.String(load_default="default-channel",
                                 validate=validate.Length(min=1, max=100))
    warehouse_slug = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(min=1, max=100),
        metadata={"description": "Warehouse for stock; default: the channel's first."})
    product_type_name = fields.String(
        load_default=DEFAULT_PRODUCT_TYPE, validate=validate.Length(min=1, max=250),
        metadata={"description": "The product type boxes are created as (made if missing)."})
    category_slug = fields.String(
        load_default="gudok-boxes", allow_none=True, validate=validate.Length(min=1, max=250),
        metadata={"description": "Category of the boxes (made if missing); Saleor publishes "
                                 "no product without one. null: leave the category alone."})
    storefront_url_template = fields.String(
        load_default=None, allow_none=True,
        validate=validate.Regexp(r"^https?://\S*\{slug\}\S*$",
                                 error="An http(s) URL containing {slug}."),
        metadata={"description": "Product page URL, e.g. https://mall.example.kr/products/{slug}"})
    lookback_seconds = fields.Integer(
        load_default=300, strict=True, validate=validate.Range(min=0, max=86400),
        metadata={"description": "How far before the cursor each order/product pull re-reads."})
    app_token = Secret(load_default=None, allow_none=True,
                       metadata={"description": "Set by the app install; write-only."})
    legacy_webhook_secret = Secret(load_default=None, allow_none=True,
                                   metadata={"description": "Only for HMAC-signed webhooks."})


def option(config: Mapping[str, Any], name: str) -> Any:
    """The configured value; a key missing from an older stored config takes the schema's
    default (an explicit null stays null)."""
    if name in config:
        return config[name]
    default = SaleorConfigSchema._declared_fields[name].load_default
    return default() if callable(default) else default
