"""Stock locations (e.g. a municipal logistics centre), levels per item, and movements."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import utcnow
from hub.models.base import Base, Id, IdMixin, TenantMixin, TimestampMixin, VersionedMixin

LOCATION_KINDS = ("logistics_centre", "merchant_warehouse")


class StockLocation(IdMixin, TenantMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "stock_location"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),
                      {"sqlite_autoincrement": True})

    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(400))
    kind: Mapped[str] = mapped_column(String(32), default="logistics_centre")


class StockLevel(IdMixin, TenantMixin, VersionedMixin, Base):
    __tablename__ = "stock_level"
    __table_args__ = (
        UniqueConstraint("item_id", "location_id"),
        CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
        {"sqlite_autoincrement": True},
    )

    item_id: Mapped[int] = mapped_column(Id, ForeignKey("item.id", ondelete="RESTRICT"),
                                         index=True)
    location_id: Mapped[int] = mapped_column(
        Id, ForeignKey("stock_location.id", ondelete="RESTRICT"), index=True)
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class StockMovement(IdMixin, TenantMixin, Base):
    """Why a level changed: an absolute count or an adjustment with its reason."""

    __tablename__ = "stock_movement"
    __table_args__ = {"sqlite_autoincrement": True}

    stock_level_id: Mapped[int] = mapped_column(
        Id, ForeignKey("stock_level.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # "set" or "adjust"
    delta: Mapped[int] = mapped_column(Integer)
    on_hand_after: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(String(400))
    actor: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
