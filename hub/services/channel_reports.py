"""What a channel reports besides orders: stock it counted, and its listings of boxes.

Stock: a connection whose config names a `stock_location` (a location code of its tenant)
counts that location's stock; its stock.updated reports set the level of the item they name
(by an item binding, else by SKU) as an absolute count. The latest report by the
platform's time wins, in any arrival order: each applied report is a stock movement by the
connection dated at the platform's time. Without `stock_location` a channel's stock reports
are only its own view of what the hub pushed, and are ignored.

Listings: product.upserted and product.deleted change the link (binding) of a box this
connection lists. A partner's listing.changed names the box by code and is bound as its
listing report through the Partner API would be; the mall's product events update the URL
or tombstone the link of a product already bound to a box. Anything else is ignored."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from hub.errors import ConfigurationError, RecordError
from hub.models import Binding, Box, Offering, StockLevel, StockLocation, StockMovement
from hub.services.bindings import BindingConflict, bind, tombstone
from hub.services.order_lookups import OrderLookups, event_time
from hub.services.stock import MAX_ON_HAND, set_stock

WITHDRAWN_LISTING = frozenset({"deleted", "withdrawn", "removed", "tombstoned"})


def apply_stock_report(lookups: OrderLookups, event: Mapping[str, Any]) -> str:
    code = lookups.connection.config.get("stock_location")
    if not code:
        return "ignored"
    session = lookups.session
    location = session.scalar(select(StockLocation).where(
        StockLocation.tenant_id == lookups.tenant_id, StockLocation.code == str(code)))
    if location is None:
        raise ConfigurationError(
            f"the connection's stock_location {str(code)[:40]!r} is not a stock location "
            "of its tenant", fix="Create that stock location, or correct config.stock_location.")
    data: Mapping[str, Any] = event.get("data") or {}
    quantity = data.get("quantity")
    if quantity is None:
        return "ignored"
    if isinstance(quantity, bool) or not isinstance(quantity, int) \
            or not 0 <= quantity <= MAX_ON_HAND:
        raise RecordError(f"data.quantity: a count from 0 to {MAX_ON_HAND}")
    item_id = lookups.binding("item", str(event.get("external_id")))
    if item_id is None and data.get("sku"):
        item_id = lookups.item_by_sku(str(data["sku"]))
    if item_id is None:
        return "ignored"
    occurred_at = event_time(event.get("occurred_at"), "occurred_at")
    actor = f"connection:{lookups.connection.id}"
    latest = session.execute(
        select(StockMovement.created_at, StockMovement.on_hand_after)
        .join(StockLevel, StockLevel.id == StockMovement.stock_level_id)
        .where(StockLevel.item_id == item_id, StockLevel.location_id == location.id,
               StockMovement.actor == actor)
        .order_by(StockMovement.id.desc()).limit(1)).first()
    if latest is not None and (occurred_at, quantity) <= (latest[0], latest[1]):
        return "unchanged"
    level = set_stock(session, lookups.tenant_id, item_id, location.id, quantity,
                      "counted by the channel", actor)
    for row in session.new:
        if isinstance(row, StockMovement) and row.stock_level_id == level.id \
                and row.actor == actor:
            row.created_at = occurred_at  # the platform's time of the count
    return "updated"


def apply_listing_event(lookups: OrderLookups, event: Mapping[str, Any]) -> str:
    session = lookups.session
    connection = lookups.connection
    external_id = str(event.get("external_id"))
    data: Mapping[str, Any] = event.get("data") or {}
    existing = session.scalar(select(Binding).where(
        Binding.connection_id == connection.id, Binding.entity_type == "box",
        Binding.external_id == external_id))
    before = None if existing is None else (existing.internal_id, existing.url,
                                            existing.status)
    withdrawn = event.get("kind") == "product.deleted" or \
        str(data.get("status") or "").lower() in WITHDRAWN_LISTING
    if withdrawn:
        if existing is None:
            return "ignored"
        tombstone(session, connection.id, "box", external_id)
    else:
        box_id = _listed_box(lookups, data) if data.get("box_code") else (
            existing.internal_id if existing is not None else None)
        if box_id is None:
            return "ignored"
        try:
            bind(session, connection.id, "box", box_id, external_id, _listing_url(lookups,
                                                                                  data))
        except BindingConflict as error:
            raise RecordError(str(error), record=external_id) from None
    lookups.bindings.clear()
    row = session.scalar(select(Binding).where(
        Binding.connection_id == connection.id, Binding.entity_type == "box",
        Binding.external_id == external_id))
    after = None if row is None else (row.internal_id, row.url, row.status)
    if after == before:
        return "unchanged"
    return "created" if before is None else "updated"


def _listed_box(lookups: OrderLookups, data: Mapping[str, Any]) -> int | None:
    """The box a partner names by code, if it is offered to that partner."""
    return lookups.session.scalar(
        select(Box.id).join(Offering, Offering.box_id == Box.id).where(
            Box.tenant_id == lookups.tenant_id, Box.code == str(data["box_code"]),
            Offering.connection_id == lookups.connection.id))


def _listing_url(lookups: OrderLookups, data: Mapping[str, Any]) -> str | None:
    url = data.get("url")
    if isinstance(url, str) and url.startswith(("http://", "https://")) and len(url) <= 1000:
        return url
    template = lookups.connection.config.get("storefront_url_template")
    slug = data.get("slug")
    if isinstance(template, str) and "{slug}" in template and isinstance(slug, str) and slug:
        return template.replace("{slug}", slug)[:1000]
    return None
