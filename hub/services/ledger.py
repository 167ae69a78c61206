"""Posting money events to the ledger: delivered rounds, redeemed or expired vouchers, refunds
and early cancellations, each a batch at a time and each marked posted in the same
transaction as its entries.

Entries are inserted with their unique key and ON CONFLICT DO NOTHING, so a batch posted
twice (a worker killed after the insert, a second worker on the same rows) changes nothing.
An event lands in the open period of its local date, or the next open one."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Insert, String, cast, func, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hub.db import utcnow
from hub.models import (
    Claim,
    Contract,
    FundingEntry,
    Item,
    LedgerEntry,
    Order,
    Round,
    Tenant,
    Voucher,
)
from hub.services.periods import PeriodLanding, local_day, period_row
from hub.services.round_facts import RoundFacts, RoundRow, round_rows_query
from hub.services.settlement_rules import (
    BP,
    Funding,
    Posting,
    cancellation,
    fee_returned,
    merchant_weights,
    plan_discounts,
    refund_postings,
    round_postings,
    voucher_postings,
)

BATCH = 1000


def _insert(session: Session, table: Any) -> Insert:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing(index_elements=["tenant_id", "key"])


class Poster:
    """One run of posting for one tenant: the period landing and the facts are cached."""

    def __init__(self, session: Session, tenant: Tenant) -> None:
        self.session = session
        self.tenant = tenant
        self.landing = PeriodLanding(session, tenant)
        self.facts = RoundFacts(session, tenant)
        self._periods: set[str] = set()

    def _period(self, moment: datetime) -> str:
        key = self.landing.for_moment(moment)
        if key not in self._periods:
            period_row(self.session, self.tenant, key)
            self._periods.add(key)
        return key

    def write(self, postings: Iterable[tuple[Posting, dict[str, Any]]],
              funding: Iterable[tuple[Funding, dict[str, Any]]]) -> int:
        """Insert entries (each with its sources, period and time); returns rows given."""
        now = utcnow()
        rows = [{"tenant_id": self.tenant.id, "key": p.key, "merchant_id": p.merchant_id,
                 "kind": p.kind, "amount": p.amount, "created_at": now, **sources}
                for p, sources in postings]
        if rows:
            self.session.execute(_insert(self.session, LedgerEntry.__table__), rows)
        funded = [{"tenant_id": self.tenant.id, "key": f.key, "funder": f.funder,
                   "merchant_id": f.merchant_id, "kind": f.kind, "amount": f.amount,
                   "label": f.label or None, "created_at": now, **sources}
                  for f, sources in funding]
        if funded:
            self.session.execute(_insert(self.session, FundingEntry.__table__), funded)
        return len(rows)

    def post_rounds(self, limit: int = BATCH) -> int:
        """Post up to `limit` delivered rounds not posted yet; returns how many."""
        query = (round_rows_query()
                 .where(Round.tenant_id == self.tenant.id, Round.status == "delivered",
                        Round.posted_at.is_(None))
                 .order_by(Round.id).limit(limit))
        if self.session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(of=Round, skip_locked=True)
        rows = [RoundRow(*row) for row in self.session.execute(query)]
        postings: list[tuple[Posting, dict[str, Any]]] = []
        funding: list[tuple[Funding, dict[str, Any]]] = []
        for row in rows:
            key = f"round:{row.round_id}"
            delivered = row.delivered_at or utcnow()
            sources = {"period": self._period(delivered), "order_id": row.order_id,
                       "round_id": row.round_id, "occurred_at": delivered}
            entries, funds = round_postings(self.facts.terms(row, key))
            postings.extend((p, {**sources, "connection_id": row.connection_id,
                                 "box_id": row.box_id}) for p in entries)
            funding.extend((f, {**sources, "box_id": row.box_id}) for f in funds)
        self.write(postings, funding)
        if rows:
            self.session.execute(update(Round).where(Round.id.in_([r.round_id for r in rows]))
                                 .values(posted_at=utcnow()))
        return len(rows)

    def post_vouchers(self, limit: int = BATCH) -> int:
        """Vouchers redeemed, or expired under their item's rule, not posted yet."""
        vouchers = list(self.session.scalars(
            select(Voucher).where(Voucher.tenant_id == self.tenant.id,
                                  Voucher.status.in_(("redeemed", "expired")),
                                  Voucher.posted_at.is_(None))
            .order_by(Voucher.id).limit(limit)))
        postings: list[tuple[Posting, dict[str, Any]]] = []
        round_ids = sorted({voucher.round_id for voucher in vouchers})
        rows = {row.round_id: row for row in (RoundRow(*found) for found in self.session.execute(
            round_rows_query().where(Round.id.in_(round_ids))))} if round_ids else {}
        units = {(round_id, item_id): int(count) for round_id, item_id, count in
                 self.session.execute(select(Voucher.round_id, Voucher.item_id, func.count())
                                      .where(Voucher.round_id.in_(round_ids))
                                      .group_by(Voucher.round_id, Voucher.item_id))}
        for voucher in vouchers:
            row = rows[voucher.round_id]
            if voucher.status == "redeemed":
                share, when = BP, voucher.redeemed_at or utcnow()
            else:
                item = self.session.get_one(Item, voucher.item_id)
                share, when = item.voucher_expiry_share_bp or 0, voucher.expired_at or utcnow()
            terms = self.facts.terms(row, f"round:{row.round_id}")
            sources = {"period": self._period(when), "order_id": row.order_id,
                       "round_id": row.round_id, "voucher_id": voucher.id, "occurred_at": when,
                       "connection_id": row.connection_id, "box_id": row.box_id}
            postings.extend((p, sources) for p in voucher_postings(
                terms, voucher.item_id, voucher.merchant_id, voucher.unit,
                units[(voucher.round_id, voucher.item_id)], f"voucher:{voucher.id}", share))
            voucher.posted_at = utcnow()
        self.write(postings, [])
        return len(vouchers)

    def post_claims(self, limit: int = BATCH) -> int:
        """Refunds and returns not posted yet, in the period they are processed."""
        claims = list(self.session.scalars(
            select(Claim).where(Claim.tenant_id == self.tenant.id,
                                Claim.kind.in_(("refund", "return")),
                                Claim.posted_at.is_(None))
            .order_by(Claim.id).limit(limit)))
        for claim in claims:
            order = claim.order
            postings = self._claim_postings(order, claim)
            sources = {"period": self._period(claim.occurred_at), "order_id": order.id,
                       "claim_id": claim.id, "occurred_at": claim.occurred_at,
                       "connection_id": order.connection_id}
            self.write(((p, sources) for p in postings), [])
            claim.posted_at = utcnow()
        return len(claims)

    def _claim_postings(self, order: Order, claim: Claim) -> list[Posting]:
        """A refund falls on the merchants of what came back (one component's merchant
        alone), never beyond what the order's merchants were recognised net of refunds:
        the rest refunds money for rounds not delivered, which was never theirs. Neither is
        the part that repays what an early cancellation left undelivered."""
        recognised, refunded = self._order_balance(order.id)
        amount = min(claim.amount - self._cancellation_cover(order.id, claim),
                     max(0, recognised - refunded))
        if amount <= 0:
            return []
        weights = self._claim_weights(order, claim)
        if not weights:
            return []
        order_fee = order.channel_fee if order.channel_fee is not None else \
            order.total * self.facts.fee_rate(order.connection_id) // BP
        return refund_postings(f"claim:{claim.id}", amount,
                               fee_returned(order_fee, order.total, amount), weights)

    def _cancellation_cover(self, order_id: int, claim: Claim) -> int:
        """How much of this refund repays what the order's cancellations left undelivered
        (its cancel claims: an early cancellation's, or the channel's own). Refunds dated
        from the first cancellation's day on use that up in the order they happened; earlier
        ones were for goods. Read from the claims alone, so a re-run posts the same.
        (Cancellations are posted before refunds in a run; a refund already posted before
        its cancellation existed stays.)"""
        claims = self.session.execute(
            select(Claim.kind, Claim.amount, Claim.occurred_at, Claim.id).where(
                Claim.order_id == order_id,
                Claim.kind.in_(("cancel", "refund", "return")))).all()
        cancels = [(amount, at) for kind, amount, at, _ in claims if kind == "cancel"]
        if not cancels:
            return 0
        first_day = min(local_day(self.tenant, at) for _, at in cancels)
        if local_day(self.tenant, claim.occurred_at) < first_day:
            return 0
        used = sum(amount for kind, amount, at, claim_id in claims
                   if kind != "cancel" and (at, claim_id) < (claim.occurred_at, claim.id)
                   and local_day(self.tenant, at) >= first_day)
        return min(claim.amount, max(0, sum(amount for amount, _ in cancels) - used))

    def _order_balance(self, order_id: int) -> tuple[int, int]:
        sums = {kind: amount for kind, amount in self.session.execute(
            select(LedgerEntry.kind, func.sum(LedgerEntry.amount))
            .where(LedgerEntry.order_id == order_id,
                   LedgerEntry.kind.in_(("sales", "merchant_discount", "refund")))
            .group_by(LedgerEntry.kind))}
        recognised = int(sums.get("sales") or 0) + int(sums.get("merchant_discount") or 0)
        return recognised, -int(sums.get("refund") or 0)

    def _claim_weights(self, order: Order, claim: Claim) -> dict[int, int]:
        lines = {line.external_line_id: line for line in order.lines}
        weights: dict[int, int] = {}
        given = claim.lines or [{"external_line_id": key, "item_id": None,
                                 "quantity": line.quantity} for key, line in lines.items()]
        for entry in given:
            line = lines.get(str(entry.get("external_line_id")))
            if line is None or line.box_version_id is None:
                continue
            quantity = int(entry.get("quantity") or 1)
            for item_id, merchant_id, weight, per_box in \
                    self.facts.components(line.box_version_id):
                if entry.get("item_id") not in (None, item_id):
                    continue
                share = weight * quantity * (1 if entry.get("item_id") else per_box or 1)
                weights[merchant_id] = weights.get(merchant_id, 0) + share
        return {merchant: weight for merchant, weight in weights.items() if weight > 0}

    def post_cancellations(self, limit: int = BATCH) -> int:
        """Early cancellations: the customer's refund for prepaid rounds not delivered is
        recorded as the contract's cancel claim, and term benefits are clawed back by the
        plan's rule. Once per contract (the claim's key)."""
        done = select(Claim.id).where(
            Claim.order_id == Contract.order_id,
            Claim.key == literal("contract:").concat(cast(Contract.id, String)))
        contracts = list(self.session.scalars(
            select(Contract).where(Contract.tenant_id == self.tenant.id,
                                   Contract.status == "cancelled", ~done.exists())
            .order_by(Contract.id).limit(limit)))
        for contract in contracts:
            self._post_cancellation(contract)
        return len(contracts)

    def _post_cancellation(self, contract: Contract) -> None:
        line = contract.order_line
        plan = self.facts.plan(contract.plan_id)
        delivered = list(self.session.scalars(
            select(Round).where(Round.contract_id == contract.id, Round.status == "delivered")
            .order_by(Round.number)))
        boxes = max(0, line.quantity - line.cancelled_quantity - line.refunded_quantity) or \
            line.quantity
        paid_rounds = range(len(delivered) + 1, contract.prepaid_rounds + 1)
        undelivered = 0
        for sequence in paid_rounds:
            row = RoundRow(0, boxes, sequence, None, line.order_id,
                           contract.order.connection_id, contract.box_id, contract.plan_id,
                           contract.prepaid_rounds, line.id, line.box_version_id or 0,
                           contract.order.coupon_id, contract.order.channel_fee)
            undelivered += self.facts.terms(row, "").customer_paid \
                if line.box_version_id else plan.round_price * boxes
        received = [d for r in delivered for d in plan_discounts(
            plan.round_price * r.quantity, plan.rules, r.sequence or 1, r.quantity)]
        parts = self.facts.parts(line.box_version_id) if line.box_version_id else ()
        key = f"contract:{contract.id}"
        result = cancellation(key, undelivered, received, merchant_weights(parts) or {0: 1},
                              plan.clawback == "term_discounts")
        when = _noon(contract.cancelled_on, self.tenant) if contract.cancelled_on \
            else contract.updated_at or utcnow()
        self.session.add(Claim(tenant_id=self.tenant.id, order_id=contract.order_id, key=key,
                               kind="cancel", amount=result.refund, occurred_at=when,
                               lines=[{"external_line_id": line.external_line_id,
                                       "item_id": None, "quantity": boxes}],
                               posted_at=utcnow()))
        sources = {"period": self._period(when), "order_id": contract.order_id,
                   "occurred_at": when, "connection_id": contract.order.connection_id,
                   "box_id": contract.box_id}
        self.write(((p, sources) for p in result.postings),
                   ((f, sources) for f in result.funding))


def _noon(day: date, tenant: Tenant) -> datetime:
    """When a dated event without a time happened: noon of its day, tenant's time zone."""
    return datetime.combine(day, time(12), tzinfo=ZoneInfo(tenant.time_zone))


def pending(session: Session, tenant_id: int) -> dict[str, int]:
    """Money events waiting to be posted, by kind: the settle command's progress total."""
    def count(query: Any) -> int:
        return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)

    return {
        "rounds": count(select(Round.id).where(Round.tenant_id == tenant_id,
                                               Round.status == "delivered",
                                               Round.posted_at.is_(None))),
        "vouchers": count(select(Voucher.id).where(Voucher.tenant_id == tenant_id,
                                                   Voucher.status.in_(("redeemed", "expired")),
                                                   Voucher.posted_at.is_(None))),
        "claims": count(select(Claim.id).where(Claim.tenant_id == tenant_id,
                                               Claim.kind.in_(("refund", "return")),
                                               Claim.posted_at.is_(None))),
    }


def entry_sums(session: Session, tenant_id: int, period: str,
               merchant_ids: Sequence[int] | None = None) -> dict[int, dict[str, int]]:
    """merchant id -> kind -> amount for a period: one GROUP BY over the ledger."""
    query = (select(LedgerEntry.merchant_id, LedgerEntry.kind, func.sum(LedgerEntry.amount))
             .where(LedgerEntry.tenant_id == tenant_id, LedgerEntry.period == period)
             .group_by(LedgerEntry.merchant_id, LedgerEntry.kind))
    if merchant_ids is not None:
        query = query.where(LedgerEntry.merchant_id.in_(list(merchant_ids)))
    sums: dict[int, dict[str, int]] = {}
    for merchant_id, kind, amount in session.execute(query):
        sums.setdefault(int(merchant_id), {})[kind] = int(amount or 0)
    return sums

