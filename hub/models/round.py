"""Rounds (회차): each delivery of a contract, created once by the scheduler on the tenant's
calendar, and the tourism vouchers a delivered round issues."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.db import utcnow
from hub.models.base import Base, Id, IdMixin, TenantMixin, TimestampMixin
from hub.models.order import Contract

ROUND_STATUSES = ("scheduled", "skipped", "shipped", "delivered", "cancelled")
VOUCHER_STATUSES = ("issued", "redeemed", "expired")


class Round(IdMixin, TenantMixin, TimestampMixin, Base):
    """Round `number` of a contract: its boxes for one delivery date. Changes to the contract
    after `cutoff_at` apply from the next round on."""

    __tablename__ = "round"
    __table_args__ = (
        UniqueConstraint("contract_id", "number"),
        CheckConstraint("status IN ('scheduled', 'skipped', 'shipped', 'delivered', "
                        "'cancelled')", name="status_known"),
        CheckConstraint("number >= 1 AND quantity >= 1", name="positive"),
        Index("ix_round_delivery", "tenant_id", "scheduled_on"),
        # Delivered and not yet posted: what every posting batch looks for, found without
        # walking the rounds posted before it.
        Index("ix_round_unposted", "tenant_id", "id",
              postgresql_where=text("status = 'delivered' AND posted_at IS NULL"),
              sqlite_where=text("status = 'delivered' AND posted_at IS NULL")),
        {"sqlite_autoincrement": True},
    )

    contract_id: Mapped[int] = mapped_column(
        Id, ForeignKey("contract.id", ondelete="RESTRICT"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # the slot, skipped ones included
    # The paid round this delivers (1..), which pricing rules go by; None when skipped.
    sequence: Mapped[int | None] = mapped_column(Integer)
    scheduled_on: Mapped[date] = mapped_column(Date)  # delivery date, tenant's time zone
    cutoff_at: Mapped[datetime] = mapped_column()
    quantity: Mapped[int] = mapped_column(Integer)  # boxes
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    shipped_at: Mapped[datetime | None] = mapped_column()
    delivered_at: Mapped[datetime | None] = mapped_column()
    carrier: Mapped[str | None] = mapped_column(String(60))
    tracking_number: Mapped[str | None] = mapped_column(String(100))
    tracking_pushed_at: Mapped[datetime | None] = mapped_column()
    posted_at: Mapped[datetime | None] = mapped_column()  # its ledger entries are in

    contract: Mapped[Contract] = relationship()


class Voucher(IdMixin, TenantMixin, Base):
    """One unit of a voucher item in a delivered round: a unique code valid until a date.
    Its value is the item's share of the round; it is recognised when redeemed, or by the
    item's expiry rule."""

    __tablename__ = "voucher"
    __table_args__ = (
        UniqueConstraint("code"),
        UniqueConstraint("round_id", "item_id", "unit"),
        CheckConstraint("status IN ('issued', 'redeemed', 'expired')", name="status_known"),
        {"sqlite_autoincrement": True},
    )

    round_id: Mapped[int] = mapped_column(Id, ForeignKey("round.id", ondelete="RESTRICT"),
                                          index=True)
    item_id: Mapped[int] = mapped_column(Id, ForeignKey("item.id", ondelete="RESTRICT"))
    merchant_id: Mapped[int] = mapped_column(Id, ForeignKey("merchant.id", ondelete="RESTRICT"))
    unit: Mapped[int] = mapped_column(Integer)  # 1.. within the round and item
    code: Mapped[str] = mapped_column(String(32))
    valid_until: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="issued")
    redeemed_at: Mapped[datetime | None] = mapped_column()
    redeemed_by: Mapped[str | None] = mapped_column(String(200))  # where it was used
    expired_at: Mapped[datetime | None] = mapped_column()
    posted_at: Mapped[datetime | None] = mapped_column()  # redeemed or expired, and posted
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
