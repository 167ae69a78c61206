"""Claims (cancel, return, refund) against an order, each kept once per (order, key).

A cancellation is the claim "cancel" of every line. A refund is keyed by the platform's
claim id when the event carries one (`data.claim.key`), else by the order's refunded total
the platform reported with it (`refund:<total>`): platforms report that total cumulatively,
so each refund is one step of it and the same report twice is the same claim. A claim's
amount is its step of the reported total (or the platform's own `data.claim.amount`).
Its lines say what came back: whole boxes of a line (item_id null) or units of one component
of the box version the line was sold with. A refund of the whole order lists every line."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from hub.errors import RecordError
from hub.services.order_lookups import OrderLookups
from hub.services.order_state import ClaimRecord, LineRecord, OrderRecord

CLAIM_EVENTS = frozenset({"order.cancelled", "order.refunded"})


def record_claim(lookups: OrderLookups, order: OrderRecord, kind: str, report: Mapping[str, Any],
                 data: Mapping[str, Any], occurred_at: datetime) -> bool:
    """Add the claim an order.cancelled or order.refunded event makes; True if it is new or
    moved earlier (the same claim reported twice keeps its earliest time)."""
    if kind not in CLAIM_EVENTS:
        return False
    given = data.get("claim") if isinstance(data.get("claim"), Mapping) else None
    whole = [{"external_line_id": str(line["external_line_id"]), "item_id": None,
              "quantity": int(line["quantity"])} for line in report["lines"]]
    refunded = int(report.get("refunded") or 0)
    values: dict[str, Any]
    if kind == "order.cancelled":
        values = {"key": "cancel", "kind": "cancel", "amount": 0, "refunded_total": None,
                  "lines": whole}
    elif given is not None:
        claim_kind = str(given.get("kind") or "refund")
        if claim_kind not in ("refund", "return"):
            raise RecordError(f"data.claim.kind: {claim_kind[:20]!r} is not refund or return")
        amount = given.get("amount")
        values = {"key": str(given.get("key") or f"refund:{refunded}")[:200],
                  "kind": claim_kind, "amount": _amount(amount) if amount is not None else 0,
                  "refunded_total": None if amount is not None else refunded,
                  "lines": _claimed_lines(lookups, order, given.get("lines"))
                  or (whole if refunded >= int(report["total"]) else [])}
    elif refunded > 0:
        values = {"key": f"refund:{refunded}", "kind": "refund", "amount": 0,
                  "refunded_total": refunded,
                  "lines": whole if refunded >= int(report["total"]) else []}
    else:
        return False
    existing = next((claim for claim in order.claims if claim.key == values["key"]), None)
    if existing is not None:
        if occurred_at < existing.occurred_at:
            existing.occurred_at = occurred_at
            return True
        return False
    order.claims.append(lookups.new(ClaimRecord(tenant_id=order.tenant_id,
                                                occurred_at=occurred_at, **values)))
    _step_refunds(order)
    return True


def _amount(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise RecordError("data.claim.amount: whole won, not negative")
    return value


def _claimed_lines(lookups: OrderLookups, order: OrderRecord, given: Any) -> list[dict[str, Any]]:
    """The claim's lines as [{external_line_id, item_id, quantity}], every one checked
    against the order: its line, and a component of the box version that line was sold with."""
    if given is None:
        return []
    if not isinstance(given, list):
        raise RecordError("data.claim.lines: must be a list")
    lines = {line.external_line_id: line for line in order.lines}
    claimed = []
    for index, entry in enumerate(given):
        where = f"data.claim.lines[{index}]"
        line = lines.get(str(entry.get("external_line_id"))) if isinstance(entry, Mapping) \
            else None
        if line is None:
            raise RecordError(f"{where}.external_line_id: not a line of this order")
        quantity = entry.get("quantity")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise RecordError(f"{where}.quantity: a whole number from 1")
        claimed.append({"external_line_id": line.external_line_id,
                        "item_id": _component(lookups, line, entry, where),
                        "quantity": quantity})
    return claimed


def _component(lookups: OrderLookups, line: LineRecord, entry: Mapping[str, Any],
               where: str) -> int | None:
    item_id = entry.get("item_id")
    if entry.get("sku"):
        item_id = lookups.item_by_sku(str(entry["sku"]))
        if item_id is None:
            raise RecordError(f"{where}.sku: names no single item here")
    if item_id is None:
        return None
    components = lookups.version_components(line.box_version_id) \
        if line.box_version_id is not None else {}
    if item_id not in components:
        raise RecordError(f"{where}: item {item_id} is not in the box this line was sold as")
    return int(item_id)


def _step_refunds(order: OrderRecord) -> None:
    """Each refund reported as a total is the step from the next lower total (ties: the
    smallest key takes the step), whatever order the reports arrived in."""
    previous = 0
    for claim in sorted((c for c in order.claims if c.refunded_total is not None),
                        key=lambda c: (int(c.refunded_total or 0), c.key)):
        total = int(claim.refunded_total or 0)
        claim.amount = max(0, total - previous)
        previous = max(previous, total)


def settle_line_quantities(order: OrderRecord) -> bool:
    """Each line's cancelled and refunded boxes, from the claims' whole-box lines."""
    cancelled: dict[str, int] = {}
    refunded: dict[str, int] = {}
    for claim in order.claims:
        target = cancelled if claim.kind == "cancel" else refunded
        for entry in claim.lines or []:
            if entry.get("item_id") is None:
                key = str(entry["external_line_id"])
                target[key] = target.get(key, 0) + int(entry["quantity"])
    changed = False
    for line in order.lines:
        wanted = (min(line.quantity, cancelled.get(line.external_line_id, 0)),
                  min(line.quantity, refunded.get(line.external_line_id, 0)))
        if (line.cancelled_quantity, line.refunded_quantity) != wanted:
            line.cancelled_quantity, line.refunded_quantity = wanted
            changed = True
    return changed
