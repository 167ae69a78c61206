"""Money: settlement periods, the append-only merchant ledger, what funders paid for, the
statements frozen when a period closes, coupons, and channel reports reconciled per order.

A ledger entry is one merchant's amount of one kind from one money event, unique on its key
(source event, kind, merchant), so posting twice changes nothing. Entries are never updated
or deleted: the database refuses it (`hub/services/ledger_guard.py`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import utcnow
from hub.models.base import Base, Id, IdMixin, JsonValue, TenantMixin, TimestampMixin

ENTRY_KINDS = ("sales", "merchant_discount", "operator_fee", "operator_fee_vat", "channel_fee",
               "shipping_share", "refund", "channel_fee_return", "carry_forward")
FUNDING_KINDS = ("discount", "coupon", "shipping_subsidy", "clawback")
PERIOD_STATUSES = ("open", "closed")
RECONCILIATION_STATUSES = ("matched", "amount_mismatch", "missing_in_hub",
                           "missing_in_report", "duplicate")
COUPON_FUNDERS = ("municipality", "merchant", "operator", "channel")



class SettlementPeriod(IdMixin, TenantMixin, Base):
    """One weekly or monthly period of a tenant, keyed "2026-11" or "2026-W48", from its first
    day to the day after its last, in the tenant's time zone."""

    __tablename__ = "settlement_period"
    __table_args__ = (
        UniqueConstraint("tenant_id", "key"),
        CheckConstraint("status IN ('open', 'closed')", name="status_known"),
        {"sqlite_autoincrement": True},
    )

    key: Mapped[str] = mapped_column(String(10))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_before: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(8), default="open")
    closed_at: Mapped[datetime | None] = mapped_column()
    digest: Mapped[str | None] = mapped_column(String(64))  # of every frozen statement


class LedgerEntry(IdMixin, TenantMixin, Base):
    __tablename__ = "ledger_entry"
    __table_args__ = (
        UniqueConstraint("tenant_id", "key"),
        CheckConstraint(
            "kind IN ('sales', 'merchant_discount', 'operator_fee', 'operator_fee_vat', "
            "'channel_fee', 'shipping_share', 'refund', 'channel_fee_return', "
            "'carry_forward')", name="kind_known"),
        Index("ix_ledger_entry_period", "tenant_id", "period", "merchant_id"),
        {"sqlite_autoincrement": True},
    )

    key: Mapped[str] = mapped_column(String(200))
    merchant_id: Mapped[int] = mapped_column(Id, ForeignKey("merchant.id", ondelete="RESTRICT"))
    period: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(24))
    amount: Mapped[int] = mapped_column(BigInteger)
    order_id: Mapped[int | None] = mapped_column(Id, ForeignKey("order.id",
                                                                ondelete="RESTRICT"))
    round_id: Mapped[int | None] = mapped_column(Id, ForeignKey("round.id",
                                                                ondelete="RESTRICT"))
    voucher_id: Mapped[int | None] = mapped_column(Id, ForeignKey("voucher.id",
                                                                  ondelete="RESTRICT"))
    claim_id: Mapped[int | None] = mapped_column(Id, ForeignKey("claim.id",
                                                                ondelete="RESTRICT"))
    connection_id: Mapped[int | None] = mapped_column(Id)
    box_id: Mapped[int | None] = mapped_column(Id)
    occurred_at: Mapped[datetime] = mapped_column()  # the money event's time
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FundingEntry(IdMixin, TenantMixin, Base):
    """What a funder (municipality, operator, channel, merchant) paid towards an order: a
    discount, a coupon, a shipping subsidy; by merchant share, for reporting and claims."""

    __tablename__ = "funding_entry"
    __table_args__ = (
        UniqueConstraint("tenant_id", "key"),
        CheckConstraint("kind IN ('discount', 'coupon', 'shipping_subsidy', 'clawback')",
                        name="kind_known"),
        Index("ix_funding_entry_period", "tenant_id", "period", "funder"),
        {"sqlite_autoincrement": True},
    )

    key: Mapped[str] = mapped_column(String(200))
    funder: Mapped[str] = mapped_column(String(16))
    merchant_id: Mapped[int] = mapped_column(Id, ForeignKey("merchant.id", ondelete="RESTRICT"))
    period: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(24))
    amount: Mapped[int] = mapped_column(BigInteger)
    label: Mapped[str | None] = mapped_column(String(200))
    order_id: Mapped[int | None] = mapped_column(Id, ForeignKey("order.id",
                                                                ondelete="RESTRICT"))
    round_id: Mapped[int | None] = mapped_column(Id, ForeignKey("round.id",
                                                                ondelete="RESTRICT"))
    box_id: Mapped[int | None] = mapped_column(Id)
    occurred_at: Mapped[datetime] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Statement(IdMixin, TenantMixin, Base):
    """A merchant's statement as frozen when its period closed: never recomputed."""

    __tablename__ = "statement"
    __table_args__ = (UniqueConstraint("period_id", "merchant_id"),
                      {"sqlite_autoincrement": True})

    period_id: Mapped[int] = mapped_column(
        Id, ForeignKey("settlement_period.id", ondelete="RESTRICT"))
    merchant_id: Mapped[int] = mapped_column(Id, ForeignKey("merchant.id", ondelete="RESTRICT"))
    payable: Mapped[int] = mapped_column(BigInteger)
    digest: Mapped[str] = mapped_column(String(64))  # of the entries it was computed from
    body: Mapped[dict[str, Any]] = mapped_column(JsonValue)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Coupon(IdMixin, TenantMixin, TimestampMixin, Base):
    """A coupon campaign: what an order's coupon code takes off, and who funds it."""

    __tablename__ = "coupon"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code"),
        CheckConstraint("funder IN ('municipality', 'merchant', 'operator', 'channel')",
                        name="funder_known"),
        CheckConstraint("(percent_bp IS NOT NULL AND percent_bp > 0 AND percent_bp <= 10000 "
                        "AND amount IS NULL) OR (amount IS NOT NULL AND amount > 0 "
                        "AND percent_bp IS NULL)", name="one_value"),
        {"sqlite_autoincrement": True},
    )

    code: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(200))
    funder: Mapped[str] = mapped_column(String(16))
    percent_bp: Mapped[int | None] = mapped_column(Integer)
    amount: Mapped[int | None] = mapped_column(Integer)  # KRW off an order


class ChannelReport(IdMixin, TenantMixin, Base):
    """One imported settlement or payout report of a channel, from `settlement.pull` or a
    CSV upload; its rows are reconciled per order against what the hub expected."""

    __tablename__ = "channel_report"
    __table_args__ = (UniqueConstraint("connection_id", "digest"),
                      {"sqlite_autoincrement": True})

    connection_id: Mapped[int] = mapped_column(
        Id, ForeignKey("connection.id", ondelete="RESTRICT"), index=True)
    source: Mapped[str] = mapped_column(String(8))  # pull | csv
    period: Mapped[str | None] = mapped_column(String(10))
    digest: Mapped[str] = mapped_column(String(64))  # the same report twice is one import
    counts: Mapped[dict[str, Any]] = mapped_column(JsonValue, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReconciliationRow(IdMixin, Base):
    """One order's outcome: matched, an amount mismatch with both amounts, missing on either
    side, or a duplicate in the report. Not an exception: a row an operator reviews."""

    __tablename__ = "reconciliation_row"
    __table_args__ = (
        CheckConstraint("status IN ('matched', 'amount_mismatch', 'missing_in_hub', "
                        "'missing_in_report', 'duplicate')", name="status_known"),
        {"sqlite_autoincrement": True},
    )

    report_id: Mapped[int] = mapped_column(
        Id, ForeignKey("channel_report.id", ondelete="CASCADE"), index=True)
    external_order_id: Mapped[str] = mapped_column(String(200))
    order_id: Mapped[int | None] = mapped_column(Id, ForeignKey("order.id",
                                                                ondelete="RESTRICT"))
    status: Mapped[str] = mapped_column(String(20))
    expected: Mapped[int | None] = mapped_column(BigInteger)
    reported: Mapped[int | None] = mapped_column(BigInteger)
    reviewed_at: Mapped[datetime | None] = mapped_column()
    review_note: Mapped[str | None] = mapped_column(String(500))
