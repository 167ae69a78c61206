"""Webhook payloads (as the manifest's subscriptions shape them) as canonical events."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hub.errors import RecordError
from mappings.saleor.events import HANDLED_EVENTS, canonical_events
from tests.mappings.saleor.samples import ORDER, PRODUCT, order

ISSUED = "2026-11-28T01:06:00+00:00"


@pytest.mark.parametrize(("event", "kind", "status"), [
    ("order_created", "order.upserted", "paid"),
    ("order_updated", "order.upserted", "paid"),
    ("order_fully_paid", "order.upserted", "paid"),
    ("order_cancelled", "order.cancelled", "cancelled"),
    ("order_fully_refunded", "order.refunded", "refunded"),
])
def test_order_events_carry_the_canonical_order(event: str, kind: str, status: str) -> None:
    changes = {"order_cancelled": {"status": "CANCELED", "paymentStatus": "NOT_CHARGED",
                                   "isPaid": False, "chargeStatus": "NONE"},
               "order_fully_refunded": {"paymentStatus": "FULLY_REFUNDED"}}.get(event, {})
    [result] = canonical_events(event, {"issuedAt": ISSUED, "order": order(**changes)})
    assert result["kind"] == kind
    assert result["external_id"] == ORDER["id"]
    assert result["occurred_at"] == datetime(2026, 11, 28, 1, 6, tzinfo=UTC)
    assert result["order"]["status"] == status
    assert result["order"]["total"] == 78000
    assert "kim@example.kr" not in repr(result)


def test_product_events() -> None:
    [upserted] = canonical_events("product_updated", {"issuedAt": ISSUED, "product": PRODUCT})
    assert upserted["kind"] == "product.upserted"
    assert upserted["external_id"] == PRODUCT["id"]
    assert upserted["data"]["slug"] == "hanbit-seasonal"
    assert upserted["data"]["product"]["id"] == PRODUCT["id"]
    [created] = canonical_events("product_created", {"issuedAt": ISSUED, "product": PRODUCT})
    assert created["kind"] == "product.upserted"
    deleted_payload = {"product": {"id": PRODUCT["id"], "slug": "hanbit-seasonal",
                                   "updatedAt": "2026-11-20T00:00:00+00:00",
                                   "metadata": [{"key": "gudok.box_id", "value": "11"}]}}
    [deleted] = canonical_events("product_deleted", deleted_payload)
    assert deleted["kind"] == "product.deleted"
    assert deleted["data"]["box_id"] == "11"
    # Without issuedAt, the entity's own updatedAt dates the event.
    assert deleted["occurred_at"] == datetime(2026, 11, 20, tzinfo=UTC)


def test_stock_event_reports_the_warehouse_quantity() -> None:
    payload = {"issuedAt": ISSUED, "warehouse": {"id": "W1", "slug": "hanbit-wh"},
               "productVariant": {
                   "id": "V1", "sku": "gudok-1-monthly-3",
                   "updatedAt": "2026-11-28T00:00:00+00:00", "product": {"id": "P1"},
                   "metadata": [{"key": "gudok.plan_id", "value": "21"}],
                   "stocks": [{"warehouse": {"id": "W2"}, "quantity": 99},
                              {"warehouse": {"id": "W1"}, "quantity": 7,
                               "quantityAllocated": 1}]}}
    [event] = canonical_events("product_variant_stock_updated", payload)
    assert event["kind"] == "stock.updated" and event["external_id"] == "V1"
    assert event["data"] == {"product_id": "P1", "warehouse_id": "W1",
                             "warehouse_slug": "hanbit-wh", "quantity": 7,
                             "sku": "gudok-1-monthly-3", "plan_id": "21"}


def test_fulfilment_event() -> None:
    payload = {"issuedAt": ISSUED, "order": order(status="FULFILLED"),
               "fulfillment": {"id": "F1", "status": "FULFILLED", "trackingNumber": "CJ1",
                               "created": ISSUED,
                               "lines": [{"quantity": 2, "orderLine": {"id": "L1"}}]}}
    [event] = canonical_events("fulfillment_created", payload)
    assert event["kind"] == "fulfilment.created" and event["external_id"] == "F1"
    assert event["order"]["status"] == "fulfilled"
    assert event["data"]["lines"] == [{"external_line_id": "L1", "quantity": 2}]
    assert event["data"]["tracking_number"] == "CJ1"


def test_events_the_hub_does_not_handle_map_to_nothing() -> None:
    assert canonical_events("checkout_created", {"checkout": {}}) == []
    assert "product_created" in HANDLED_EVENTS


@pytest.mark.parametrize(("event", "payload"), [
    ("order_created", []),
    ("order_created", {"issuedAt": ISSUED}),
    ("order_created", {"issuedAt": ISSUED, "order": {"id": 5}}),
    ("order_created", {"issuedAt": "not a time", "order": ORDER}),
    ("product_updated", {"product": {"id": "P1"}}),
    ("order_created", {"issuedAt": ISSUED,
                       "order": order(total={"gross": {"amount": 1.5, "currency": "KRW"}})}),
])
def test_unreadable_payloads_are_record_errors(event: str, payload: object) -> None:
    with pytest.raises(RecordError):
        canonical_events(event, payload)
