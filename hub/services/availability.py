"""Box availability (DESIGN invariant 4): the minimum over its items of floor(free stock /
quantity), capped by the box's capacity per round. Pushed as an absolute number, never a
delta. Free stock is on-hand stock over every location; holds for open orders and due
rounds join it when orders exist."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.models import Box, StockLevel


def free_stock(session: Session, item_ids: Iterable[int]) -> dict[int, int]:
    ids = sorted(set(item_ids))
    if not ids:
        return {}
    rows = session.execute(select(StockLevel.item_id, func.sum(StockLevel.on_hand))
                           .where(StockLevel.item_id.in_(ids))
                           .group_by(StockLevel.item_id))
    return {item_id: int(total or 0) for item_id, total in rows}


def box_availability(session: Session, box: Box) -> int:
    """How many of this box can be sold now; 0 unless it is active and composed."""
    version = box.current_version
    if box.status != "active" or version is None or not version.components:
        return 0
    stock = free_stock(session, (c.item_id for c in version.components))
    by_items = min(stock.get(c.item_id, 0) // c.quantity for c in version.components)
    return max(0, min(by_items, box.capacity_per_round))
