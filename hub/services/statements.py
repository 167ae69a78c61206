"""Merchant statements: the sum of a merchant's ledger entries in a period, computed in SQL.

An open period's statement is a draft, computed whenever asked, with the fee VAT it would
post. Closing a period posts each merchant's fee VAT and, for a balance under the minimum
payout (or negative), a carry-forward out of this period and into the next; then freezes the
statements with a digest of their entries. A closed period's statements are read, never
recomputed."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.db import utcnow
from hub.models import (
    Box,
    Connection,
    LedgerEntry,
    Merchant,
    Order,
    Round,
    SettlementPeriod,
    Statement,
    Tenant,
)
from hub.services.ledger import Poster, entry_sums
from hub.services.periods import next_key, period_row, period_window
from hub.services.settlement_rules import Posting, fee_vat

KIND_ORDER = ("sales", "merchant_discount", "operator_fee", "operator_fee_vat", "channel_fee",
              "shipping_share", "refund", "channel_fee_return", "carry_forward")


def _period_end(tenant: Tenant, period: SettlementPeriod) -> datetime:
    """The last moment of the period, as posted closing entries carry it."""
    return period_window(period.key, tenant.time_zone)[1] - timedelta(seconds=1)


def statement_lines(session: Session, tenant_id: int, period: str,
                    merchant_id: int) -> Iterator[dict[str, Any]]:
    """Every entry of the statement, each traceable to its order, round, voucher or claim,
    in a fixed order (time, then key), streamed."""
    query = (select(LedgerEntry.key, LedgerEntry.kind, LedgerEntry.amount,
                    LedgerEntry.occurred_at, LedgerEntry.order_id, Order.number,
                    Order.external_id, Connection.name, LedgerEntry.round_id, Round.number,
                    Box.title, LedgerEntry.voucher_id, LedgerEntry.claim_id)
             .outerjoin(Order, Order.id == LedgerEntry.order_id)
             .outerjoin(Connection, Connection.id == Order.connection_id)
             .outerjoin(Round, Round.id == LedgerEntry.round_id)
             .outerjoin(Box, Box.id == LedgerEntry.box_id)
             .where(LedgerEntry.tenant_id == tenant_id, LedgerEntry.period == period,
                    LedgerEntry.merchant_id == merchant_id)
             .order_by(LedgerEntry.occurred_at, LedgerEntry.key))
    for (key, kind, amount, occurred_at, order_id, number, external_id, channel, round_id,
         round_number, box_title, voucher_id, claim_id) in session.execute(
            query.execution_options(yield_per=2000)):
        label = f"{box_title} {round_number}회차" if box_title and round_number else \
            (box_title or "")
        yield {"entry_key": key, "kind": kind, "amount": int(amount),
               "occurred_at": occurred_at.isoformat(), "order_id": order_id,
               "order_number": number or external_id, "channel": channel,
               "round_id": round_id, "round_number": round_number, "voucher_id": voucher_id,
               "claim_id": claim_id, "label": label}


def _header(tenant: Tenant, merchant: Merchant, period: SettlementPeriod) -> dict[str, Any]:
    return {"tenant": {"code": tenant.code, "name": tenant.name},
            "merchant": {"id": merchant.id, "name": merchant.name,
                         "business_number": merchant.business_number},
            "merchant_id": merchant.id, "period": period.key,
            "starts_on": period.starts_on.isoformat(),
            "ends_before": period.ends_before.isoformat(), "currency": "KRW"}


def _totals(sums: dict[str, int]) -> list[dict[str, Any]]:
    return [{"kind": kind, "amount": sums[kind]} for kind in KIND_ORDER if sums.get(kind)]


def digest_of(lines: list[dict[str, Any]], totals: list[dict[str, Any]]) -> str:
    canonical = json.dumps({"lines": lines, "totals": totals}, sort_keys=True,
                           ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def statement_totals(tenant: Tenant, period: SettlementPeriod,
                     sums: dict[str, int]) -> dict[str, Any]:
    """A statement's figures from its sums by kind: the fee VAT closing would post (when not
    posted yet), the totals, the payable, or nothing when under the minimum payout."""
    sums = dict(sums)
    vat = fee_vat(sums.get("operator_fee", 0), tenant.fee_vat_bp)
    pending_vat = vat if vat and "operator_fee_vat" not in sums else 0
    if pending_vat:
        sums["operator_fee_vat"] = pending_vat
    balance = sum(sums.values())
    payable = balance if balance >= tenant.min_payout else 0
    return {"pending_vat": pending_vat, "payable": payable,
            "carried_forward": balance - payable, "totals": _totals(sums)}


def all_totals(session: Session, tenant: Tenant,
               period: SettlementPeriod) -> dict[int, dict[str, Any]]:
    """Every merchant's statement figures for the period from one GROUP BY."""
    return {merchant_id: statement_totals(tenant, period, sums)
            for merchant_id, sums in sorted(entry_sums(session, tenant.id, period.key).items())}


def draft_statement(session: Session, tenant: Tenant, merchant: Merchant,
                    period: SettlementPeriod,
                    sums: dict[str, int] | None = None) -> dict[str, Any]:
    """What the merchant's statement is now: its entries, plus the fee VAT closing would
    post; the payable, or nothing when under the minimum payout (then carried forward)."""
    if sums is None:
        sums = entry_sums(session, tenant.id, period.key, [merchant.id]).get(merchant.id, {})
    figures = statement_totals(tenant, period, sums)
    lines = list(statement_lines(session, tenant.id, period.key, merchant.id))
    if figures["pending_vat"]:
        lines.append({"entry_key": f"vat:{period.key}:{merchant.id}", "kind": "operator_fee_vat",
                      "amount": figures["pending_vat"],
                      "occurred_at": _period_end(tenant, period).isoformat(),
                      "order_id": None, "order_number": None, "channel": None,
                      "round_id": None, "round_number": None, "voucher_id": None,
                      "claim_id": None, "label": ""})
    return {**_header(tenant, merchant, period), "status": "draft", "digest": None,
            "payable": figures["payable"], "carried_forward": figures["carried_forward"],
            "totals": figures["totals"], "lines": lines}


def statements_for(session: Session, tenant: Tenant, period: SettlementPeriod,
                   merchant_id: int | None = None) -> list[dict[str, Any]]:
    """The period's statements, frozen ones as frozen, else drafts."""
    if period.status == "closed":
        query = select(Statement).where(Statement.period_id == period.id)
        if merchant_id is not None:
            query = query.where(Statement.merchant_id == merchant_id)
        return [row.body for row in session.scalars(query.order_by(Statement.merchant_id))]
    sums = entry_sums(session, tenant.id, period.key,
                      None if merchant_id is None else [merchant_id])
    merchants: list[Merchant] = list(session.scalars(
        select(Merchant).where(Merchant.id.in_(sorted(sums))).order_by(Merchant.id))) \
        if sums else []
    return [draft_statement(session, tenant, merchant, period, sums[merchant.id])
            for merchant in merchants]


def close_period(session: Session, tenant: Tenant, key: str) -> SettlementPeriod:
    """Close a period: post fee VAT and carry-forwards, freeze every statement. Closing a
    closed period changes nothing. Post the period's events first (`Poster`)."""
    period = period_row(session, tenant, key)
    query = select(SettlementPeriod).where(SettlementPeriod.id == period.id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    period = session.scalars(query.execution_options(populate_existing=True)).one()
    if period.status == "closed":
        return period
    poster = Poster(session, tenant)
    following = next_key(key)
    period_row(session, tenant, following)
    end = _period_end(tenant, period)
    for merchant_id, figures in all_totals(session, tenant, period).items():
        closing = []
        if figures["pending_vat"]:
            closing.append((Posting(f"vat:{key}:{merchant_id}", merchant_id,
                                    "operator_fee_vat", figures["pending_vat"]), key))
        carried = figures["carried_forward"]  # under the minimum payout, or negative
        if carried:
            closing.append((Posting(f"carry:{key}:{merchant_id}:out", merchant_id,
                                    "carry_forward", -carried), key))
            closing.append((Posting(f"carry:{key}:{merchant_id}:in", merchant_id,
                                    "carry_forward", carried), following))
        poster.write(((posting, {"period": where, "occurred_at": end})
                      for posting, where in closing), [])
    session.flush()
    digests = []
    for body in statements_for(session, tenant, period):  # still open: drafts, frozen now
        body["status"] = "closed"
        body["digest"] = digest_of(body["lines"], body["totals"])
        digests.append(f"{body['merchant_id']}:{body['digest']}")
        session.add(Statement(tenant_id=tenant.id, period_id=period.id,
                              merchant_id=body["merchant_id"], payable=body["payable"],
                              digest=body["digest"], body=body))
    period.status = "closed"
    period.closed_at = utcnow()
    period.digest = hashlib.sha256("\n".join(digests).encode()).hexdigest()
    session.flush()
    return period
