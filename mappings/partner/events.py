"""A partner platform's webhook envelope {"type", "timestamp", "data"} as canonical events.

Pure: no I/O; every output is loaded through CanonicalEventSchema, and anything the platform
sent that does not fit is a RecordError naming the field (its input is untrusted)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import ValidationError

from hub.errors import RecordError
from hub.schemas.canonical import CanonicalEventSchema

# One instance, reused: marshmallow builds a schema's nested fields on construction.
_EVENTS = CanonicalEventSchema()

EVENT_TYPES = {
    "order.placed": "order.upserted",
    "order.cancelled": "order.cancelled",
    "order.refunded": "order.refunded",
    "listing.changed": "product.upserted",
    "subscription.paused": "subscription.changed",
    "subscription.resumed": "subscription.changed",
    "subscription.skipped": "subscription.changed",
    "subscription.cadence_changed": "subscription.changed",
    "subscription.cancelled": "subscription.changed",
}
SUBSCRIPTION_ACTIONS = {"subscription.paused": "pause", "subscription.resumed": "resume",
                        "subscription.skipped": "skip", "subscription.cadence_changed": "cadence",
                        "subscription.cancelled": "cancel"}
# What the hub tells a platform of an operator's change: the same names, and two more.
NOTICE_TYPES = {action: kind for kind, action in SUBSCRIPTION_ACTIONS.items()} | {
    "renew": "subscription.renewed", "end": "subscription.ending"}


def _order(data: Mapping[str, Any], occurred_at: Any, status: str) -> dict[str, Any]:
    lines = data.get("lines")
    if not isinstance(lines, list) or not lines:
        raise RecordError("data.lines: an order needs at least one line")
    return {
        "external_id": data.get("order_id"), "number": data.get("order_number"),
        "status": status, "placed_at": data.get("placed_at") or occurred_at,
        "updated_at": occurred_at, "currency": data.get("currency", "KRW"),
        "total": data.get("total"), "refunded": data.get("refunded", 0),
        "customer_ref": data.get("customer_ref"),
        "coupon_code": data.get("coupon_code"), "coupon_amount": data.get("coupon_amount"),
        "channel_fee": data.get("channel_fee"),
        "lines": [{"external_line_id": str(line.get("line_id") or index),
                   "external_product_id": line.get("listing_id"),
                   "sku": line.get("plan_code") or line.get("sku"),
                   "quantity": line.get("quantity"), "unit_price": line.get("unit_price")}
                  for index, line in enumerate(lines) if isinstance(line, Mapping)],
    }


def canonical_events(envelope: Any) -> list[dict[str, Any]]:
    if not isinstance(envelope, Mapping):
        raise RecordError("the body is not a JSON object")
    kind = EVENT_TYPES.get(str(envelope.get("type")))
    if kind is None:
        raise RecordError(f"type: unknown event type {str(envelope.get('type'))[:60]!r}")
    data = envelope.get("data")
    if not isinstance(data, Mapping):
        raise RecordError("data: must be an object")
    occurred_at = envelope.get("timestamp")
    event: dict[str, Any] = {"kind": kind, "occurred_at": occurred_at}
    if kind == "subscription.changed":
        event["external_id"] = data.get("order_id")
        event["data"] = {"action": SUBSCRIPTION_ACTIONS[str(envelope.get("type"))],
                         "line_id": data.get("line_id"),
                         "scheduled_on": data.get("scheduled_on"),
                         "cadence": data.get("cadence"), "reason": data.get("reason")}
    elif kind == "product.upserted":
        event["external_id"] = data.get("listing_id")
        event["data"] = {"box_code": data.get("box_code"), "url": data.get("url"),
                         "status": data.get("status")}
    else:
        status = {"order.upserted": str(data.get("status") or "paid"),
                  "order.cancelled": "cancelled", "order.refunded": "refunded"}[kind]
        event["external_id"] = data.get("order_id")
        event["order"] = _order(data, occurred_at, status)
    try:
        return [dict(_EVENTS.load(event))]  # loaded: times are datetimes
    except ValidationError as error:
        raise RecordError(f"the event does not fit: {error.messages}") from None
