"""Box availability (DESIGN invariant 4): the minimum over its items of floor(free stock /
quantity), capped by the box's capacity per round less the boxes open subscriptions take.
Pushed as an absolute number, never a delta. Free stock is on-hand stock over every location
less what open orders hold for their next round (hub/services/contracts.py)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.models import Box, StockLevel
from hub.services.contracts import booked_boxes, held_quantities


def free_stock(session: Session, item_ids: Iterable[int]) -> dict[int, int]:
    """On-hand stock per item over every location (nothing subtracted)."""
    ids = sorted(set(item_ids))
    if not ids:
        return {}
    rows = session.execute(select(StockLevel.item_id, func.sum(StockLevel.on_hand))
                           .where(StockLevel.item_id.in_(ids))
                           .group_by(StockLevel.item_id))
    return {item_id: int(total or 0) for item_id, total in rows}


def box_availability(session: Session, box: Box, *,
                     exclude_connection_id: int | None = None) -> int:
    """How many of this box can be sold now; 0 unless it is active and composed.

    exclude_connection_id leaves that channel's own orders out of the holds: the Saleor mall
    already subtracts its own allocations from the stock it is sent."""
    version = box.current_version
    if box.status != "active" or version is None or not version.components:
        return 0
    items = [c.item_id for c in version.components]
    stock = free_stock(session, items)
    held = held_quantities(session, box.tenant_id, items,
                           exclude_connection_id=exclude_connection_id)
    by_items = min(max(0, stock.get(c.item_id, 0) - held.get(c.item_id, 0)) // c.quantity
                   for c in version.components)
    # Each round packs at most capacity_per_round boxes; open subscriptions take their slots.
    capacity = box.capacity_per_round - booked_boxes(
        session, box.id, exclude_connection_id=exclude_connection_id)
    return max(0, min(by_items, capacity))
