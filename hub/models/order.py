"""Orders taken on a channel, their lines as sold, the subscription contracts they start,
the claims (cancel, return, refund) made against them, and the minimal customer behind them.

An order is one row per (connection, the platform's order id), so the same order arriving
twice, under any delivery id, is recognised by the database. A line keeps the box version
and plan it was sold with; a customer is only a digest of the platform's opaque reference
and a masked label, never a name or an e-mail."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.db import utcnow
from hub.models.base import Base, Id, IdMixin, JsonValue, TenantMixin, TimestampMixin

ORDER_STATUSES = ("unpaid", "paid", "fulfilled", "cancelled", "refunded")
CONTRACT_STATUSES = ("active", "paused", "cancelled", "ended")
CLAIM_KINDS = ("cancel", "return", "refund")


class Customer(IdMixin, TenantMixin, Base):
    __tablename__ = "customer"
    __table_args__ = (UniqueConstraint("connection_id", "ref_digest"),
                      {"sqlite_autoincrement": True})

    connection_id: Mapped[int] = mapped_column(
        Id, ForeignKey("connection.id", ondelete="RESTRICT"))
    ref_digest: Mapped[str] = mapped_column(String(64))  # sha256 of the platform's reference
    masked: Mapped[str] = mapped_column(String(16))  # e.g. "c-****3f", all the API shows
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Order(IdMixin, TenantMixin, TimestampMixin, Base):
    __tablename__ = "order"
    __table_args__ = (
        UniqueConstraint("connection_id", "external_id"),
        CheckConstraint("status IN ('unpaid', 'paid', 'fulfilled', 'cancelled', 'refunded')",
                        name="status_known"),
        CheckConstraint("total >= 0 AND refunded >= 0", name="amounts_not_negative"),
        {"sqlite_autoincrement": True},
    )

    connection_id: Mapped[int] = mapped_column(
        Id, ForeignKey("connection.id", ondelete="RESTRICT"))
    external_id: Mapped[str] = mapped_column(String(200))
    number: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    status_rank: Mapped[int] = mapped_column(Integer)
    placed_at: Mapped[datetime] = mapped_column()
    # The platform's own timestamp of the state held, and a digest of that state: with the
    # rank they order every report of the order, so the latest one wins in any arrival order.
    source_updated_at: Mapped[datetime] = mapped_column()
    source_digest: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3), default="KRW")
    total: Mapped[int] = mapped_column(BigInteger)
    refunded: Mapped[int] = mapped_column(BigInteger, default=0)
    customer_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("customer.id", ondelete="SET NULL"), index=True)
    # A coupon the customer used (its funder is data on the coupon), what it took off the
    # order, and the channel's fee on the order when the channel reports it.
    coupon_id: Mapped[int | None] = mapped_column(Id, ForeignKey("coupon.id",
                                                                 ondelete="RESTRICT"))
    coupon_amount: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    channel_fee: Mapped[int | None] = mapped_column(BigInteger)

    customer: Mapped[Customer | None] = relationship(lazy="joined")
    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", order_by="OrderLine.id", lazy="selectin",
        cascade="all, delete-orphan")
    claims: Mapped[list[Claim]] = relationship(
        back_populates="order", order_by="Claim.id", cascade="all, delete-orphan")


class OrderLine(IdMixin, Base):
    __tablename__ = "order_line"
    __table_args__ = (
        UniqueConstraint("order_id", "external_line_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price >= 0", name="unit_price_not_negative"),
        CheckConstraint("cancelled_quantity >= 0 AND refunded_quantity >= 0",
                        name="claimed_not_negative"),
        {"sqlite_autoincrement": True},
    )

    order_id: Mapped[int] = mapped_column(Id, ForeignKey("order.id", ondelete="CASCADE"))
    external_line_id: Mapped[str] = mapped_column(String(200))
    external_product_id: Mapped[str | None] = mapped_column(String(200))
    external_variant_id: Mapped[str | None] = mapped_column(String(200))
    sku: Mapped[str | None] = mapped_column(String(200))
    # What was sold; null when the platform's ids name nothing of the hub (kept, not refused).
    box_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("box.id", ondelete="RESTRICT"), index=True)
    box_version_id: Mapped[int | None] = mapped_column(  # frozen when first seen
        Id, ForeignKey("box_version.id", ondelete="RESTRICT"), index=True)
    plan_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("plan.id", ondelete="RESTRICT"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)  # boxes per round
    unit_price: Mapped[int] = mapped_column(BigInteger)
    cancelled_quantity: Mapped[int] = mapped_column(Integer, default=0)
    refunded_quantity: Mapped[int] = mapped_column(Integer, default=0)

    order: Mapped[Order] = relationship(back_populates="lines")
    contract: Mapped[Contract | None] = relationship(back_populates="order_line",
                                                     cascade="all, delete-orphan")


class Contract(IdMixin, TenantMixin, TimestampMixin, Base):
    """A subscription started by one order line with a plan: the line's quantity of boxes
    every round, `prepaid_rounds` of them paid up front."""

    __tablename__ = "contract"
    __table_args__ = (
        UniqueConstraint("order_line_id"),
        CheckConstraint("status IN ('active', 'paused', 'cancelled', 'ended')",
                        name="status_known"),
        CheckConstraint("prepaid_rounds >= 1 AND rounds_delivered >= 0",
                        name="rounds_not_negative"),
        {"sqlite_autoincrement": True},
    )

    order_id: Mapped[int] = mapped_column(Id, ForeignKey("order.id", ondelete="CASCADE"),
                                          index=True)
    order_line_id: Mapped[int] = mapped_column(
        Id, ForeignKey("order_line.id", ondelete="CASCADE"))
    plan_id: Mapped[int] = mapped_column(Id, ForeignKey("plan.id", ondelete="RESTRICT"),
                                         index=True)
    box_id: Mapped[int] = mapped_column(Id, ForeignKey("box.id", ondelete="RESTRICT"),
                                        index=True)
    cadence: Mapped[str] = mapped_column(String(16))
    prepaid_rounds: Mapped[int] = mapped_column(Integer)
    term_rounds: Mapped[int | None] = mapped_column(Integer)
    rounds_delivered: Mapped[int] = mapped_column(Integer, default=0)
    next_round_on: Mapped[date | None] = mapped_column(Date)  # in the tenant's time zone
    status: Mapped[str] = mapped_column(String(16), default="active")
    # Terms started after the first.
    renewals: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    cancelled_on: Mapped[date | None] = mapped_column(Date)
    # Why: the operator's or the channel's words, or what the order's channel did.
    cancel_reason: Mapped[str | None] = mapped_column(String(500))

    order: Mapped[Order] = relationship()
    order_line: Mapped[OrderLine] = relationship(back_populates="contract")


class Claim(IdMixin, TenantMixin, Base):
    """A cancel, return or refund against an order, once per (order, key): the platform's
    claim id, or a key derived from what the claim reports."""

    __tablename__ = "claim"
    __table_args__ = (
        UniqueConstraint("order_id", "key"),
        CheckConstraint("kind IN ('cancel', 'return', 'refund')", name="kind_known"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        {"sqlite_autoincrement": True},
    )

    order_id: Mapped[int] = mapped_column(Id, ForeignKey("order.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(BigInteger, default=0)
    # The order's refunded total the platform reported with this claim (refunds only).
    refunded_total: Mapped[int | None] = mapped_column(BigInteger)
    # [{"external_line_id", "item_id" (a component) or null (whole boxes), "quantity"}]
    lines: Mapped[list[Any]] = mapped_column(JsonValue, default=list)
    occurred_at: Mapped[datetime] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    posted_at: Mapped[datetime | None] = mapped_column()  # its ledger entries are in

    order: Mapped[Order] = relationship(back_populates="claims")
