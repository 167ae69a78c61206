"""A box as one channel lists it: plans, availability, and its links on the other channels.
Validated against the canonical BoxListingSchema before any connector sees it."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors import UnknownConnector, get_connector
from hub.models import Binding, Box, Connection, Plan
from hub.schemas.canonical import BoxListingSchema, ListingLinkSchema
from hub.services.availability import box_availability
from hub.services.bindings import to_external

log = logging.getLogger("gudok.listings")


def box_listing(session: Session, box: Box, connection_id: int) -> dict[str, Any]:
    plans = session.scalars(select(Plan).where(Plan.box_id == box.id, Plan.status == "active")
                            .order_by(Plan.id)).all()
    listing = {
        "box_id": box.id, "tenant_id": box.tenant_id, "code": box.code, "title": box.title,
        "description": box.description, "images": list(box.images or []),
        "category": box.category, "status": box.status,
        "box_version": box.current_version.number if box.current_version else 0,
        "available": box_availability(session, box,
                                      exclude_connection_id=_own_orders_excluded(
                                          session, connection_id)),
        "external_id": to_external(session, connection_id, "box", box.id),
        "plans": [{"plan_id": plan.id, "code": plan.code, "name": plan.name,
                   "cadence": plan.cadence, "prepaid_rounds": plan.prepaid_rounds,
                   "term_rounds": plan.term_rounds, "round_price": plan.round_price,
                   "external_id": to_external(session, connection_id, "plan", plan.id)}
                  for plan in plans],
        "links": cross_listing_links(session, box, connection_id),
    }
    return BoxListingSchema().load(listing)  # type: ignore[no-any-return]


def _own_orders_excluded(session: Session, connection_id: int) -> int | None:
    """The connection, when its platform subtracts its own orders from what it is sent."""
    connection = session.get(Connection, connection_id)
    try:
        own = connection is not None and get_connector(connection.connector).allocates_own_orders
    except UnknownConnector:
        own = False
    return connection_id if own else None


def cross_listing_links(session: Session, box: Box, connection_id: int) -> list[dict[str, Any]]:
    """Where the same box is listed on the tenant's other channels, with a public URL."""
    rows = session.execute(
        select(Binding, Connection).join(Connection, Connection.id == Binding.connection_id)
        .where(Binding.entity_type == "box", Binding.internal_id == box.id,
               Binding.status == "active", Binding.connection_id != connection_id,
               Binding.url.is_not(None), Connection.status != "disabled")
        .order_by(Binding.connection_id))
    links = []
    checker = ListingLinkSchema()
    for binding, connection in rows:
        try:
            platform = connection.config.get("platform_name") or \
                get_connector(connection.connector).display_name
        except UnknownConnector:
            platform = connection.name
        link = {"connection_id": connection.id, "platform": str(platform),
                "external_id": binding.external_id, "url": binding.url}
        if checker.validate(link):  # a channel stored a URL no one can follow: leave it out
            log.warning("binding %s: its link %r is not shown", binding.id, binding.url)
            continue
        links.append(link)
    return links
