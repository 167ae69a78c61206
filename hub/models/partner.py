"""What the Partner API reads: which boxes are offered to which platform, and the change log
its feed pages through."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import utcnow
from hub.models.base import Base, Id, IdMixin, TenantMixin


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
