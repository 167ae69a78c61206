"""The demo's sync engine at work: the orders of the mall and both platforms are drained from
the inbox into orders, the stock they hold lowers availability, and every channel hears the
new number: the mall by a push, each platform by a signed notification. Then the sync health
of every connection, as `gudok sync status` shows it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from connectors.partner.sandbox import PartnerSandbox
from connectors.saleor.sandbox import SaleorSandbox
from hub.db import session_scope
from hub.models import Binding, Box, Connection, Order
from hub.queue import drain_embedded
from hub.services.availability import box_availability
from hub.services.sync_status import connection_health

STOCKS = """
query DemoStock($id: ID!) {
  product(id: $id) { variants { stocks { quantity quantityAllocated } } }
}
"""


@dataclass
class SyncDemo:
    orders: dict[str, int] = field(default_factory=dict)  # channel -> new orders this run
    box_code: str | None = None
    before: dict[str, int | None] = field(default_factory=dict)  # channel -> availability
    after: dict[str, int | None] = field(default_factory=dict)
    hub_before: int | None = None
    hub_after: int | None = None
    jobs_idle: bool = False
    health: list[dict[str, Any]] = field(default_factory=list)


def run_sync_demo(app: Flask, mall: SaleorSandbox, mall_connection_id: int,
                  platforms: list[tuple[Any, PartnerSandbox]], box_code: str,
                  hub_before: int | None) -> SyncDemo:
    """Drain, push and notify; box_code is a box every channel carries, hub_before its
    availability before any order was applied."""
    result = SyncDemo(box_code=box_code, hub_before=hub_before)
    channels = [(mall_connection_id, "mall")] + [(d.connection_id, d.name) for d, _ in
                                                 platforms]
    result.before = _seen(app, mall, mall_connection_id, platforms, box_code)
    existing = _orders(app, channels)
    # The engine itself: every job the webhooks and changes queued runs until none is left
    # (drain -> orders and contracts -> push to the mall, notifications -> deliveries).
    result.jobs_idle = drain_embedded(app, timeout=120)
    mall.drain()  # the mall's own webhooks about the pushes: the engine takes them too
    result.jobs_idle = drain_embedded(app, timeout=60) and result.jobs_idle
    result.orders = {name: count - existing[name]
                     for name, count in _orders(app, channels).items()}
    result.hub_after = hub_availability(app, box_code)
    result.after = _seen(app, mall, mall_connection_id, platforms, box_code)
    state = app.extensions["gudok"]
    with session_scope(state.session_factory) as session:
        for connection_id, _name in channels:
            row = session.get_one(Connection, connection_id)
            result.health.append(connection_health(session, row, state.settings))
    return result


def _orders(app: Flask, channels: list[tuple[int, str]]) -> dict[str, int]:
    with session_scope(app.extensions["gudok"].session_factory) as session:
        return {name: int(session.scalar(select(func.count()).select_from(Order).where(
            Order.connection_id == connection_id)) or 0) for connection_id, name in channels}


def hub_availability(app: Flask, code: str) -> int | None:
    with session_scope(app.extensions["gudok"].session_factory) as session:
        box = session.scalar(select(Box).where(Box.code == code))
        return box_availability(session, box) if box is not None else None


def _seen(app: Flask, mall: SaleorSandbox, mall_connection_id: int,
          platforms: list[tuple[Any, PartnerSandbox]], code: str) -> dict[str, int | None]:
    """The box's availability as each channel shows it now."""
    seen: dict[str, int | None] = {"mall": _mall_stock(app, mall, mall_connection_id, code)}
    for demo, sandbox in platforms:
        seen[demo.name] = _platform_view(sandbox, code)
    return seen


def _mall_stock(app: Flask, mall: SaleorSandbox, connection_id: int, code: str) -> int | None:
    with session_scope(app.extensions["gudok"].session_factory) as session:
        product_id = session.scalar(select(Binding.external_id).join(
            Box, Box.id == Binding.internal_id).where(
            Binding.connection_id == connection_id, Binding.entity_type == "box",
            Box.code == code))
    if product_id is None:
        return None
    answer = mall.execute(STOCKS, {"id": product_id}, superuser=True)
    # What a shopper can still buy: the pushed quantity less the mall's own allocations.
    quantities = [s["quantity"] - s["quantityAllocated"] for v in
                  ((answer.get("data") or {}).get("product") or {}).get("variants", [])
                  for s in v["stocks"]]
    return min(quantities) if quantities else None


def _platform_view(sandbox: PartnerSandbox, code: str) -> int | None:
    """The latest availability the platform was told: its newest notice, else its feed."""
    for notice in reversed(sandbox.notifications):
        if notice.type == "box.updated" and notice.data.get("code") == code:
            return int(notice.data["available"])
    entry = sandbox.boxes.get(code)
    return int(entry["available"]) if entry else None

