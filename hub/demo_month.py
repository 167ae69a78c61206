"""The demo's month of money: the subscriptions the three channels sold are scheduled into
rounds, packed from pick lists, shipped with tracking numbers (pushed back to each channel)
and delivered; a tourism voucher is redeemed, a subscription is cancelled early (its term
discounts clawed back), a platform refunds part of an order; then the periods are settled
and closed, one platform's payout report is reconciled with one deliberate mismatch, and
every merchant's statement is written as CSV and PDF under var/demo/.

The demo's clock runs ahead: the month settled is the one after today's, whose rounds are
marked on their own delivery dates. The current month is closed first, so the refund, which
arrives now, lands in the next open period, as every late event does."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import func, select

from connectors.partner.sandbox import PartnerSandbox
from hub.db import session_scope, utcnow
from hub.models import (
    Box,
    BoxComponent,
    ChannelReport,
    Claim,
    Connection,
    Contract,
    FundingEntry,
    Item,
    LedgerEntry,
    Order,
    OrderLine,
    Plan,
    ReconciliationRow,
    Round,
    Tenant,
    Voucher,
)
from hub.queue import drain_embedded
from hub.schemas.logistics import pick_list_csv
from hub.services.connections import apply_connection
from hub.services.contract_lifecycle import cancel_contract
from hub.services.logistics import mark_round, pick_lists
from hub.services.periods import next_key, period_bounds, period_key, period_row
from hub.services.public_funds import public_fund_csv, public_fund_report
from hub.services.rounds import schedule_rounds
from hub.services.settlement_pull import pull_settlement_report
from hub.services.statement_render import render_statement_csv, render_statement_pdf
from hub.services.statements import statements_for
from hub.services.vouchers import redeem
from jobs.settlement import settle

CARRIER = "우체국택배"
DEMO_REASON = "고객 요청: 이사"  # the customer is moving away
COURIER_COST, SHIPPING_SUBSIDY = 4000, 1500  # won a box; the municipality pays the subsidy
PLATFORM_FEE_BP = 1100  # what the sandbox platforms keep


@dataclass
class MonthDemo:
    month: str = ""
    rounds_delivered: int = 0
    round_ids: list[int] = field(default_factory=list)  # delivered by this run
    delivery_dates: int = 0
    tracking_pushed: int = 0
    pick_list: Path | None = None
    vouchers_issued: int = 0
    voucher_redeemed: str | None = None
    cancelled_contract: int | None = None
    cancel_refund: int = 0
    clawback: int = 0
    refund: tuple[str, int] | None = None  # platform order, amount
    closed: list[tuple[str, str]] = field(default_factory=list)  # period, digest
    statements: list[dict[str, Any]] = field(default_factory=list)  # the month's
    reconciliation: dict[str, int] = field(default_factory=dict)
    mismatch: tuple[str, int | None, int | None] | None = None
    public_funds: int = 0
    files: list[Path] = field(default_factory=list)


def run_month_demo(app: Flask, platforms: list[tuple[Any, PartnerSandbox]]) -> MonthDemo:
    state = app.extensions["gudok"]
    factory = state.session_factory
    result = MonthDemo()
    out = state.settings.var_path / "demo"
    with session_scope(factory) as session:
        tenant = session.scalar(select(Tenant).where(Tenant.code == "hanbit"))
        assert tenant is not None
        tenant_id, zone = tenant.id, ZoneInfo(tenant.time_zone)
        _money_terms(session, tenant, [demo.connection_id for demo, _ in platforms])
    voucher_platform = _order_a_voucher_box(app, platforms)
    drain_embedded(app, timeout=60)
    today = utcnow().astimezone(zone).date()
    current = period_key(today, "monthly")
    result.month = month = next_key(current)
    first, after = period_bounds(month)
    with session_scope(factory) as session:
        schedule_rounds(session, tenant_id, today, horizon_days=(after - today).days - 1)
        dates = sorted(set(session.scalars(select(Round.scheduled_on).where(
            Round.tenant_id == tenant_id, Round.status == "scheduled",
            Round.scheduled_on < after))))
    result.delivery_dates = len(dates)
    if dates:
        result.pick_list = _write_pick_list(app, tenant_id, dates[0], out)
        result.files.append(result.pick_list)
    for day in (d for d in dates if d < first):  # rounds of this month, settled first
        _deliver(app, tenant_id, day, zone, result)
    with app.app_context():
        report = settle(tenant_id, current, close=True)
    result.closed.append((current, report.digest or ""))
    refunded = False
    for index, day in enumerate(d for d in dates if d >= first):
        _deliver(app, tenant_id, day, zone, result)
        if result.voucher_redeemed is None and voucher_platform is not None:
            result.voucher_redeemed = _redeem_one(app, tenant_id, day, zone)
        if index >= 1 and result.cancelled_contract is None:
            _cancel_early(app, tenant_id, day, zone, result)
        if not refunded:
            refunded = _refund_part(app, platforms, result)
    drain_embedded(app, timeout=60)  # the refund's webhook and the tracking pushes
    with app.app_context():
        report = settle(tenant_id, month, close=True)
    result.closed.append((month, report.digest or ""))
    _reconcile(app, platforms[0], current, result)
    _write_statements(app, tenant_id, month, out, result)
    with session_scope(factory) as session:
        result.tracking_pushed = int(session.scalar(select(func.count()).select_from(Round)
                                                    .where(Round.id.in_(result.round_ids),
                                                           Round.tracking_pushed_at.is_not(None)))
                                     or 0)
        result.vouchers_issued = int(session.scalar(select(func.count()).select_from(Voucher)
                                                    .where(Voucher.tenant_id == tenant_id))
                                     or 0)
    return result


def _money_terms(session: Any, tenant: Tenant, platform_ids: list[int]) -> None:
    """The demo programme's shipping terms and channel fees (data, set once)."""
    if not tenant.courier_cost_per_box:
        tenant.courier_cost_per_box = COURIER_COST
        tenant.shipping_subsidy_per_box = SHIPPING_SUBSIDY
    for connection in session.scalars(select(Connection).where(Connection.id.in_(platform_ids))):
        connection.fee_rate_bp = PLATFORM_FEE_BP


def _order_a_voucher_box(app: Flask, platforms: list[tuple[Any, PartnerSandbox]]) -> str | None:
    """A customer of the first platform subscribes to a box with a tourism voucher in it."""
    _demo, sandbox = platforms[0]
    with session_scope(app.extensions["gudok"].session_factory) as session:
        voucher_boxes = set(session.scalars(
            select(BoxComponent.box_version_id).join(Item, Item.id == BoxComponent.item_id)
            .where(Item.kind == "voucher")))
        codes = set(session.scalars(select(Box.code).where(
            Box.current_version_id.in_(voucher_boxes))))
    for entry in sandbox.boxes.values():
        if entry.get("code") in codes and entry.get("plans"):
            sandbox.place_order(entry["code"], entry["plans"][0]["code"])
            return str(entry["code"])
    return None


def _at(day: date, hour: int, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=zone)


def _deliver(app: Flask, tenant_id: int, day: date, zone: ZoneInfo, result: MonthDemo) -> None:
    """Every round due that day: shipped in the morning with a tracking number (queued for
    the channel the order came from), delivered by evening."""
    with session_scope(app.extensions["gudok"].session_factory) as session:
        rounds = list(session.scalars(select(Round).where(
            Round.tenant_id == tenant_id, Round.scheduled_on == day,
            Round.status == "scheduled").order_by(Round.id)))
        for row in rounds:
            mark_round(session, row, "shipped", carrier=CARRIER,
                       tracking_number=f"6{day:%y%m%d}{row.id:06d}", at=_at(day, 9, zone),
                       now=_at(day, 9, zone))
            mark_round(session, row, "delivered", at=_at(day, 18, zone), now=_at(day, 18, zone))
        result.rounds_delivered += len(rounds)
        result.round_ids += [row.id for row in rounds]


def _write_pick_list(app: Flask, tenant_id: int, day: date, out: Path) -> Path:
    with session_scope(app.extensions["gudok"].session_factory) as session:
        lists = pick_lists(session, tenant_id, day)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"pick-list-{day.isoformat()}.csv"
    text = pick_list_csv(lists, "centre")
    path.write_bytes(text.encode("utf-8") if text.startswith("\ufeff")
                     else b"\xef\xbb\xbf" + text.encode("utf-8"))
    return path


def _redeem_one(app: Flask, tenant_id: int, day: date, zone: ZoneInfo) -> str | None:
    """A subscriber uses a voucher of the box three days after it arrived."""
    with session_scope(app.extensions["gudok"].session_factory) as session:
        voucher = session.scalar(select(Voucher).where(
            Voucher.tenant_id == tenant_id, Voucher.status == "issued").order_by(Voucher.id))
        if voucher is None:
            return None
        redeem(session, voucher, redeemed_at=_at(day + timedelta(days=3), 11, zone),
               place="한빛 해양레일바이크")
        return voucher.code


def _cancel_early(app: Flask, tenant_id: int, day: date, zone: ZoneInfo,
                  result: MonthDemo) -> None:
    """A subscriber with delivered rounds and prepaid rounds still to come cancels (a mall
    subscriber when there is one); the plan claws back the term discounts received."""
    with session_scope(app.extensions["gudok"].session_factory) as session:
        contract = session.scalar(
            select(Contract).join(Order, Order.id == Contract.order_id)
            .join(Connection, Connection.id == Order.connection_id)
            .where(Contract.tenant_id == tenant_id, Contract.status == "active",
                   Contract.rounds_delivered >= 1,
                   Contract.prepaid_rounds > Contract.rounds_delivered)
            .order_by((Connection.connector == "saleor").desc(), Contract.id))
        if contract is None:
            return
        session.get_one(Plan, contract.plan_id).clawback = "term_discounts"
        cancel_contract(session, contract, day, now=_at(day, 20, zone), reason=DEMO_REASON)
        result.cancelled_contract = contract.id


def _refund_part(app: Flask, platforms: list[tuple[Any, PartnerSandbox]],
                 result: MonthDemo) -> bool:
    """The second platform refunds part of an order whose first round was delivered."""
    demo, sandbox = platforms[-1]
    with session_scope(app.extensions["gudok"].session_factory) as session:
        external_id = session.scalar(  # one of this sandbox's orders (a new one each run)
            select(Order.external_id).join(OrderLine, OrderLine.order_id == Order.id)
            .join(Contract, Contract.order_line_id == OrderLine.id)
            .where(Order.connection_id == demo.connection_id, Contract.rounds_delivered >= 1,
                   Order.status == "paid", Order.external_id.in_(list(sandbox.orders)))
            .order_by(Order.id))
    if external_id is None:
        return False
    amount = 5000
    sandbox.refund(external_id, amount)
    result.refund = (external_id, amount)
    return True


def _reconcile(app: Flask, platform: tuple[Any, PartnerSandbox], period: str,
               result: MonthDemo) -> None:
    """The first platform's payout report for the month its orders were placed, one order
    deliberately misreported by 1,000 won."""
    demo, sandbox = platform
    first = next((order_id for order_id, order in sandbox.orders.items()
                  if order.get("status") != "cancelled"), None)
    if first is not None:
        sandbox.misreport_settlement(first, 1000)
    state = app.extensions["gudok"]
    with session_scope(state.session_factory) as session:  # where the report is read
        row = session.get_one(Connection, demo.connection_id)
        apply_connection(session, state.secrets, row.tenant_id, {
            "connector": "partner", "name": row.name, "status": row.status,
            "config": {**row.config, "settlements_url": sandbox.settlements_url,
                       "events_token": sandbox.events_token}}, row)
    with app.app_context(), session_scope(app.extensions["gudok"].session_factory) as session:
        report_id = pull_settlement_report(session, demo.connection_id, period)
        report = session.get_one(ChannelReport, report_id)
        result.reconciliation = dict(report.counts or {})
        row = session.scalar(select(ReconciliationRow).where(
            ReconciliationRow.report_id == report_id,
            ReconciliationRow.status == "amount_mismatch"))
        if row is not None:
            result.mismatch = (row.external_order_id, row.expected, row.reported)


def _write_statements(app: Flask, tenant_id: int, month: str, out: Path,
                      result: MonthDemo) -> None:
    folder = out / "statements" / month
    folder.mkdir(parents=True, exist_ok=True)
    with session_scope(app.extensions["gudok"].session_factory) as session:
        tenant = session.get_one(Tenant, tenant_id)
        for statement in statements_for(session, tenant, period_row(session, tenant, month)):
            stem = folder / f"statement-{tenant.code}-{month}-{statement['merchant_id']}"
            stem.with_suffix(".csv").write_bytes(render_statement_csv(statement))
            stem.with_suffix(".pdf").write_bytes(render_statement_pdf(statement))
            result.files += [stem.with_suffix(".csv"), stem.with_suffix(".pdf")]
            result.statements.append(statement)
        funds = public_fund_report(session, tenant, month)
        result.public_funds = funds["totals"]["total"]
        path = out / f"public-funds-{tenant.code}-{month}.csv"
        path.write_bytes(public_fund_csv(funds))
        result.files.append(path)
        claim = session.scalar(select(Claim).where(
            Claim.key == f"contract:{result.cancelled_contract}"))
        if claim is not None:
            key = f"contract:{result.cancelled_contract}:%"
            result.cancel_refund = claim.amount
            result.clawback = int(session.scalar(select(func.sum(LedgerEntry.amount)).where(
                LedgerEntry.key.like(key))) or 0) - int(session.scalar(
                    select(func.sum(FundingEntry.amount)).where(FundingEntry.key.like(key)))
                or 0)


def describe_month(result: MonthDemo, top: int = 2) -> list[str]:
    """The month as `gudok demo` prints it."""
    lines = [f"Month: {result.month} run through on its delivery dates "
             f"({result.delivery_dates} dates, {result.rounds_delivered} rounds shipped and "
             f"delivered, {result.tracking_pushed} tracking numbers pushed to their channels)"]
    if result.pick_list is not None:
        lines.append(f"  pick list of the first date: {result.pick_list}")
    lines.append(f"  vouchers issued {result.vouchers_issued}; redeemed: "
                 f"{result.voucher_redeemed or 'none'}")
    if result.cancelled_contract is not None:
        lines.append(f"  contract {result.cancelled_contract} cancelled early ({DEMO_REASON}): "
                     f"{result.cancel_refund:,} KRW refunded for undelivered prepaid rounds, "
                     f"{result.clawback:,} KRW of term discounts clawed back")
    if result.refund is not None:
        lines.append(f"  platform order {result.refund[0]} partly refunded "
                     f"({result.refund[1]:,} KRW): arrived after the current month closed, "
                     "so it lands in the next open period")
    for period, digest in result.closed:
        lines.append(f"  period {period} closed, statements frozen (digest {digest[:12]})"
                     if period == result.month else f"  period {period} closed first")
    counts = ", ".join(f"{status} {count}" for status, count
                       in sorted(result.reconciliation.items()))
    lines.append(f"  payout report reconciled: {counts or 'no rows'}")
    if result.mismatch is not None:
        order, expected, reported = result.mismatch
        lines.append(f"    amount mismatch on {order}: expected {expected:,} KRW, "
                     f"reported {reported:,} KRW (a review row for an operator)")
    payable = sum(statement["payable"] for statement in result.statements)
    lines.append(f"  {len(result.statements)} merchant statements for {result.month}: "
                 f"{payable:,} KRW payable; public funds {result.public_funds:,} KRW")
    ranked = sorted(result.statements, key=lambda s: (-s["payable"], s["merchant_id"]))
    for statement in ranked[:top]:
        totals = {row["kind"]: row["amount"] for row in statement["totals"]}
        lines.append(f"    {statement['merchant']['name']} (merchant {statement['merchant_id']})"
                     f": sales {totals.get('sales', 0):,}, payable {statement['payable']:,} KRW")
    folders = sorted({str(path.parent) for path in result.files})
    lines.append(f"  {len(result.files)} files written under {', '.join(folders)}")
    return lines
