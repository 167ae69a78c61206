"""A partner platform connection's config: its name, the secrets of both directions, and
where its own event log is read (the safety net behind its webhooks)."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate

from connectors.base import ConnectorConfigSchema, Secret
from connectors.partner.signing import DEFAULT_TOLERANCE_SECONDS, parse_secret
from hub.errors import ConfigurationError


def _whsec(value: Any) -> None:
    try:
        parse_secret(value)
    except ConfigurationError as error:
        raise ValidationError(error.fix or error.message) from None


class PartnerConfigSchema(ConnectorConfigSchema):
    platform_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    inbound_secret = Secret(
        load_default=None, allow_none=True, validate=_whsec,
        metadata={"description": "whsec_<base64>: verifies the webhooks the platform sends."})
    inbound_secret_previous = Secret(
        load_default=None, allow_none=True, validate=_whsec,
        metadata={"description": "The secret being rotated out, accepted until removed."})
    outbound_url = fields.Url(load_default=None, allow_none=True, schemes={"http", "https"},
                              require_tld=False,
                              metadata={"description": "Where the hub's notifications go."})
    outbound_secret = Secret(
        load_default=None, allow_none=True, validate=_whsec,
        metadata={"description": "whsec_<base64>: signs the notifications the hub sends."})
    events_url = fields.Url(
        load_default=None, allow_none=True, schemes={"http", "https"}, require_tld=False,
        metadata={"description": "The platform's event log (GET ?after=&limit=): the same "
                                 "envelopes as its webhooks, each with its webhook id."})
    events_token = Secret(
        load_default=None, allow_none=True, validate=validate.Length(min=1, max=500),
        metadata={"description": "Bearer token for the platform's event log."})
    settlements_url = fields.Url(
        load_default=None, allow_none=True, schemes={"http", "https"}, require_tld=False,
        metadata={"description": "The platform's settlement report (GET ?from=&to=&cursor=), "
                                 "read with the events_token."})
    tolerance_seconds = fields.Integer(
        load_default=DEFAULT_TOLERANCE_SECONDS, validate=validate.Range(min=30, max=3600),
        metadata={"description": "How far a webhook's timestamp may be from now, either way."})
