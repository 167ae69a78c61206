"""Tenant: one municipality's programme (지자체). Every business row belongs to one."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, String
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
    # Settlement and logistics parameters (data, not code): rounds close for changes
    # `order_cutoff_days` before their delivery date; a balance under `min_payout` carries
    # forward; couriers charge `courier_cost_per_box`, the municipality pays
    # `shipping_subsidy_per_box` of it; the operator's fee bears VAT at `fee_vat_bp`.
    order_cutoff_days: Mapped[int] = mapped_column(Integer, default=2, server_default="2")
    min_payout: Mapped[int] = mapped_column(BigInteger, default=10000,
                                            server_default="10000")
    courier_cost_per_box: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    shipping_subsidy_per_box: Mapped[int] = mapped_column(Integer, default=0,
                                                          server_default="0")
    fee_vat_bp: Mapped[int] = mapped_column(Integer, default=1000, server_default="1000")
