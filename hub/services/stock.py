"""Stock levels per item and location: set absolutely or adjusted with a reason."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.models import Item, StockLevel, StockLocation, StockMovement
from hub.services.validation import RecordInvalid

# The most a level may hold, as for an absolute count (the schemas' Count).
MAX_ON_HAND = 1_000_000_000


def _level(session: Session, tenant_id: int, item_id: int, location_id: int) -> StockLevel:
    item = session.get(Item, item_id)
    if item is None or item.tenant_id != tenant_id:
        raise RecordInvalid.at("item_id", f"No item with id {item_id} here.")
    location = session.get(StockLocation, location_id)
    if location is None or location.tenant_id != tenant_id:
        raise RecordInvalid.at("location_id", f"No stock location with id {location_id} here.")
    level = session.scalar(select(StockLevel).where(
        StockLevel.item_id == item_id, StockLevel.location_id == location_id)
        .with_for_update())
    if level is None:
        level = StockLevel(tenant_id=tenant_id, item_id=item_id, location_id=location_id,
                           on_hand=0)
        session.add(level)
        session.flush()
    return level


def set_stock(session: Session, tenant_id: int, item_id: int, location_id: int, on_hand: int,
              reason: str | None, actor: str) -> StockLevel:
    level = _level(session, tenant_id, item_id, location_id)
    delta = on_hand - level.on_hand
    if delta:
        level.on_hand = on_hand
    session.add(StockMovement(tenant_id=tenant_id, stock_level_id=level.id, kind="set",
                              delta=delta, on_hand_after=on_hand, reason=reason, actor=actor))
    return level


def adjust_stock(session: Session, tenant_id: int, item_id: int, location_id: int, delta: int,
                 reason: str, actor: str) -> StockLevel:
    level = _level(session, tenant_id, item_id, location_id)
    if level.on_hand + delta < 0:
        raise RecordInvalid.at("delta", f"Would leave {level.on_hand + delta} on hand; "
                                        f"only {level.on_hand} are there.")
    if level.on_hand + delta > MAX_ON_HAND:
        raise RecordInvalid.at("delta", f"Would leave {level.on_hand + delta} on hand; "
                                        f"at most {MAX_ON_HAND} fit.")
    level.on_hand += delta
    session.add(StockMovement(tenant_id=tenant_id, stock_level_id=level.id, kind="adjust",
                              delta=delta, on_hand_after=level.on_hand, reason=reason,
                              actor=actor))
    return level
