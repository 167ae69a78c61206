"""A private subscription platform that integrates through the hub's Partner API."""

from __future__ import annotations

from typing import ClassVar

from marshmallow import fields, validate

from connectors.base import Connector, ConnectorConfigSchema, Secret


class PartnerConfigSchema(ConnectorConfigSchema):
    platform_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    notify_url = fields.Url(load_default=None, allow_none=True, schemes={"http", "https"},
                            require_tld=False)
    inbound_signing_secret = Secret(
        load_default=None, allow_none=True, validate=validate.Regexp(r"^whsec_[A-Za-z0-9+/=]+$"),
        metadata={"description": "whsec_<base64>: verifies webhooks the platform sends."})
    outbound_signing_secret = Secret(
        load_default=None, allow_none=True, validate=validate.Regexp(r"^whsec_[A-Za-z0-9+/=]+$"),
        metadata={"description": "whsec_<base64>: signs notifications the hub sends."})


class PartnerConnector(Connector):
    key = "partner"
    display_name = "Partner platform (Partner API)"
    capabilities: ClassVar[frozenset[str]] = frozenset()
    config_schema = PartnerConfigSchema
