"""A verified Saleor webhook payload, by its event name, as canonical events (each loaded
through CanonicalEventSchema). Events the hub does not handle map to no events."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from marshmallow import ValidationError

from hub.errors import RecordError
from hub.schemas.canonical import CanonicalEventSchema
from mappings.saleor.catalog import BOX_ID, PLAN_ID, metadata_dict
from mappings.saleor.money import obj
from mappings.saleor.orders import order_record

# One instance, reused: marshmallow builds a schema's nested fields on construction.
_EVENTS = CanonicalEventSchema()

_ORDER_KINDS = {
    "order_created": "order.upserted", "order_updated": "order.upserted",
    "order_fully_paid": "order.upserted", "order_cancelled": "order.cancelled",
    "order_fully_refunded": "order.refunded",
}
HANDLED_EVENTS = frozenset({"product_created", "product_updated", "product_deleted",
                            "product_variant_stock_updated", "fulfillment_created",
                            *_ORDER_KINDS})


def canonical_events(event: str, payload: Any) -> list[dict[str, Any]]:
    """Canonical events of one delivery; a payload that cannot be read is a RecordError."""
    if event not in HANDLED_EVENTS:
        return []
    if not isinstance(payload, Mapping):
        raise RecordError(f"{event}: the payload is not a JSON object")
    handler = _HANDLERS.get(event, _order_event)
    return [_load(event, raw) for raw in handler(event, payload)]


def _load(event: str, raw: dict[str, Any]) -> dict[str, Any]:
    try:
        return dict(_EVENTS.load(raw))
    except ValidationError as error:
        raise RecordError(f"{event}: the payload does not make a valid event: "
                          f"{error.messages}", record=str(raw.get("external_id"))) from None


def _occurred_at(payload: Mapping[str, Any], entity: Mapping[str, Any] | None) -> Any:
    """When it happened by the mall's clock: the event's issuedAt, else the entity's."""
    issued = payload.get("issuedAt")
    if issued:
        return issued
    if entity and entity.get("updatedAt"):
        return entity["updatedAt"]
    raise RecordError("the payload has neither issuedAt nor updatedAt")


def _entity(payload: Mapping[str, Any], key: str, event: str) -> Mapping[str, Any]:
    value = payload.get(key)
    if not isinstance(value, Mapping) or not isinstance(value.get("id"), str):
        raise RecordError(f"{event}: the payload has no {key} with an id")
    return value


def _product_event(event: str, payload: Mapping[str, Any]) -> list[dict[str, Any]]:
    product = _entity(payload, "product", event)
    meta = metadata_dict(product.get("metadata"))
    kind = "product.deleted" if event == "product_deleted" else "product.upserted"
    data: dict[str, Any] = {"slug": product.get("slug"), "box_id": meta.get(BOX_ID),
                            "updated_at": product.get("updatedAt")}
    if kind == "product.upserted":
        data["name"] = product.get("name")
        data["product"] = dict(product)  # the import mapping reads it later
    return [{"kind": kind, "external_id": product["id"],
             "occurred_at": _occurred_at(payload, product), "data": data}]


def _stock_event(event: str, payload: Mapping[str, Any]) -> list[dict[str, Any]]:
    variant = _entity(payload, "productVariant", event)
    warehouse = obj(payload.get("warehouse"))
    quantity = None
    for stock in variant.get("stocks") or []:
        where = stock.get("warehouse") if isinstance(stock, Mapping) else None
        if isinstance(where, Mapping) and where.get("id") == warehouse.get("id"):
            quantity = stock.get("quantity")
    product = obj(variant.get("product"))
    meta = metadata_dict(variant.get("metadata"))
    return [{"kind": "stock.updated", "external_id": variant["id"],
             "occurred_at": _occurred_at(payload, variant),
             "data": {"product_id": product.get("id"), "warehouse_id": warehouse.get("id"),
                      "warehouse_slug": warehouse.get("slug"),
                      "quantity": quantity if isinstance(quantity, int) else None,
                      "sku": variant.get("sku"), "plan_id": meta.get(PLAN_ID)}}]


def _order_event(event: str, payload: Mapping[str, Any]) -> list[dict[str, Any]]:
    order = _entity(payload, "order", event)
    return [{"kind": _ORDER_KINDS[event], "external_id": order["id"],
             "occurred_at": _occurred_at(payload, order), "order": order_record(order)}]


def _fulfilment_event(event: str, payload: Mapping[str, Any]) -> list[dict[str, Any]]:
    fulfilment = _entity(payload, "fulfillment", event)
    order = payload.get("order") if isinstance(payload.get("order"), Mapping) else None
    lines = []
    for line in fulfilment.get("lines") or []:
        order_line = line.get("orderLine") if isinstance(line, Mapping) else None
        if isinstance(order_line, Mapping):
            lines.append({"external_line_id": order_line.get("id"),
                          "quantity": line.get("quantity")})
    return [{"kind": "fulfilment.created", "external_id": fulfilment["id"],
             "occurred_at": _occurred_at(payload, order),
             "order": order_record(order) if order is not None else None,
             "data": {"order_id": order.get("id") if order else None,
                      "status": fulfilment.get("status"),
                      "tracking_number": fulfilment.get("trackingNumber") or None,
                      "lines": lines}}]


_HANDLERS: dict[str, Callable[[str, Mapping[str, Any]], list[dict[str, Any]]]] = {
    "product_created": _product_event, "product_updated": _product_event,
    "product_deleted": _product_event, "product_variant_stock_updated": _stock_event,
    "fulfillment_created": _fulfilment_event,
}
