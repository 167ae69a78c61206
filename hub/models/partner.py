"""What the Partner API reads and writes: which boxes are offered to which platform, the
change log its feed pages through, and the platforms' own products submitted to the mall."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

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


class Offering(IdMixin, TenantMixin, Base):
    """Operator configuration: this box is offered to the platform of this connection."""

    __tablename__ = "offering"
    __table_args__ = (UniqueConstraint("connection_id", "box_id"),
                      {"sqlite_autoincrement": True})

    connection_id: Mapped[int] = mapped_column(
        Id, ForeignKey("connection.id", ondelete="CASCADE"), index=True)
    box_id: Mapped[int] = mapped_column(Id, ForeignKey("box.id", ondelete="CASCADE"),
                                        index=True)


class CatalogChange(IdMixin, TenantMixin, Base):
    """Something a box's listing shows changed; written in the transaction of the change.

    No foreign key to the box: a deleted box's change must outlive it, so the platforms that
    carried it learn it is gone. connection_id is set for offering changes (and for a deleted
    box, once per connection that was offered it): they concern that platform alone."""

    __tablename__ = "catalog_change"
    __table_args__ = {"sqlite_autoincrement": True}

    box_id: Mapped[int] = mapped_column(Id, index=True)
    connection_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("connection.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


PARTNER_PRODUCT_STATUSES = ("pending", "approved", "rejected", "withdrawn")
CADENCES = ("weekly", "biweekly", "monthly")


class PartnerProduct(IdMixin, TenantMixin, TimestampMixin, VersionedMixin, Base):
    """A platform's own subscription product, submitted for listing in the mall.

    The submitted fields are what the platform sent last; `listed` is the content an operator
    approved, which is what the mall shows. A changed submission goes back to "pending" while
    the mall keeps showing the approved content until the next approval."""

    __tablename__ = "partner_product"
    __table_args__ = (
        UniqueConstraint("connection_id", "external_id"),
        CheckConstraint("status IN ('pending', 'approved', 'rejected', 'withdrawn')",
                        name="status_known"),
        CheckConstraint("price >= 0", name="price_not_negative"),
        {"sqlite_autoincrement": True},
    )

    connection_id: Mapped[int] = mapped_column(
        Id, ForeignKey("connection.id", ondelete="CASCADE"), index=True)
    external_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str] = mapped_column(String(1000))
    image_url: Mapped[str | None] = mapped_column(String(1000))
    price: Mapped[int] = mapped_column(Integer)
    cadence: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    review_note: Mapped[str | None] = mapped_column(String(500))
    reviewed_by: Mapped[str | None] = mapped_column(String(200))
    reviewed_at: Mapped[datetime | None] = mapped_column()
    listed: Mapped[dict[str, Any] | None] = mapped_column(JsonValue)
