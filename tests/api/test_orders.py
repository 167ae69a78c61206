"""GET /api/v1/orders and /api/v1/contracts: what each channel sold, filtered and paged,
customers masked; other tenants' orders are covered by test_isolation."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.factories import create_catalog
from tests.services.test_orders import apply, order_event, partner_connection


@pytest.fixture
def sold(app: Flask, operator: Any) -> dict[str, Any]:
    """Three orders from a partner platform: two paid, one cancelled."""
    catalog = create_catalog(operator)
    partner = partner_connection(operator)
    apply(app, partner,
          order_event("order.upserted", "paid", 1, external_id="DAON-1", customer_ref="c-77"),
          order_event("order.upserted", "paid", 2, external_id="DAON-2", quantity=1),
          order_event("order.upserted", "paid", 3, external_id="DAON-3"),
          order_event("order.cancelled", "cancelled", 4, external_id="DAON-3"))
    return {**catalog, "partner": partner}


def test_orders_are_listed_filtered_and_paged_with_what_each_line_sold(operator, sold):
    listed = operator.get(f"/api/v1/orders?connection={sold['partner']}&limit=2")
    assert listed.status_code == 200, listed.get_json()
    first = listed.get_json()
    assert [o["external_id"] for o in first["data"]] == ["DAON-1", "DAON-2"]
    rest = operator.get(f"/api/v1/orders?connection={sold['partner']}&limit=2"
                        f"&cursor={first['next_cursor']}").get_json()
    assert [o["external_id"] for o in rest["data"]] == ["DAON-3"] and not rest["next_cursor"]
    order = first["data"][0]
    assert (order["connection_id"], order["status"], order["total"], order["refunded"]) == (
        sold["partner"], "paid", 90000, 0)
    assert order["placed_at"].startswith("2026-11-29T15:30")
    [line] = order["lines"]
    assert (line["box_id"], line["plan_id"], line["quantity"], line["unit_price"]) == (
        sold["box"]["id"], sold["plan"]["id"], 2, 45000)
    assert line["box_version_id"]
    assert set(order["customer"]) == {"id", "masked"}
    assert order["customer"]["masked"].startswith("c-****")
    assert "c-77" not in listed.get_data(as_text=True)
    by_id = operator.get("/api/v1/orders?external_id=DAON-3").get_json()["data"]
    assert [(o["status"], o["claims"][0]["kind"]) for o in by_id] == [("cancelled", "cancel")]
    assert [o["external_id"] for o in operator.get(
        "/api/v1/orders?status=paid").get_json()["data"]] == ["DAON-1", "DAON-2"]
    member = operator.get(f"/api/v1/orders/{order['id']}")
    assert member.status_code == 200 and member.get_json() == order
    assert operator.get("/api/v1/orders/999999").status_code == 404
    assert operator.get("/api/v1/orders?status=lost").status_code == 400


def test_contracts_are_listed_by_order_and_status(operator, sold):
    contracts = operator.get("/api/v1/contracts").get_json()["data"]
    assert [(c["status"], c["cadence"], c["prepaid_rounds"]) for c in contracts] == [
        ("active", "monthly", 6), ("active", "monthly", 6), ("cancelled", "monthly", 6)]
    assert contracts[0]["next_round_on"] == "2026-12-30"
    orders = {o["external_id"]: o["id"] for o in
              operator.get("/api/v1/orders").get_json()["data"]}
    of_one = operator.get(f"/api/v1/contracts?order={orders['DAON-2']}").get_json()["data"]
    assert [c["order_id"] for c in of_one] == [orders["DAON-2"]]
    active = operator.get("/api/v1/contracts?status=active").get_json()["data"]
    assert sorted(c["order_id"] for c in active) == sorted([orders["DAON-1"],
                                                            orders["DAON-2"]])
