"""Merchant (소상공인): a supplier paid in settlement."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.models.base import Base, IdMixin, TenantMixin, TimestampMixin, VersionedMixin

TAX_TYPES = ("general", "simplified", "exempt")  # 일반 / 간이 / 면세 과세자
FEE_MODELS = ("commission", "supply_price")
MERCHANT_STATUSES = ("active", "inactive")


class Merchant(IdMixin, TenantMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "merchant"
    __table_args__ = (
        UniqueConstraint("tenant_id", "business_number"),
        CheckConstraint("commission_rate_bp IS NULL OR "
                        "(commission_rate_bp >= 0 AND commission_rate_bp <= 10000)",
                        name="commission_rate_range"),
        {"sqlite_autoincrement": True},
    )

    name: Mapped[str] = mapped_column(String(200))
    business_number: Mapped[str] = mapped_column(String(10))  # ten digits, no hyphens
    tax_type: Mapped[str] = mapped_column(String(16))
    representative: Mapped[str | None] = mapped_column(String(100))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    payout_bank: Mapped[str | None] = mapped_column(String(60))
    payout_account_holder: Mapped[str | None] = mapped_column(String(100))
    # Fernet token of the account number; never returned, only its last digits.
    payout_account_encrypted: Mapped[str | None] = mapped_column(Text)
    payout_account_last4: Mapped[str | None] = mapped_column(String(4))
    fee_model: Mapped[str] = mapped_column(String(16), default="commission")
    commission_rate_bp: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="active")
