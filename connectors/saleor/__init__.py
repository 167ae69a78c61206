"""A municipal mall running Saleor, with the hub installed as a Saleor App."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from connectors.base import Connector, InboundDelivery, Page, SyncContext
from connectors.saleor import adapters, link_out, streams, webhooks
from connectors.saleor import listing as listings
from connectors.saleor.config import SaleorConfigSchema
from connectors.saleor.manifest import REQUIRED_PERMISSIONS
from hub.errors import RecordError
from mappings.saleor.events import canonical_events
from mappings.saleor.money import obj
from mappings.saleor.orders import fulfil_input, round_note


class SaleorConnector(Connector):
    """The mall through its GraphQL API with the app token, and its signed webhooks."""

    key = "saleor"
    display_name = "Municipal mall (Saleor)"
    allocates_own_orders: ClassVar[bool] = True  # Stock.quantity less its allocations
    capabilities: ClassVar[frozenset[str]] = frozenset({
        "catalog.push", "catalog.pull", "inventory.push", "orders.pull", "orders.webhook",
        "fulfilment.push"})
    config_schema = SaleorConfigSchema

    def push_box(self, ctx: SyncContext, listing: dict[str, Any]) -> dict[str, Any]:
        """Create or update the box's product; returns external_id, variants, url."""
        return listings.push_box(ctx, listing)

    def push_availability(self, ctx: SyncContext, listing: dict[str, Any]) -> None:
        listings.push_availability(ctx, listing)

    def push_link_out(self, ctx: SyncContext, product: dict[str, Any]) -> dict[str, Any]:
        """List a partner's approved product as a link-out (shown, priced, not for sale);
        returns external_id and url."""
        return link_out.push_link_out(ctx, product)

    def remove_link_out(self, ctx: SyncContext, external_id: str) -> None:
        """Unpublish a link-out product; one already hidden or deleted is no error."""
        link_out.remove_link_out(ctx, external_id)

    def pull_orders(self, ctx: SyncContext, cursor: str | None, until: datetime) -> Page:
        return streams.pull_orders(ctx, cursor, until)

    def pull_catalog(self, ctx: SyncContext, cursor: str | None, until: datetime) -> Page:
        return streams.pull_catalog(ctx, cursor, until)

    def push_fulfilment(self, ctx: SyncContext, fulfilment: dict[str, Any]) -> None:
        """Fulfil what the hub shipped and the mall has not yet fulfilled; a later round of
        an order the mall already fulfilled gets its tracking number as an order note, once
        (idempotent either way)."""
        order_id = fulfilment.get("order_external_id")
        if not isinstance(order_id, str) or not order_id:
            raise RecordError("a fulfilment names no mall order")
        client = listings.client_for(ctx)
        warehouse_id = listings.mall_setup(ctx, client, catalog=False).channel.warehouse_id
        state = adapters.order_fulfilment_state(client, order_id)
        wanted = fulfil_input(fulfilment, state, warehouse_id)
        if wanted is not None:
            adapters.fulfil_order(client, order_id, wanted)
            return
        note = round_note(fulfilment, state)
        if note is not None:
            adapters.add_order_note(client, order_id, note)

    def check_connection(self, ctx: SyncContext) -> dict[str, Any]:
        """What an operator sees when testing the connection: the mall, the channel and
        warehouse the hub will use, and the permissions the app still lacks."""
        client = listings.client_for(ctx)
        info = adapters.shop_info(client)
        shop, app = obj(info.get("shop")), obj(info.get("app"))
        granted = {p.get("code") for p in app.get("permissions") or []
                   if isinstance(p, Mapping)}
        channel = listings.mall_setup(ctx, client, catalog=False).channel
        return {"shop": shop.get("name"), "version": shop.get("version"),
                "channel": channel.channel_slug, "warehouse": channel.warehouse_slug,
                "missing_permissions": sorted(set(REQUIRED_PERMISSIONS) - granted)}

    def verify_webhook(self, ctx: SyncContext, headers: Mapping[str, str],
                       body: bytes) -> InboundDelivery:
        """Raises webhooks.WebhookSignatureError when the mall did not sign the body."""
        cache = ctx.extra.get("saleor.jwks_cache") or JWKS_CACHE
        event = webhooks.verify(ctx, headers, body, cache)
        return InboundDelivery(webhooks.delivery_key(event, body), event, body, ctx.clock())

    def parse_webhook(self, ctx: SyncContext,
                      delivery: InboundDelivery) -> list[dict[str, Any]]:
        try:
            payload = json.loads(delivery.body)
        except ValueError:
            raise RecordError(f"{delivery.event}: the body is not JSON",
                              record=delivery.delivery_key) from None
        return canonical_events(delivery.event, payload)


__all__ = ["JWKS_CACHE", "SaleorConfigSchema", "SaleorConnector"]

JWKS_CACHE = webhooks.KeyCache()
"""Signing keys of every Saleor connection in this process."""
