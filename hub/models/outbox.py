"""Outbox: every notification the hub owes a platform, written in the transaction of the change.

The row is the notification: its webhook-id is fixed when it is queued and sent on every try,
so the platform de-duplicates retries. The body is stored as the exact JSON text that is
signed and sent (a JSON column would be re-serialized, JSONB even reorders keys). Delivery
jobs drain due rows by (status, next_attempt_at)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import utcnow
from hub.models.base import Base, Id, IdMixin, TenantMixin

OUTBOX_STATUSES = ("pending", "delivered", "dead")


class OutboxMessage(IdMixin, TenantMixin, Base):
    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("webhook_id"),
        CheckConstraint("status IN ('pending', 'delivered', 'dead')", name="status_known"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),
        {"sqlite_autoincrement": True},
    )

    connection_id: Mapped[int] = mapped_column(
        Id, ForeignKey("connection.id", ondelete="CASCADE"), index=True)
    webhook_id: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(100))
    payload: Mapped[str] = mapped_column(Text)  # the envelope's JSON, byte for byte as sent
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # counted (failed) tries
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(500))
    last_status: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column()
