"""Where each connection's sync stands: stream cursors, and the digest of what was last sent.

A cursor is saved only after what it covers is committed (in the same transaction), so a job
killed mid-run re-reads rather than skips. A push state lets a job skip a call whose
desired state equals what the platform already has."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import utcnow
from hub.models.base import Base, Id, IdMixin, TenantMixin


class StreamCursor(IdMixin, TenantMixin, Base):
    __tablename__ = "stream_cursor"
    __table_args__ = (UniqueConstraint("connection_id", "stream"),
                      {"sqlite_autoincrement": True})

    connection_id: Mapped[int] = mapped_column(
        Id, ForeignKey("connection.id", ondelete="CASCADE"), index=True)
    stream: Mapped[str] = mapped_column(String(64))
    cursor: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Health, for the operator: the last run that finished, and the last failure with its
    # class in hub/errors.py's taxonomy (cleared by the next success).
    last_success_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(String(500))
    last_error_class: Mapped[str | None] = mapped_column(String(32))
    last_error_at: Mapped[datetime | None] = mapped_column()


class PushState(IdMixin, TenantMixin, Base):
    """The digest of the last state sent to a connection for one entity."""

    __tablename__ = "push_state"
    __table_args__ = (UniqueConstraint("connection_id", "entity_type", "internal_id"),
                      {"sqlite_autoincrement": True})

    connection_id: Mapped[int] = mapped_column(
        Id, ForeignKey("connection.id", ondelete="CASCADE"), index=True)
    entity_type: Mapped[str] = mapped_column(String(32))
    internal_id: Mapped[int] = mapped_column(Id)
    digest: Mapped[str] = mapped_column(String(64))
    pushed_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
