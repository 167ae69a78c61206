"""Box (꾸러미) and its versioned components: an order keeps the split it was sold with."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.db import utcnow
from hub.models.base import (
    Base,
    Id,
    IdMixin,
    JsonValue,
    TenantMixin,
    TimestampMixin,
    VersionedMixin,
)

BOX_STATUSES = ("draft", "active", "paused", "retired")
BOX_CATEGORIES = ("produce", "processed", "crafts", "tourism", "mixed")


class Box(IdMixin, TenantMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "box"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code"),
        CheckConstraint("capacity_per_round >= 0", name="capacity_not_negative"),
        {"sqlite_autoincrement": True},
    )

    code: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    images: Mapped[list[Any]] = mapped_column(JsonValue, default=list)
    category: Mapped[str] = mapped_column(String(32), default="mixed")
    capacity_per_round: Mapped[int] = mapped_column(Integer, default=0)
    # The logistics centre (a stock location) where its boxes are packed: pick lists group by it.
    packed_at_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("stock_location.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    current_version_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("box_version.id", use_alter=True, ondelete="SET NULL"))

    current_version: Mapped[BoxVersion | None] = relationship(
        foreign_keys=[current_version_id], post_update=True, lazy="joined")


class BoxVersion(IdMixin, Base):
    """An immutable composition of a box; a new one is made whenever components change."""

    __tablename__ = "box_version"
    __table_args__ = (UniqueConstraint("box_id", "number"),
                      {"sqlite_autoincrement": True})

    box_id: Mapped[int] = mapped_column(Id, ForeignKey("box.id", ondelete="CASCADE"),
                                        index=True)
    number: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    components: Mapped[list[BoxComponent]] = relationship(
        order_by="BoxComponent.position", lazy="selectin", cascade="all, delete-orphan")


class BoxComponent(IdMixin, Base):
    __tablename__ = "box_component"
    __table_args__ = (
        UniqueConstraint("box_version_id", "item_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("weight > 0", name="weight_positive"),
        {"sqlite_autoincrement": True},
    )

    box_version_id: Mapped[int] = mapped_column(
        Id, ForeignKey("box_version.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(Id, ForeignKey("item.id", ondelete="RESTRICT"),
                                         index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    quantity: Mapped[int] = mapped_column(Integer)
    weight: Mapped[int] = mapped_column(Integer)  # allocation weight for splitting money
