"""Tenant: one municipality's programme (지자체). Every business row belongs to one."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from hub.models.base import Base, IdMixin, TimestampMixin, VersionedMixin

SETTLEMENT_CYCLES = ("weekly", "monthly")


class Tenant(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "tenant"
    __table_args__ = {"sqlite_autoincrement": True}

    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    time_zone: Mapped[str] = mapped_column(String(64), default="Asia/Seoul")
    settlement_cycle: Mapped[str] = mapped_column(String(16), default="monthly")
