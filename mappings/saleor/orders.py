"""A Saleor order as the hub's canonical order record, and a hub fulfilment as Saleor's
orderFulfill input. The customer is reduced to an opaque reference: no name, no e-mail."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from marshmallow import ValidationError

from hub.errors import RecordError
from hub.schemas.canonical import OrderRecordSchema
from mappings.saleor.money import CURRENCY, gross, money, obj

# Payment states in which the customer has paid the whole order.
_PAID = frozenset({"FULLY_CHARGED", "PARTIALLY_REFUNDED"})
_CHARGED = frozenset({"FULL", "OVERCHARGED"})


def order_status(order: Mapping[str, Any]) -> str:
    """One canonical status from Saleor's order status and its payment status; money
    outranks shipping: a refunded order is refunded whatever its fulfilment says."""
    status = order.get("status")
    if order.get("paymentStatus") == "FULLY_REFUNDED" or _refunded_everything(order):
        return "refunded"
    if status in ("CANCELED", "EXPIRED"):
        return "cancelled"
    if status == "FULFILLED":
        return "fulfilled"
    if order.get("paymentStatus") in _PAID or order.get("chargeStatus") in _CHARGED \
            or order.get("isPaid") is True:
        return "paid"
    return "unpaid"


def _refunded_everything(order: Mapping[str, Any]) -> bool:
    """Saleor's transaction API leaves paymentStatus alone; the refunded total tells."""
    try:
        refunded = Decimal(str(order["totalRefunded"]["amount"]))
        total = Decimal(str(order["total"]["gross"]["amount"]))
    except (KeyError, TypeError, ArithmeticError):
        return False
    return total > 0 and refunded >= total


def customer_ref(user: Any) -> str | None:
    """A stable pseudonym of the mall's customer account; guests have none."""
    if not isinstance(user, Mapping) or not isinstance(user.get("id"), str) or not user["id"]:
        return None
    return "saleor:" + hashlib.sha256(user["id"].encode("utf-8")).hexdigest()[:32]


def order_record(order: Mapping[str, Any]) -> dict[str, Any]:
    """The canonical OrderRecord of a Saleor order (loaded through OrderRecordSchema)."""
    order_id = order.get("id")
    if not isinstance(order_id, str) or not order_id:
        raise RecordError("a mall order has no id")
    record: dict[str, Any] = {
        "external_id": order_id,
        "number": str(order["number"]) if order.get("number") is not None else None,
        "status": order_status(order),
        "placed_at": order.get("created"),
        "updated_at": order.get("updatedAt"),
        "currency": CURRENCY,
        "total": gross(order.get("total"), "order total", record=order_id),
        "refunded": money(order["totalRefunded"], "order refunded", record=order_id)
        if order.get("totalRefunded") is not None else 0,
        "lines": [_line(line, order_id) for line in _lines(order, order_id)],
        "customer_ref": customer_ref(order.get("user")),
        # The mall's voucher is a coupon campaign of the hub by its code (its funder is data).
        "coupon_code": order.get("voucherCode") or None,
    }
    try:
        return dict(OrderRecordSchema().load(record))
    except ValidationError as error:
        raise RecordError(f"mall order does not make a valid order record: {error.messages}",
                          record=order_id) from None


def _lines(order: Mapping[str, Any], order_id: str) -> list[Mapping[str, Any]]:
    lines = order.get("lines")
    if not isinstance(lines, list) or not all(isinstance(line, Mapping) for line in lines):
        raise RecordError("order lines are missing or malformed", record=order_id)
    return lines


def _line(line: Mapping[str, Any], order_id: str) -> dict[str, Any]:
    variant = obj(line.get("variant"))
    product = obj(variant.get("product"))
    return {
        "external_line_id": line.get("id"),
        "external_product_id": product.get("id"),
        "external_variant_id": variant.get("id") or line.get("productVariantId"),
        "sku": line.get("productSku"),
        "quantity": line.get("quantity"),
        "unit_price": gross(line.get("unitPrice"), f"line {line.get('id')} unit price",
                            record=order_id),
    }


def round_note(fulfilment: Mapping[str, Any], order_state: Mapping[str, Any]) -> str | None:
    """The order note that carries a later round's tracking number once the mall's order
    is fulfilled, or None when there is no number or the note is already there."""
    tracking = fulfilment.get("tracking_number")
    if not tracking:
        return None
    if any(isinstance(f, Mapping) and f.get("trackingNumber") == tracking
           for f in order_state.get("fulfillments") or []):
        return None
    number = fulfilment.get("round_number")
    carrier = fulfilment.get("carrier") or ""
    note = (f"구독 {number}회차 발송: " if number else "구독 회차 발송: ") + \
        f"{carrier} {tracking}".strip()
    if any(isinstance(e, Mapping) and e.get("type") == "NOTE_ADDED" and e.get("message") == note
           for e in order_state.get("events") or []):
        return None
    return note


def fulfil_input(fulfilment: Mapping[str, Any], order_state: Mapping[str, Any],
                 warehouse_id: str) -> dict[str, Any] | None:
    """OrderFulfillInput for what the hub shipped and the mall has not yet fulfilled, or
    None when nothing is left (so pushing the same fulfilment twice changes nothing)."""
    order_id = str(order_state.get("id") or "")
    tracking = fulfilment.get("tracking_number") or None
    existing = order_state.get("fulfillments") or []
    if tracking and any(isinstance(f, Mapping) and f.get("trackingNumber") == tracking
                        and f.get("status") != "CANCELED" for f in existing):
        return None
    remaining = {line["id"]: int(line.get("quantityToFulfill") or 0)
                 for line in order_state.get("lines") or []
                 if isinstance(line, Mapping) and isinstance(line.get("id"), str)}
    lines = []
    for wanted in fulfilment.get("lines") or []:
        line_id = wanted.get("external_line_id")
        if line_id not in remaining:
            raise RecordError(f"order line {line_id!r} is not in mall order {order_id}",
                              record=order_id)
        quantity = min(int(wanted.get("quantity") or 0), remaining[line_id])
        if quantity > 0:
            lines.append({"orderLineId": line_id,
                          "stocks": [{"quantity": quantity, "warehouse": warehouse_id}]})
    if not lines:
        return None
    result: dict[str, Any] = {"lines": lines,
                              "notifyCustomer": bool(fulfilment.get("notify_customer", True))}
    if tracking:
        result["trackingNumber"] = str(tracking)
    return result
