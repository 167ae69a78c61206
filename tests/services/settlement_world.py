"""A small programme for settlement tests, built straight into the database: three merchants
(10%, 8% and 5% operator fee), one box of their three items weighted 5:3:2, a weekly plan at
30,000 won a round with a merchant-funded 10% term discount and a municipality-funded 1,000
won off from the second round, the mall (no fee) and a platform (5.5%), a municipality coupon,
and courier cost 4,000 won a box of which the municipality pays 1,500."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from hub.models import (
    Box,
    BoxComponent,
    BoxVersion,
    Claim,
    Connection,
    Contract,
    Coupon,
    Item,
    Merchant,
    Order,
    OrderLine,
    Plan,
    PricingRule,
    Round,
    Tenant,
)
from hub.services.ledger import Poster


def kst(year: int, month: int, day: int, hour: int = 12) -> datetime:
    """Noon in Seoul as UTC (Seoul is UTC+9 all year)."""
    return datetime(year, month, day, hour - 9, tzinfo=UTC)


@dataclass
class World:
    tenant: Tenant
    merchants: list[Merchant]
    items: list[Item]
    box: Box
    version: BoxVersion
    plan: Plan
    mall: Connection
    platform: Connection
    coupon: Coupon
    orders: dict[str, Order] = field(default_factory=dict)
    lines: dict[str, OrderLine] = field(default_factory=dict)


def build_world(session: Session, tenant_id: int, *, voucher: bool = False) -> World:
    tenant = session.get_one(Tenant, tenant_id)
    tenant.courier_cost_per_box, tenant.shipping_subsidy_per_box = 4000, 1500
    tenant.min_payout, tenant.fee_vat_bp = 10000, 1000
    merchants = [Merchant(tenant_id=tenant_id, name=name, business_number=number,
                          tax_type="general", fee_model="commission", commission_rate_bp=rate)
                 for name, number, rate in (("한빛농원", "1010101010", 1000),
                                            ("바다수산", "2020202020", 800),
                                            ("산골공방", "3030303030", 500))]
    session.add_all(merchants)
    session.flush()
    kinds = ("physical", "physical", "voucher" if voucher else "physical")
    items = [Item(tenant_id=tenant_id, merchant_id=merchant.id, sku=f"W-{index}",
                  name=f"품목 {index}", list_price=10000, kind=kind,
                  voucher_valid_days=30 if kind == "voucher" else None,
                  voucher_expiry_share_bp=5000 if kind == "voucher" else None)
             for index, (merchant, kind) in enumerate(zip(merchants, kinds, strict=True))]
    session.add_all(items)
    session.flush()
    box = Box(tenant_id=tenant_id, code="W-BOX", title="제주 꾸러미", capacity_per_round=100,
              status="active")
    session.add(box)
    session.flush()
    version = BoxVersion(box_id=box.id, number=1)
    session.add(version)
    session.flush()
    for position, (item, weight) in enumerate(zip(items, (5, 3, 2), strict=True)):
        session.add(BoxComponent(box_version_id=version.id, item_id=item.id, position=position,
                                 quantity=1, weight=weight))
    box.current_version_id = version.id
    plan = Plan(tenant_id=tenant_id, box_id=box.id, code="W-4W", name="4주 정기",
                cadence="weekly", prepaid_rounds=4, term_rounds=4, round_price=30000,
                clawback="term_discounts")
    plan.rules = [PricingRule(position=0, from_round=1, kind="percent", percent_bp=1000,
                              funder="merchant", label="정기 할인"),
                  PricingRule(position=1, from_round=2, kind="fixed", amount=1000,
                              funder="municipality", label="지자체 지원")]
    mall = Connection(tenant_id=tenant_id, connector="saleor", name="한빛몰", fee_rate_bp=0)
    platform = Connection(tenant_id=tenant_id, connector="partner", name="오늘의꾸러미",
                          fee_rate_bp=550)
    coupon = Coupon(tenant_id=tenant_id, code="WELCOME", label="환영 쿠폰",
                    funder="municipality", amount=4000)
    session.add_all([plan, mall, platform, coupon])
    session.flush()
    return World(tenant, merchants, items, box, version, plan, mall, platform, coupon)


def add_order(session: Session, world: World, name: str, connection: Connection,
              placed_at: datetime, total: int, *, coupon: bool = False,
              channel_fee: int | None = None) -> Order:
    """An order of one box a round on the plan, paid, with its contract."""
    order = Order(tenant_id=world.tenant.id, connection_id=connection.id, external_id=name,
                  number=name, status="paid", status_rank=1, placed_at=placed_at,
                  source_updated_at=placed_at, source_digest="0" * 64, total=total,
                  coupon_id=world.coupon.id if coupon else None,
                  coupon_amount=world.coupon.amount or 0 if coupon else 0,
                  channel_fee=channel_fee)
    line = OrderLine(external_line_id=f"{name}-1", box_id=world.box.id,
                     box_version_id=world.version.id, plan_id=world.plan.id, quantity=1,
                     unit_price=total)
    order.lines.append(line)
    line.contract = Contract(tenant_id=world.tenant.id, order=order, plan_id=world.plan.id,
                             box_id=world.box.id, cadence="weekly", prepaid_rounds=4,
                             term_rounds=4, status="active")
    session.add(order)
    session.flush()
    world.orders[name] = order
    world.lines[name] = line
    return order


def deliver(session: Session, world: World, name: str, sequence: int,
            delivered_at: datetime) -> Round:
    line = world.lines[name]
    assert line.contract is not None
    row = Round(tenant_id=world.tenant.id, contract_id=line.contract.id, number=sequence,
                sequence=sequence, scheduled_on=delivered_at.date(), cutoff_at=delivered_at,
                quantity=1, status="delivered", delivered_at=delivered_at)
    session.add(row)
    line.contract.rounds_delivered += 1
    session.flush()
    return row


def refund(session: Session, world: World, name: str, amount: int, at: datetime,
           item: Item | None = None) -> Claim:
    """A partial refund of one component (or of whole boxes when no item is given)."""
    order = world.orders[name]
    claim = Claim(tenant_id=world.tenant.id, order_id=order.id, key=f"refund-{at:%m%d}",
                  kind="refund", amount=amount, occurred_at=at,
                  lines=[{"external_line_id": world.lines[name].external_line_id,
                          "item_id": item.id if item else None, "quantity": 1}])
    session.add(claim)
    order.refunded += amount
    session.flush()
    return claim


def by_merchant(statements: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {statement["merchant_id"]: statement for statement in statements}


def totals(statement: dict[str, Any]) -> dict[str, int]:
    return {row["kind"]: row["amount"] for row in statement["totals"]}


def post_all(session: Session, tenant: Tenant) -> None:
    """Post every waiting money event, as a settlement run does."""
    poster = Poster(session, tenant)
    while poster.post_rounds() + poster.post_vouchers() + poster.post_cancellations() \
            + poster.post_claims():
        pass


def one_delivered_round(session: Session, tenant_id: int, *, voucher: bool = False) -> World:
    """The world with one mall order (M1) whose first round was delivered on 8 October."""
    world = build_world(session, tenant_id, voucher=voucher)
    add_order(session, world, "M1", world.mall, kst(2026, 10, 1), 104000)
    deliver(session, world, "M1", 1, kst(2026, 10, 8))
    return world
