"""A private subscription platform that integrates through the hub's Partner API, and sends
its order, claim and listing events as Standard Webhooks."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar

from connectors.base import Connector, InboundDelivery, SyncContext
from connectors.partner import signing
from connectors.partner.config import PartnerConfigSchema
from hub.errors import ConfigurationError, RecordError
from mappings.partner.events import canonical_events


class PartnerConnector(Connector):
    key = "partner"
    display_name = "Partner platform (Partner API)"
    capabilities: ClassVar[frozenset[str]] = frozenset({"orders.webhook"})
    config_schema = PartnerConfigSchema

    def verify_webhook(self, ctx: SyncContext, headers: Mapping[str, str],
                       body: bytes) -> InboundDelivery:
        """Standard Webhooks: checked on the raw bytes before anything parses them."""
        signing.check_body(body)
        secrets = [s for s in (ctx.config.get("inbound_secret"),
                               ctx.config.get("inbound_secret_previous")) if s]
        if not secrets:
            raise ConfigurationError(
                "the connection has no inbound secret to verify the platform's webhooks",
                fix="Set config.inbound_secret (whsec_...) and share it with the platform.")
        message = signing.verify(secrets, headers, body, now=ctx.clock(),
                                 tolerance_seconds=int(ctx.config.get("tolerance_seconds")
                                                       or signing.DEFAULT_TOLERANCE_SECONDS))
        try:
            event = str(json.loads(body).get("type", ""))[:100]
        except (ValueError, AttributeError):
            event = ""
        # The webhook-id is the platform's own delivery id: the inbox's dedupe key.
        return InboundDelivery(message.msg_id, event or "unknown", body, ctx.clock())

    def parse_webhook(self, ctx: SyncContext, delivery: InboundDelivery) -> list[dict[str, Any]]:
        try:
            envelope = json.loads(delivery.body)
        except ValueError:
            raise RecordError("the body is not JSON", record=delivery.delivery_key) from None
        return canonical_events(envelope)


__all__ = ["PartnerConfigSchema", "PartnerConnector"]
