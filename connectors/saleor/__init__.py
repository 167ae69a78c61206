"""A municipal mall running Saleor, with the hub installed as a Saleor App."""

from __future__ import annotations

from typing import ClassVar

from marshmallow import fields, validate

from connectors.base import Connector, ConnectorConfigSchema, Secret


class SaleorConfigSchema(ConnectorConfigSchema):
    api_url = fields.Url(required=True, schemes={"http", "https"}, require_tld=False,
                         metadata={"description": "The mall's GraphQL endpoint, "
                                                  "e.g. https://mall.example.kr/graphql/"})
    channel_slug = fields.String(load_default="default-channel",
                                 validate=validate.Length(min=1, max=100))
    app_token = Secret(load_default=None, allow_none=True,
                       metadata={"description": "Set by the app install; write-only."})
    legacy_webhook_secret = Secret(load_default=None, allow_none=True,
                                   metadata={"description": "Only for HMAC-signed webhooks."})


class SaleorConnector(Connector):
    key = "saleor"
    display_name = "Municipal mall (Saleor)"
    capabilities: ClassVar[frozenset[str]] = frozenset()
    config_schema = SaleorConfigSchema
