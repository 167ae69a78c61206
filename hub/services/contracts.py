"""Contracts (구독 계약) from orders, and the stock their next rounds hold.

A line sold with a plan becomes a contract once its order is paid or beyond. An order first
seen cancelled or refunded still gets its contracts, already cancelled, so what exists never
depends on whether the "paid" report arrived before the cancellation. A contract holds one
round's worth of its box version's components while it is active."""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.models import BoxComponent, Contract, Order, OrderLine
from hub.services.order_lookups import OrderLookups
from hub.services.order_state import ContractRecord, OrderRecord

PAID_RANK = 1  # ORDER_STATUSES.index("paid")
ORDER_REASONS = {"cancelled": "the order was cancelled on its channel",
                 "refunded": "the order was refunded in full on its channel",
                 "line": "its order line was cancelled or refunded on its channel"}
_CADENCE_DAYS = {"weekly": 7, "biweekly": 14}


def first_round_on(placed_at: datetime, cadence: str, zone: ZoneInfo) -> date:
    """The first round: the next cadence date after the day the order was placed, in the
    tenant's time zone (a month later on the same day, or the month's last day)."""
    placed = placed_at.astimezone(zone).date()
    if cadence in _CADENCE_DAYS:
        return placed + timedelta(days=_CADENCE_DAYS[cadence])
    year, month = (placed.year + 1, 1) if placed.month == 12 else (placed.year, placed.month + 1)
    return date(year, month, min(placed.day, calendar.monthrange(year, month)[1]))


def fully_withdrawn(order: OrderRecord) -> bool:
    """Cancelled, or refunded in full: nothing of it is delivered any more."""
    return order.status == "cancelled" or (order.status == "refunded"
                                           and order.refunded >= order.total)


def _follow_order(lookups: OrderLookups, contract: ContractRecord, withdrawn: bool,
                  reason: str) -> bool:
    """Cancel the contract with its order (or line), and its rounds not yet shipped; bring
    back one its order cancelled when the order says it is live again (its cancelled rounds
    stay cancelled). A contract an operator or the channel cancelled through the lifecycle
    (it has `cancelled_on`) stays cancelled, and a paused one stays paused: a partial refund
    after a cancellation is not a new start. True if it changed."""
    if withdrawn and contract.status in ("active", "paused"):
        contract.status, contract.cancel_reason = "cancelled", reason
        lookups.limit_rounds(contract, 0)
        return True
    if not withdrawn and contract.status == "cancelled" and contract.cancelled_on is None:
        contract.status, contract.cancel_reason = "active", None
        return True
    return False


def settle_contracts(lookups: OrderLookups, order: OrderRecord) -> bool:
    """Bring the order's contracts in line with the order and its claims; True if any
    changed. Contracts that have ended are left alone."""
    if order.status_rank < PAID_RANK:
        return False
    changed = False
    withdrawn = fully_withdrawn(order)
    for line in order.lines:
        if line.plan_id is None or line.box_id is None:
            continue
        contract = line.contract
        if contract is None:
            plan = lookups.plan(line.plan_id)
            if plan is None:
                continue
            contract = lookups.new(ContractRecord(
                tenant_id=order.tenant_id, plan_id=plan.id, box_id=line.box_id,
                cadence=plan.cadence, prepaid_rounds=plan.prepaid_rounds,
                term_rounds=plan.term_rounds, rounds_delivered=0, status="active",
                next_round_on=first_round_on(order.placed_at, plan.cadence, lookups.zone)))
            line.contract = contract
            lookups.touch(line.box_version_id)
            changed = True
        open_boxes = line.quantity - line.cancelled_quantity - line.refunded_quantity
        if _follow_order(lookups, contract, withdrawn or open_boxes <= 0,
                         ORDER_REASONS.get(order.status if withdrawn else "line", "")):
            lookups.touch(line.box_version_id)
            changed = True
        if 0 < open_boxes < line.quantity and contract.status in ("active", "paused"):
            lookups.limit_rounds(contract, open_boxes)  # boxes cancelled or refunded
        if contract.status == "active" and contract.rounds_delivered == 0:
            first = first_round_on(order.placed_at, contract.cadence, lookups.zone)
            # Only while no round is scheduled: after that the scheduler owns the dates.
            if contract.next_round_on != first and lookups.unscheduled(contract):
                contract.next_round_on = first
                changed = True
    return changed


def held_quantities(session: Session, tenant_id: int, item_ids: Iterable[int] | None = None,
                    *, exclude_connection_id: int | None = None) -> dict[int, int]:
    """item id -> units held for the next round of every active contract: the line's open
    boxes (not cancelled or refunded) times the component's quantity in the box version the
    line was sold with."""
    open_boxes = OrderLine.quantity - OrderLine.cancelled_quantity - OrderLine.refunded_quantity
    query = (select(BoxComponent.item_id, func.sum(open_boxes * BoxComponent.quantity))
             .select_from(Contract)
             .join(OrderLine, OrderLine.id == Contract.order_line_id)
             .join(BoxComponent, BoxComponent.box_version_id == OrderLine.box_version_id)
             .where(Contract.tenant_id == tenant_id, Contract.status == "active")
             .group_by(BoxComponent.item_id))
    if item_ids is not None:
        wanted = sorted(set(item_ids))
        if not wanted:
            return {}
        query = query.where(BoxComponent.item_id.in_(wanted))
    if exclude_connection_id is not None:
        query = query.join(Order, Order.id == Contract.order_id).where(
            Order.connection_id != exclude_connection_id)
    return {int(item_id): max(0, int(held or 0)) for item_id, held in session.execute(query)}


def booked_boxes(session: Session, box_id: int, *,
                 exclude_connection_id: int | None = None) -> int:
    """Boxes of this box that active contracts take in each round: slots of its capacity."""
    open_boxes = OrderLine.quantity - OrderLine.cancelled_quantity - OrderLine.refunded_quantity
    query = (select(func.sum(open_boxes)).select_from(Contract)
             .join(OrderLine, OrderLine.id == Contract.order_line_id)
             .where(Contract.box_id == box_id, Contract.status == "active"))
    if exclude_connection_id is not None:
        query = query.join(Order, Order.id == Contract.order_id).where(
            Order.connection_id != exclude_connection_id)
    return max(0, int(session.scalar(query) or 0))
