"""Plan (구독 옵션): cadence, prepaid rounds, term, price and who funds each discount."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.models.base import Base, Id, IdMixin, TenantMixin, TimestampMixin, VersionedMixin

CADENCES = ("weekly", "biweekly", "monthly")
PLAN_STATUSES = ("active", "inactive")
RULE_KINDS = ("percent", "fixed")
FUNDERS = ("municipality", "merchant", "operator", "channel")


class Plan(IdMixin, TenantMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "plan"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code"),
        CheckConstraint("prepaid_rounds >= 1", name="prepaid_rounds_positive"),
        CheckConstraint("term_rounds IS NULL OR term_rounds >= prepaid_rounds",
                        name="term_covers_prepaid"),
        CheckConstraint("round_price >= 0", name="round_price_not_negative"),
        {"sqlite_autoincrement": True},
    )

    box_id: Mapped[int] = mapped_column(Id, ForeignKey("box.id", ondelete="RESTRICT"),
                                        index=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    cadence: Mapped[str] = mapped_column(String(16))
    prepaid_rounds: Mapped[int] = mapped_column(Integer, default=1)
    term_rounds: Mapped[int | None] = mapped_column(Integer)  # None: open-ended
    round_price: Mapped[int] = mapped_column(Integer)  # KRW list price of one round
    status: Mapped[str] = mapped_column(String(16), default="active")
    # On early cancellation: "term_discounts" takes back, from the refund of undelivered
    # prepaid rounds, the term discounts already received; "none" takes nothing back.
    clawback: Mapped[str] = mapped_column(String(16), default="none",
                                          server_default="none")
    # At the end of the term: "renew" starts another term, "end" ends the contract.
    at_term_end: Mapped[str] = mapped_column(String(8), default="renew",
                                             server_default="renew")

    rules: Mapped[list[PricingRule]] = relationship(
        order_by="PricingRule.position", lazy="selectin", cascade="all, delete-orphan")


class PricingRule(IdMixin, Base):
    """A discount from a given round on, as a rate or a fixed amount, and its funder."""

    __tablename__ = "pricing_rule"
    __table_args__ = (
        CheckConstraint("from_round >= 1", name="from_round_positive"),
        CheckConstraint("(kind = 'percent' AND percent_bp > 0 AND percent_bp <= 10000 "
                        "AND amount IS NULL) OR "
                        "(kind = 'fixed' AND amount > 0 AND percent_bp IS NULL)",
                        name="kind_matches_value"),
        {"sqlite_autoincrement": True},
    )

    plan_id: Mapped[int] = mapped_column(Id, ForeignKey("plan.id", ondelete="CASCADE"),
                                         index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    from_round: Mapped[int] = mapped_column(Integer, default=1)
    kind: Mapped[str] = mapped_column(String(16))
    percent_bp: Mapped[int | None] = mapped_column(Integer)
    amount: Mapped[int | None] = mapped_column(Integer)
    funder: Mapped[str] = mapped_column(String(16))
    label: Mapped[str | None] = mapped_column(String(200))
