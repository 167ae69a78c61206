"""Item (상품): one merchant's component product, a SKU."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.models.base import Base, Id, IdMixin, TenantMixin, TimestampMixin, VersionedMixin

TAX_CATEGORIES = ("taxable", "exempt")  # 과세 / 면세 (농산물)
ITEM_KINDS = ("physical", "voucher")
ITEM_STATUSES = ("active", "inactive")


class Item(IdMixin, TenantMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "item"
    __table_args__ = (
        UniqueConstraint("tenant_id", "sku"),
        CheckConstraint("list_price >= 0", name="list_price_not_negative"),
        CheckConstraint("supply_price IS NULL OR supply_price >= 0",
                        name="supply_price_not_negative"),
        {"sqlite_autoincrement": True},
    )

    merchant_id: Mapped[int] = mapped_column(Id, ForeignKey("merchant.id", ondelete="RESTRICT"),
                                             index=True)
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(40), default="1개")
    list_price: Mapped[int] = mapped_column(Integer)  # KRW
    supply_price: Mapped[int | None] = mapped_column(Integer)  # KRW, for supply-price merchants
    tax_category: Mapped[str] = mapped_column(String(16), default="taxable")
    kind: Mapped[str] = mapped_column(String(16), default="physical")
    status: Mapped[str] = mapped_column(String(16), default="active")
    description: Mapped[str | None] = mapped_column(Text)
    # Voucher items: days a code stays valid, and the share (basis points) of an expired
    # voucher's value its merchant is paid (0: nothing, 10000: all of it).
    voucher_valid_days: Mapped[int | None] = mapped_column(Integer)
    voucher_expiry_share_bp: Mapped[int | None] = mapped_column(Integer)
