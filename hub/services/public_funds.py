"""The public-fund report: every municipality-funded coupon, discount and shipping subsidy of
a month, by order, merchant and box, with totals, for the municipality's subsidy claim."""

from __future__ import annotations

import csv
import io
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.models import Box, Connection, FundingEntry, Merchant, Order, Tenant
from hub.services.periods import period_window

KIND_LABELS = {"discount": "할인 지원", "coupon": "쿠폰", "shipping_subsidy": "배송비 지원",
               "clawback": "지원금 환수"}


def public_fund_report(session: Session, tenant: Tenant, month: str,
                       funder: str = "municipality") -> dict[str, Any]:
    """`month` is "2026-11"; entries count by when their event happened, in the tenant's
    time zone, whatever the tenant's settlement cycle. The municipality's by default (its
    subsidy claim); the operator's or the channels' the same way."""
    start, end = period_window(month, tenant.time_zone)
    query = (select(FundingEntry.order_id, Order.number, Order.external_id, Connection.name,
                    FundingEntry.merchant_id, Merchant.name, FundingEntry.box_id, Box.code,
                    FundingEntry.kind, func.sum(FundingEntry.amount))
             .outerjoin(Order, Order.id == FundingEntry.order_id)
             .outerjoin(Connection, Connection.id == Order.connection_id)
             .join(Merchant, Merchant.id == FundingEntry.merchant_id)
             .outerjoin(Box, Box.id == FundingEntry.box_id)
             .where(FundingEntry.tenant_id == tenant.id, FundingEntry.funder == funder,
                    FundingEntry.occurred_at >= start, FundingEntry.occurred_at < end)
             .group_by(FundingEntry.order_id, Order.number, Order.external_id, Connection.name,
                       FundingEntry.merchant_id, Merchant.name, FundingEntry.box_id, Box.code,
                       FundingEntry.kind)
             .order_by(FundingEntry.order_id, FundingEntry.merchant_id, FundingEntry.box_id,
                       FundingEntry.kind))
    rows = []
    by_kind: dict[str, int] = {}
    by_merchant: dict[int, int] = {}
    for (order_id, number, external_id, channel, merchant_id, merchant, box_id, box_code,
         kind, amount) in session.execute(query):
        amount = int(amount or 0)
        rows.append({"order_id": order_id, "order_number": number or external_id,
                     "channel": channel, "merchant_id": merchant_id, "merchant": merchant,
                     "box_id": box_id, "box_code": box_code, "kind": kind, "amount": amount})
        by_kind[kind] = by_kind.get(kind, 0) + amount
        by_merchant[merchant_id] = by_merchant.get(merchant_id, 0) + amount
    return {"tenant": tenant.code, "month": month, "funder": funder, "rows": rows,
            "totals": {"by_kind": by_kind,
                       "by_merchant": {str(key): value for key, value in by_merchant.items()},
                       "total": sum(by_kind.values())}}


def public_fund_csv(report: dict[str, Any]) -> bytes:
    """The report as CSV, UTF-8 with BOM, with a total row per kind and overall."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["월", "주문", "채널", "판매자ID", "판매자", "꾸러미", "구분", "금액"])
    for row in report["rows"]:
        writer.writerow([report["month"], row["order_number"], row["channel"],
                         row["merchant_id"], row["merchant"], row["box_code"],
                         KIND_LABELS.get(row["kind"], row["kind"]), row["amount"]])
    for kind, amount in sorted(report["totals"]["by_kind"].items()):
        writer.writerow([report["month"], "합계", "", "", "", "", KIND_LABELS.get(kind, kind),
                         amount])
    writer.writerow([report["month"], "총계", "", "", "", "", "", report["totals"]["total"]])
    return b"\xef\xbb\xbf" + out.getvalue().encode()
