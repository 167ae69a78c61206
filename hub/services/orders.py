"""Applying a channel's canonical events: orders, their lines, contracts and claims, stock it
reports and its listings of boxes (DESIGN invariants 2 and 5).

An order is one row per (connection, the platform's order id), kept so by that unique key:
a job that inserts an order another job has just inserted fails, reads it and applies its
event again (jobs/inbox.py). Reports of an order are ordered by (status rank, the platform's
updated_at, refunded total, digest of the report), the rank being unpaid < paid < fulfilled
< cancelled < refunded: the state held is the greatest report seen, so it is the same
whatever order the reports arrive in, and a report below it changes nothing. What only
accumulates is merged from every report, stale or not: the earliest placed_at, lines not
seen before, claims.

A line is resolved to what the hub sells through the connection's bindings (product -> box,
variant -> plan) or a plan code in its SKU; the plan decides the box. A line that names
nothing of the hub is kept with no box and no plan, not refused: the order and its money
are real, and an operator can bind the product later (the next report of the order resolves
it). Its box version is frozen the first time the line is resolved."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.errors import RecordError
from hub.models import Connection
from hub.models.order import ORDER_STATUSES
from hub.services.channel_reports import apply_listing_event, apply_stock_report
from hub.services.claims import record_claim, settle_line_quantities
from hub.services.contracts import held_quantities, settle_contracts
from hub.services.logistics import ship_reported_fulfilment
from hub.services.order_lookups import OrderLookups, event_time
from hub.services.order_state import LineRecord, OrderRecord

__all__ = ["STATUS_RANK", "OrderLookups", "apply_event", "held_quantities", "precedence"]

STATUS_RANK = {status: rank for rank, status in enumerate(ORDER_STATUSES)}
# The least status an event of this kind stands for, whatever its record says.
_KIND_STATUS = {"order.upserted": "unpaid", "order.cancelled": "cancelled",
                "order.refunded": "refunded", "fulfilment.created": "fulfilled"}

Precedence = tuple[int, datetime, int, str]


def apply_event(session: Session, connection: Connection, event: Mapping[str, Any], *,
                lookups: OrderLookups | None = None) -> str:
    """Apply one canonical event of this connection: "created", "updated", "unchanged" or
    "ignored" (nothing in the hub it concerns). Raises RecordError for an event that cannot
    be applied as it is. Alone, it is written at once under a SAVEPOINT, and applied again
    if another job inserted the same order meanwhile; with `lookups` (a drain job's batch)
    orders are only changed in memory: the caller writes them (OrderLookups.write)."""
    if event.get("kind") == "subscription.changed":  # through the contract lifecycle, alone
        from hub.services.subscription_events import apply_subscription_change

        return apply_subscription_change(session, connection, event)
    if lookups is not None:
        return _apply(lookups, event)
    for retry in (False, True):
        lookups = OrderLookups(session, connection)
        try:
            with session.begin_nested():
                outcome = _apply(lookups, event)
                lookups.write()
                session.flush()
            lookups.finish()
            return outcome
        except IntegrityError:
            if retry:
                raise  # not a race: something else is wrong with the row
            # Another job inserted the same order (or customer) meanwhile: read it, again.
    raise AssertionError("unreachable")


def _apply(lookups: OrderLookups, event: Mapping[str, Any]) -> str:
    kind = str(event.get("kind"))
    if kind in _KIND_STATUS:
        return _apply_order_event(lookups, kind, event)
    if kind == "stock.updated":
        return apply_stock_report(lookups, event)
    if kind in ("product.upserted", "product.deleted"):
        return apply_listing_event(lookups, event)
    raise RecordError(f"kind: unknown event kind {kind[:40]!r}")


def precedence(order: OrderRecord) -> Precedence:
    return (order.status_rank, order.source_updated_at, int(order.refunded),
            order.source_digest)


def _report(kind: str, record: Mapping[str, Any]) -> dict[str, Any]:
    """The record with its times parsed, its status raised to what the kind stands for,
    and the digest that breaks ties between reports with the same rank and time."""
    status = str(record.get("status"))
    if status not in STATUS_RANK:
        raise RecordError(f"order.status: unknown status {status[:20]!r}")
    least = _KIND_STATUS[kind]
    if STATUS_RANK[least] > STATUS_RANK[status]:
        status = least
    report = {**record, "status": status,
              "placed_at": event_time(record.get("placed_at"), "order.placed_at"),
              "updated_at": event_time(record.get("updated_at"), "order.updated_at"),
              "total": int(record["total"]), "refunded": int(record.get("refunded") or 0),
              "lines": list(record.get("lines") or [])}
    text = json.dumps(report, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=lambda value: value.isoformat())
    report["digest"] = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return report


def _apply_order_event(lookups: OrderLookups, kind: str, event: Mapping[str, Any]) -> str:
    record = event.get("order")
    occurred_at = event_time(event.get("occurred_at"), "occurred_at")
    if not isinstance(record, Mapping):
        if kind == "fulfilment.created":
            return _fulfil(lookups, event, occurred_at)
        raise RecordError(f"{kind}: the event carries no order")
    report = _report(kind, record)
    order = lookups.order(str(report["external_id"]))
    rank_before = -1 if order is None else order.status_rank
    if order is None:
        order = _create_order(lookups, report)
        outcome = "created"
    else:
        outcome = "updated" if _merge_order(lookups, order, report) else "unchanged"
    data: Mapping[str, Any] = event.get("data") or {}
    changed = record_claim(lookups, order, kind, report, data, occurred_at)
    changed = settle_line_quantities(order) or changed
    changed = settle_contracts(lookups, order) or changed
    changed = _ship_rounds(lookups, order, event, occurred_at, rank_before) or changed
    return "updated" if changed and outcome == "unchanged" else outcome


def _create_order(lookups: OrderLookups, report: dict[str, Any]) -> OrderRecord:
    order = lookups.add_order(OrderRecord(
        tenant_id=lookups.tenant_id, connection_id=lookups.connection.id,
        external_id=str(report["external_id"]), placed_at=report["placed_at"]))
    _take_report(lookups, order, report)
    for spec in report["lines"]:
        order.lines.append(_new_line(lookups, spec))
    return order


def _take_report(lookups: OrderLookups, order: OrderRecord, report: dict[str, Any]) -> None:
    order.number = report.get("number")
    order.status = report["status"]
    order.status_rank = STATUS_RANK[report["status"]]
    order.source_updated_at = report["updated_at"]
    order.source_digest = report["digest"]
    order.currency = str(report.get("currency") or "KRW")
    order.total = report["total"]
    order.refunded = report["refunded"]
    if report.get("customer_ref"):
        order.customer = lookups.customer(str(report["customer_ref"]))
    _take_coupon(lookups, order, report)
    if report.get("channel_fee") is not None:
        order.channel_fee = int(report["channel_fee"])


def _take_coupon(lookups: OrderLookups, order: OrderRecord, report: dict[str, Any]) -> None:
    """The coupon the order used, by its code: what it took off is the channel's figure, or
    the campaign's own (a fixed amount, or its rate of the order's list value)."""
    code = report.get("coupon_code")
    if not code:
        return
    coupon = lookups.coupon(str(code))
    if coupon is None:
        raise RecordError(f"order.coupon_code: {str(code)[:64]!r} is no coupon campaign here; "
                          "create it (its funder matters) and retry the event")
    order.coupon_id = coupon.id
    if report.get("coupon_amount") is not None:
        order.coupon_amount = int(report["coupon_amount"])
    elif coupon.amount is not None:
        order.coupon_amount = coupon.amount
    else:
        listed = sum(int(line.get("quantity") or 0) * int(line.get("unit_price") or 0)
                     for line in report["lines"])
        order.coupon_amount = listed * int(coupon.percent_bp or 0) // 10000


def _merge_order(lookups: OrderLookups, order: OrderRecord, report: dict[str, Any]) -> bool:
    changed = False
    if report["placed_at"] < order.placed_at:
        order.placed_at = report["placed_at"]
        changed = True
    newer = (STATUS_RANK[report["status"]], report["updated_at"], report["refunded"],
             report["digest"]) > precedence(order)
    if newer:
        _take_report(lookups, order, report)
        changed = True
    lines = {line.external_line_id: line for line in order.lines}
    for spec in report["lines"]:
        line = lines.get(str(spec["external_line_id"]))
        if line is None:
            order.lines.append(_new_line(lookups, spec))
            changed = True
        elif newer:
            _update_line(lookups, line, spec)
        elif line.plan_id is None or line.box_id is None:
            changed = _resolve(lookups, line) or changed
    return changed


def _new_line(lookups: OrderLookups, spec: Mapping[str, Any]) -> LineRecord:
    line = lookups.new(LineRecord(
        external_line_id=str(spec["external_line_id"]),
        external_product_id=spec.get("external_product_id"),
        external_variant_id=spec.get("external_variant_id"), sku=spec.get("sku"),
        quantity=int(spec["quantity"]), unit_price=int(spec["unit_price"])))
    _resolve(lookups, line)
    return line


def _update_line(lookups: OrderLookups, line: LineRecord, spec: Mapping[str, Any]) -> None:
    line.external_product_id = spec.get("external_product_id")
    line.external_variant_id = spec.get("external_variant_id")
    line.sku = spec.get("sku")
    if line.quantity != int(spec["quantity"]):
        line.quantity = int(spec["quantity"])
        lookups.touch(line.box_version_id)
    line.unit_price = int(spec["unit_price"])
    _resolve(lookups, line)


def _resolve(lookups: OrderLookups, line: LineRecord) -> bool:
    """Fill in the box and plan a line names, where they are still unknown."""
    if line.plan_id is not None and line.box_id is not None:
        return False
    plan = None
    if line.external_variant_id:
        plan_id = lookups.binding("plan", line.external_variant_id)
        plan = lookups.plan(plan_id) if plan_id is not None else None
    if plan is None and line.sku:
        plan = lookups.plan_by_code(line.sku)
    box_id = plan.box_id if plan is not None else (
        lookups.binding("box", line.external_product_id) if line.external_product_id else None)
    changed = False
    if line.box_id is None and box_id is not None:
        line.box_id = box_id
        line.box_version_id = lookups.current_version(box_id)
        changed = True
    if line.plan_id is None and plan is not None and plan.box_id == line.box_id:
        line.plan_id = plan.id
        changed = True
    return changed


def _fulfil(lookups: OrderLookups, event: Mapping[str, Any], occurred_at: datetime) -> str:
    """A fulfilment naming only its order: the order is fulfilled, by rank and time."""
    data: Mapping[str, Any] = event.get("data") or {}
    order_id = data.get("order_id")
    order = lookups.order(str(order_id)) if order_id else None
    if order is None:
        raise RecordError("fulfilment of an order the hub has not received (yet)",
                          record=str(order_id))
    digest = hashlib.sha256(f"fulfilment:{event.get('external_id')}".encode()).hexdigest()
    rank_before = order.status_rank
    if (STATUS_RANK["fulfilled"], occurred_at, int(order.refunded), digest) <= \
            precedence(order):
        return "updated" if _ship_rounds(lookups, order, event, occurred_at, rank_before) \
            else "unchanged"
    order.status, order.status_rank = "fulfilled", STATUS_RANK["fulfilled"]
    order.source_updated_at, order.source_digest = occurred_at, digest
    settle_contracts(lookups, order)
    _ship_rounds(lookups, order, event, occurred_at, rank_before)
    return "updated"


# -- fulfilment reported by the channel -------------------------------------------------------

def _ship_rounds(lookups: OrderLookups, order: OrderRecord, event: Mapping[str, Any],
                 occurred_at: datetime, rank_before: int) -> bool:
    """The rounds a channel's fulfilment stands for are shipped (hub/services/logistics.py)."""
    return ship_reported_fulfilment(lookups.session, lookups.zone, order, event, occurred_at,
                                    rank_before)
