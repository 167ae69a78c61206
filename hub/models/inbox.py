"""Inbox: every verified webhook delivery, stored before the sender gets its 2xx.

The row is the delivery: one per (connection, delivery key), so a retried or replayed
delivery is recognised by the database, not by a check in Python. The sync engine drains
pending rows in batches."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import utcnow
from hub.models.base import Base, Id, IdMixin, TenantMixin

INBOX_STATUSES = ("pending", "done", "dead")


class InboxEntry(IdMixin, TenantMixin, Base):
    __tablename__ = "inbox"
    __table_args__ = (
        UniqueConstraint("connection_id", "delivery_key"),
        CheckConstraint("status IN ('pending', 'done', 'dead')", name="status_known"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        Index("ix_inbox_drain", "connection_id", "status", "id"),
        {"sqlite_autoincrement": True},
    )

    connection_id: Mapped[int] = mapped_column(
        Id, ForeignKey("connection.id", ondelete="CASCADE"))
    delivery_key: Mapped[str] = mapped_column(String(256))  # a Standard Webhooks id fits
    event: Mapped[str] = mapped_column(String(100))
    body: Mapped[bytes] = mapped_column(LargeBinary)  # exactly as signed
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # A drain job's claim: the row is not taken again before then (a killed worker's rows
    # come back when it passes). Null: free.
    locked_until: Mapped[datetime | None] = mapped_column()
    processed_at: Mapped[datetime | None] = mapped_column()
