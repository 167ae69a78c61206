"""The facts a round's money depends on, read from the database a batch at a time: the plan
and its rules, the box version the order was sold with, the merchants' fee rates, the
order's coupon and channel fee, and the tenant's shipping terms. Lookups are cached for a
run, because a period's rounds share a handful of plans, versions and merchants."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.models import (
    BoxComponent,
    Connection,
    Contract,
    Coupon,
    Item,
    Merchant,
    Order,
    OrderLine,
    Plan,
    Round,
    Tenant,
)
from hub.services.allocation import allocate_by_weight
from hub.services.settlement_rules import (
    BP,
    Discount,
    Part,
    RoundTerms,
    plan_discounts,
    spread_over_rounds,
)


@dataclass(frozen=True)
class RoundRow:
    """One round with the columns of its contract, line and order that its money needs."""

    round_id: int
    quantity: int
    sequence: int
    delivered_at: Any
    order_id: int
    connection_id: int
    box_id: int
    plan_id: int
    prepaid_rounds: int
    line_id: int
    box_version_id: int
    coupon_id: int | None = None
    channel_fee: int | None = None


ROUND_COLUMNS = (Round.id, Round.quantity, Round.sequence, Round.delivered_at,
                 OrderLine.order_id, Order.connection_id, Contract.box_id, Contract.plan_id,
                 Contract.prepaid_rounds, OrderLine.id, OrderLine.box_version_id,
                 Order.coupon_id, Order.channel_fee)


def round_rows_query() -> Any:
    return (select(*ROUND_COLUMNS).select_from(Round)
            .join(Contract, Contract.id == Round.contract_id)
            .join(OrderLine, OrderLine.id == Contract.order_line_id)
            .join(Order, Order.id == OrderLine.order_id))


class RoundFacts:
    """Cached lookups for one tenant's money run."""

    def __init__(self, session: Session, tenant: Tenant) -> None:
        self.session = session
        self.tenant = tenant
        self._plans: dict[int, Plan] = {}
        self._parts: dict[int, tuple[Part, ...]] = {}
        self._components: dict[int, list[tuple[int, int, int, int]]] = {}
        self._rates: dict[int, int] = {}
        self._orders: dict[int, tuple[int, dict[int, int], dict[int, int]]] = {}
        self._connections: dict[int, int] = {}
        self._coupons: dict[int, Coupon] = {}
        self._supply: dict[int, dict[tuple[int, int], int]] = {}

    def plan(self, plan_id: int) -> Plan:
        plan = self._plans.get(plan_id)
        if plan is None:
            plan = self.session.get_one(Plan, plan_id)
            self._plans[plan_id] = plan
        return plan

    def components(self, version_id: int) -> list[tuple[int, int, int, int]]:
        """(item id, merchant id, weight, quantity per box) of a box version."""
        found = self._components.get(version_id)
        if found is None:
            found = [(int(item_id), int(merchant_id), int(weight), int(quantity))
                     for item_id, merchant_id, weight, quantity in self.session.execute(
                         select(BoxComponent.item_id, Item.merchant_id, BoxComponent.weight,
                                BoxComponent.quantity)
                         .join(Item, Item.id == BoxComponent.item_id)
                         .where(BoxComponent.box_version_id == version_id)
                         .order_by(BoxComponent.position, BoxComponent.id))]
            self._components[version_id] = found
        return found

    def parts(self, version_id: int) -> tuple[Part, ...]:
        """The version's merchants' parts: physical components together per merchant, each
        voucher item on its own."""
        parts = self._parts.get(version_id)
        if parts is None:
            vouchers = self.voucher_items(version_id)
            weights: dict[tuple[int, int | None], int] = {}
            for item_id, merchant_id, weight, _ in self.components(version_id):
                key = (merchant_id, item_id if item_id in vouchers else None)
                weights[key] = weights.get(key, 0) + weight
            parts = tuple(Part(merchant, weight, item) for (merchant, item), weight
                          in sorted(weights.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0)))
            self._parts[version_id] = parts
        return parts

    def supply_per_box(self, version_id: int) -> dict[tuple[int, int], int]:
        """Supply-price merchants' parts of one box (part key -> the supply price of their
        components times their quantity); commission merchants have none."""
        found = self._supply.get(version_id)
        if found is None:
            vouchers = self.voucher_items(version_id)
            found = {}
            for item_id, merchant_id, quantity, price in self.session.execute(
                    select(BoxComponent.item_id, Item.merchant_id, BoxComponent.quantity,
                           Item.supply_price)
                    .join(Item, Item.id == BoxComponent.item_id)
                    .join(Merchant, Merchant.id == Item.merchant_id)
                    .where(BoxComponent.box_version_id == version_id,
                           Merchant.fee_model == "supply_price")):
                key = (int(merchant_id), int(item_id) if item_id in vouchers else 0)
                found[key] = found.get(key, 0) + int(price or 0) * int(quantity)
            self._supply[version_id] = found
        return found

    def voucher_items(self, version_id: int) -> set[int]:
        ids = [item_id for item_id, *_ in self.components(version_id)]
        return set(self.session.scalars(select(Item.id).where(
            Item.id.in_(ids), Item.kind == "voucher"))) if ids else set()

    def rates(self, merchant_ids: set[int]) -> dict[int, int]:
        missing = merchant_ids - self._rates.keys()
        if missing:
            for merchant_id, rate in self.session.execute(
                    select(Merchant.id, Merchant.commission_rate_bp)
                    .where(Merchant.id.in_(sorted(missing)))):
                self._rates[int(merchant_id)] = int(rate or 0)
        return {merchant_id: self._rates.get(merchant_id, 0) for merchant_id in merchant_ids}

    def fee_rate(self, connection_id: int) -> int:
        rate = self._connections.get(connection_id)
        if rate is None:
            rate = int(self.session.scalar(select(Connection.fee_rate_bp).where(
                Connection.id == connection_id)) or 0)
            self._connections[connection_id] = rate
        return rate

    def coupon(self, coupon_id: int) -> Coupon:
        coupon = self._coupons.get(coupon_id)
        if coupon is None:
            coupon = self.session.get_one(Coupon, coupon_id)
            self._coupons[coupon_id] = coupon
        return coupon

    def order_splits(self, order_id: int) -> tuple[int, dict[int, int], dict[int, int]]:
        """The order's coupon amount, and its coupon and reported channel fee split among
        its lines by the lines' list value. Read only for orders that have either."""
        cached = self._orders.get(order_id)
        if cached is None:
            coupon_id, coupon_amount, channel_fee = self.session.execute(
                select(Order.coupon_id, Order.coupon_amount, Order.channel_fee)
                .where(Order.id == order_id)).one()
            weights = {int(line_id): int(quantity * unit_price) or 1
                       for line_id, quantity, unit_price in self.session.execute(
                           select(OrderLine.id, OrderLine.quantity, OrderLine.unit_price)
                           .where(OrderLine.order_id == order_id))}
            coupon = allocate_by_weight(coupon_amount if coupon_id else 0,
                                        weights) if weights else {}
            fee = allocate_by_weight(channel_fee or 0, weights) if weights else {}
            cached = (int(coupon_amount or 0), coupon, fee)
            if len(self._orders) > 5000:
                self._orders.clear()
            self._orders[order_id] = cached
        return cached

    def terms(self, row: RoundRow, key: str) -> RoundTerms:
        """The round's money terms: list price and discounts for its paid sequence, the
        coupon and reported fee spread over the prepaid rounds, shipping by the box."""
        plan = self.plan(row.plan_id)
        boxes = row.quantity
        list_price = plan.round_price * boxes
        discounts = plan_discounts(list_price, plan.rules, row.sequence, boxes)
        prepaid = row.prepaid_rounds
        needs_splits = row.coupon_id is not None or row.channel_fee is not None
        _, coupons, fees = self.order_splits(row.order_id) if needs_splits else (0, {}, {})
        if row.coupon_id and row.sequence <= prepaid:
            coupon = self.coupon(row.coupon_id)
            amount = min(spread_over_rounds(coupons.get(row.line_id, 0), prepaid)[row.sequence],
                         list_price - sum(d.amount for d in discounts))
            if amount > 0:
                discounts.append(Discount(amount, coupon.funder, "coupon", coupon.code))
        paid = list_price - sum(d.amount for d in discounts)
        if row.channel_fee is not None and row.sequence <= prepaid:
            channel_fee = spread_over_rounds(fees.get(row.line_id, 0), prepaid)[row.sequence]
        else:
            channel_fee = paid * self.fee_rate(row.connection_id) // BP
        parts = self.parts(row.box_version_id)
        return RoundTerms(
            key=key, list_price=list_price, discounts=tuple(discounts), parts=parts,
            commission_bp=self.rates({part.merchant_id for part in parts}),
            channel_fee=channel_fee, boxes=boxes,
            courier_cost_per_box=self.tenant.courier_cost_per_box,
            subsidy_per_box=self.tenant.shipping_subsidy_per_box,
            supply_value={key: value * boxes for key, value
                          in self.supply_per_box(row.box_version_id).items()})

