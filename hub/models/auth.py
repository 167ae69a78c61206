"""API tokens: random, shown once, stored as a SHA-256 digest, revocable, one role each."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import utcnow
from hub.models.base import Base, Id, IdMixin

ROLES = ("admin", "operator", "mall", "viewer", "partner")


class ApiToken(IdMixin, Base):
    __tablename__ = "api_token"
    __table_args__ = {"sqlite_autoincrement": True}

    tenant_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    label: Mapped[str | None] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column()
    # A partner token speaks for one platform: its partner connection (None for other roles).
    connection_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("connection.id", ondelete="CASCADE"), index=True)
