"""Channel payout reports reconciled per order against what the hub expected to be paid.

A report is a list of (the platform's order id, the amount the channel pays out, its fee).
Each order gets one outcome row: matched, amount_mismatch (both amounts kept), missing_in_hub,
missing_in_report (only for a report of a period), or duplicate (a later mention of an order
already named). Outcomes are rows an operator reviews, never exceptions. The same report
imported twice (same connection, period and rows) is the first import, by a unique key."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.db import utcnow
from hub.models import ChannelReport, Connection, Order, ReconciliationRow, Tenant
from hub.models.settlement import RECONCILIATION_STATUSES
from hub.services.periods import period_window, valid_key
from hub.services.settlement_rules import fee_returned
from hub.services.validation import RecordInvalid

SOURCES = ("pull", "csv")
# Orders a channel owes a payout for: paid or beyond, and not cancelled as a whole.
PAYABLE_STATUSES = ("paid", "fulfilled", "refunded")
AMOUNT_LIMIT = 10**15  # far beyond any payout; keeps amounts inside BIGINT
MAX_ERRORS = 50  # a file with more bad rows is answered with the first ones
_CHUNK = 500
_AMOUNT = re.compile(r"^-?(\d{1,3}(,\d{3})+|\d+)$")


class OrderAmounts(Protocol):
    """What the expected payout is computed from: an Order, or a row of its columns."""

    @property
    def total(self) -> int: ...

    @property
    def refunded(self) -> int: ...

    @property
    def channel_fee(self) -> int | None: ...


def expected_payout(order: OrderAmounts, connection: Connection) -> int:
    """What the channel should pay out for an order: what the customer paid, less refunds,
    less the channel's fee (as reported on the order, else its rate on the total, truncated),
    of which refunds take back their share, as settlement posts it (`fee_returned`)."""
    fee = order.channel_fee if order.channel_fee is not None \
        else order.total * connection.fee_rate_bp // 10000
    fee -= fee_returned(fee, order.total, order.refunded)
    return int(order.total - order.refunded - fee)


@dataclass(frozen=True)
class ReportLine:
    """One row of a channel's report, checked and in canonical form."""

    order_id: str
    amount: int
    fee: int | None

    def canonical(self) -> dict[str, Any]:
        return {"order_id": self.order_id, "amount": self.amount, "fee": self.fee}


def _whole_won(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) \
        and -AMOUNT_LIMIT < value < AMOUNT_LIMIT


def report_lines(rows: Sequence[Mapping[str, Any]]) -> list[ReportLine]:
    """Check every row; any bad one rejects the whole report (paths rows[N].field)."""
    errors: list[dict[str, str]] = []
    lines: list[ReportLine] = []
    for index, row in enumerate(rows):
        order_id = str(row.get("order_id") or "").strip()
        amount: Any = row.get("amount")
        fee: Any = row.get("fee")
        if not order_id or len(order_id) > 200 or "\x00" in order_id:
            errors.append({"path": f"rows[{index}].order_id",
                           "message": "The platform's order id, 1 to 200 characters."})
        if not _whole_won(amount):
            errors.append({"path": f"rows[{index}].amount", "message": "Whole won, an integer."})
        if fee is not None and not _whole_won(fee):
            errors.append({"path": f"rows[{index}].fee", "message": "Whole won, or null."})
        if not errors:
            lines.append(ReportLine(order_id, int(amount), None if fee is None else int(fee)))
        if len(errors) >= MAX_ERRORS:
            break
    if errors:
        raise RecordInvalid(errors)
    return lines


def report_digest(lines: Iterable[ReportLine], period: str | None) -> str:
    """The same rows for the same period, in any order, are the same report."""
    canonical = sorted((line.canonical() for line in lines),
                       key=lambda r: (r["order_id"], r["amount"], r["fee"] is None,
                                      r["fee"] or 0))
    encoded = json.dumps({"period": period, "rows": canonical}, sort_keys=True,
                         ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def checked_window(period: str, time_zone: str) -> tuple[datetime, datetime]:
    """The UTC instants a report's period ("2026-11", "2026-W48") starts and ends at."""
    if not valid_key(period):
        raise RecordInvalid.at("period", "A month (2026-11) or an ISO week (2026-W48).")
    return period_window(period, time_zone)


def import_report(session: Session, connection: Connection,
                  rows: Sequence[Mapping[str, Any]], *, source: str,
                  period: str | None) -> ChannelReport:
    """Import and reconcile a channel's report, or return its first import."""
    return import_or_find_report(session, connection, rows, source=source, period=period)[0]


def import_or_find_report(session: Session, connection: Connection,
                          rows: Sequence[Mapping[str, Any]], *, source: str,
                          period: str | None) -> tuple[ChannelReport, bool]:
    """As import_report, and whether this call made the import (False: an earlier one)."""
    if source not in SOURCES:
        raise RecordInvalid.at("source", "pull or csv.")
    tenant = session.get_one(Tenant, connection.tenant_id)
    window = checked_window(period, tenant.time_zone) if period is not None else None
    lines = report_lines(rows)
    digest = report_digest(lines, period)
    found = _imported(session, connection, digest)
    if found is not None:
        return found, False
    report = ChannelReport(tenant_id=connection.tenant_id, connection_id=connection.id,
                           source=source, period=period, digest=digest, counts={})
    try:
        with session.begin_nested():
            session.add(report)
            session.flush()
    except IntegrityError:
        found = _imported(session, connection, digest)  # imported meanwhile by another
        if found is None:
            raise
        return found, False
    outcomes = reconcile(session, connection, lines, window)
    for outcome in outcomes:
        outcome.report_id = report.id
    session.add_all(outcomes)
    report.counts = count_outcomes(outcomes)
    session.flush()
    return report, True


def _imported(session: Session, connection: Connection, digest: str) -> ChannelReport | None:
    return session.scalar(select(ChannelReport).where(
        ChannelReport.connection_id == connection.id, ChannelReport.digest == digest))


def count_outcomes(outcomes: Iterable[ReconciliationRow]) -> dict[str, int]:
    counts = dict.fromkeys(RECONCILIATION_STATUSES, 0)
    for outcome in outcomes:
        counts[outcome.status] += 1
    return counts


def reconcile(session: Session, connection: Connection, lines: Sequence[ReportLine],
              window: tuple[datetime, datetime] | None) -> list[ReconciliationRow]:
    """One outcome per report line, then one per payable order of the period not named."""
    orders = _orders_named(session, connection, {line.order_id for line in lines})
    outcomes: list[ReconciliationRow] = []
    seen: set[str] = set()
    for line in lines:
        order = orders.get(line.order_id)
        expected = None if order is None else expected_payout(order, connection)
        if line.order_id in seen:
            status = "duplicate"
        elif order is None:
            status = "missing_in_hub"
        else:
            status = "matched" if expected == line.amount else "amount_mismatch"
        seen.add(line.order_id)
        outcomes.append(ReconciliationRow(
            external_order_id=line.order_id, order_id=None if order is None else order.id,
            status=status, expected=expected, reported=line.amount))
    if window is not None:
        for order in _payable_orders(session, connection, window):
            if order.external_id not in seen:
                outcomes.append(ReconciliationRow(
                    external_order_id=order.external_id, order_id=order.id,
                    status="missing_in_report", expected=expected_payout(order, connection),
                    reported=None))
    return outcomes


_AMOUNT_COLUMNS = (Order.id, Order.external_id, Order.total, Order.refunded, Order.channel_fee)


def _orders_named(session: Session, connection: Connection, external_ids: set[str]
                  ) -> dict[str, Any]:
    found: dict[str, Any] = {}
    ordered = sorted(external_ids)
    for start in range(0, len(ordered), _CHUNK):
        for row in session.execute(select(*_AMOUNT_COLUMNS).where(
                Order.connection_id == connection.id,
                Order.external_id.in_(ordered[start:start + _CHUNK]))):
            found[row.external_id] = row
    return found


def _payable_orders(session: Session, connection: Connection,
                    window: tuple[datetime, datetime]) -> list[Any]:
    """The connection's orders placed in the period, paid or beyond and not cancelled."""
    return list(session.execute(select(*_AMOUNT_COLUMNS).where(
        Order.connection_id == connection.id, Order.placed_at >= window[0],
        Order.placed_at < window[1], Order.status.in_(PAYABLE_STATUSES)).order_by(Order.id)))


def review_row(row: ReconciliationRow, note: str | None) -> ReconciliationRow:
    """An operator looked at the outcome: when, and what they noted."""
    row.reviewed_at = utcnow()
    row.review_note = note
    return row


def parse_amount(text: str) -> int | None:
    """Won as channels write them: "12300", "12,300", "12,300원", "₩12,300", "-1,000"."""
    cleaned = text.strip().replace("\u2212", "-").removeprefix("₩").removesuffix("원").strip()
    cleaned = cleaned.replace(" ", "")
    if not _AMOUNT.match(cleaned):
        return None
    value = int(cleaned.replace(",", ""))
    return value if -AMOUNT_LIMIT < value < AMOUNT_LIMIT else None


def read_csv_report(data: bytes, order_column: str, amount_column: str,
                    fee_column: str | None = None) -> list[dict[str, Any]]:
    """Rows of a CSV report (UTF-8, with or without BOM), columns found by header name.
    Any bad row rejects the whole file: a half-imported report is worse than none."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RecordInvalid.at("body", "Not UTF-8 text; save the report as CSV (UTF-8).") \
            from None
    if "\x00" in text:
        raise RecordInvalid.at("body", "NUL characters (\\u0000) are not allowed.")
    try:
        records = [r for r in csv.reader(io.StringIO(text, newline=""))
                   if any(c.strip() for c in r)]
    except csv.Error as error:  # e.g. a field beyond the csv module's size limit
        raise RecordInvalid.at("body", f"Not a CSV file: {error}.") from None
    if not records:
        raise RecordInvalid.at("body", "The file has no header row.")
    header = [name.strip().lstrip("\ufeff") for name in records[0]]
    wanted = {"order_column": order_column, "amount_column": amount_column}
    if fee_column:
        wanted["fee_column"] = fee_column
    missing = [{"path": path, "message": f"No column {name!r} in the header."}
               for path, name in wanted.items() if name.strip() not in header]
    if missing:
        raise RecordInvalid(missing)
    at = {path: header.index(name.strip()) for path, name in wanted.items()}
    rows: list[dict[str, Any]] = []
    errors: list[dict[str, str]] = []
    for index, record in enumerate(records[1:]):
        cells = {path: record[i].strip() if i < len(record) else ""
                 for path, i in at.items()}
        amount = parse_amount(cells["amount_column"])
        fee = parse_amount(cells["fee_column"]) if cells.get("fee_column") else None
        if not cells["order_column"]:
            errors.append({"path": f"rows[{index}].order_id",
                           "message": f"Data row {index + 1}: no order id."})
        if amount is None:
            errors.append({"path": f"rows[{index}].amount", "message":
                           f"Data row {index + 1}: {cells['amount_column'][:40]!r} is not an "
                           "amount in won."})
        if cells.get("fee_column") and fee is None:
            errors.append({"path": f"rows[{index}].fee", "message":
                           f"Data row {index + 1}: {cells['fee_column'][:40]!r} is not an "
                           "amount in won."})
        if len(errors) >= MAX_ERRORS:
            break
        rows.append({"order_id": cells["order_column"], "amount": amount, "fee": fee})
    if errors:
        raise RecordInvalid(errors)
    return rows
