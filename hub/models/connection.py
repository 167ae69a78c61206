"""Connections (채널 연동) and the bindings (입점 링크) between hub rows and external ids."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.models.base import (
    Base,
    Id,
    IdMixin,
    JsonValue,
    TenantMixin,
    TimestampMixin,
    VersionedMixin,
)

CONNECTION_STATUSES = ("active", "paused", "disabled")
BINDING_ENTITIES = ("merchant", "item", "box", "plan", "partner_product")
BINDING_STATUSES = ("active", "tombstoned")


class Connection(IdMixin, TenantMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "connection"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),
                      {"sqlite_autoincrement": True})

    connector: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="active")
    # Non-secret config fields; the secret ones live encrypted beside them.
    config: Mapped[dict[str, Any]] = mapped_column(JsonValue, default=dict)
    secrets_encrypted: Mapped[str | None] = mapped_column(Text)
    # The channel's fee on what its customers paid, in basis points, for orders whose fee
    # the channel does not report itself (0 for the municipal mall).
    fee_rate_bp: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Binding(IdMixin, TenantMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "binding"
    __table_args__ = (
        UniqueConstraint("connection_id", "entity_type", "external_id"),
        UniqueConstraint("connection_id", "entity_type", "internal_id"),
        {"sqlite_autoincrement": True},
    )

    connection_id: Mapped[int] = mapped_column(
        Id, ForeignKey("connection.id", ondelete="CASCADE"), index=True)
    entity_type: Mapped[str] = mapped_column(String(32))
    internal_id: Mapped[int] = mapped_column(Id)
    external_id: Mapped[str] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(16), default="active")
