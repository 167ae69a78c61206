"""The settlement and logistics fields of tenants, plans, items, boxes and connections: read
and written through create and PATCH (with ETags), validated with field paths, documented."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import create_catalog, error_paths, item_body, merchant_body

TENANT_FIELDS = {"order_cutoff_days": 3, "min_payout": 20000, "courier_cost_per_box": 4000,
                 "shipping_subsidy_per_box": 2500, "fee_vat_bp": 1000}


@pytest.fixture
def catalog(operator: Any) -> dict[str, Any]:
    return create_catalog(operator)


def test_tenant_settlement_fields_round_trip(admin):
    created = admin.post("/api/v1/tenants", json={"code": "sejin", "name": "세진군",
                                                  **TENANT_FIELDS})
    assert created.status_code == 201, created.get_json()
    assert {k: created.get_json()[k] for k in TENANT_FIELDS} == TENANT_FIELDS
    path = f"/api/v1/tenants/{created.get_json()['id']}"
    read = admin.get(path)
    assert read.get_json() == created.get_json()

    patched = admin.patch(path, json={"min_payout": 0, "fee_vat_bp": 0},
                          headers={"If-Match": read.headers["ETag"]})
    assert patched.status_code == 200, patched.get_json()
    assert (patched.get_json()["min_payout"], patched.get_json()["fee_vat_bp"]) == (0, 0)
    assert patched.headers["ETag"] != read.headers["ETag"]
    assert admin.patch(path, json={"order_cutoff_days": 5},
                       headers={"If-Match": read.headers["ETag"]}).status_code == 412


def test_tenant_defaults_are_shown(admin):
    created = admin.post("/api/v1/tenants", json={"code": "sejin", "name": "세진군"}).get_json()
    assert {k: created[k] for k in TENANT_FIELDS} == {
        "order_cutoff_days": 2, "min_payout": 10000, "courier_cost_per_box": 0,
        "shipping_subsidy_per_box": 0, "fee_vat_bp": 1000}


def test_a_shipping_subsidy_above_the_courier_cost_is_refused(admin):
    both = ["shipping_subsidy_per_box", "courier_cost_per_box"]
    refused = admin.post("/api/v1/tenants", json={
        "code": "sejin", "name": "세진군", "courier_cost_per_box": 3000,
        "shipping_subsidy_per_box": 3001})
    assert error_paths(refused, 400) == both
    tenant = admin.post("/api/v1/tenants", json={"code": "sejin", "name": "세진군",
                                                 **TENANT_FIELDS}).get_json()
    path = f"/api/v1/tenants/{tenant['id']}"
    assert error_paths(admin.patch(path, json={"courier_cost_per_box": 2000}), 400) == both
    assert error_paths(admin.patch(path, json={"shipping_subsidy_per_box": 4001}), 400) == both
    assert admin.get(path).get_json()["courier_cost_per_box"] == 4000
    assert admin.patch(path, json={"courier_cost_per_box": 2500}).status_code == 200


@pytest.mark.parametrize(("field", "value"), [
    ("order_cutoff_days", -1), ("order_cutoff_days", 31), ("min_payout", -1),
    ("courier_cost_per_box", -1), ("shipping_subsidy_per_box", -1), ("fee_vat_bp", 10001),
    ("fee_vat_bp", 1.5), ("min_payout", "10000"),
])
def test_tenant_fields_out_of_range_are_refused(admin, field, value):
    assert error_paths(admin.post("/api/v1/tenants", json={
        "code": "sejin", "name": "세진군", field: value})) == [field]


def test_plan_terms_round_trip_with_defaults(operator, catalog):
    assert (catalog["plan"]["clawback"], catalog["plan"]["at_term_end"]) == ("none", "renew")
    created = operator.post("/api/v1/plans", json={
        "box_id": catalog["box"]["id"], "code": "PLAN-END", "name": "3회 후 종료",
        "cadence": "weekly", "round_price": 30000, "clawback": "term_discounts",
        "at_term_end": "end"})
    assert created.status_code == 201, created.get_json()
    assert (created.get_json()["clawback"], created.get_json()["at_term_end"]) == (
        "term_discounts", "end")
    path = f"/api/v1/plans/{created.get_json()['id']}"
    patched = operator.patch(path, json={"at_term_end": "renew"},
                             headers={"If-Match": created.headers["ETag"]})
    assert patched.status_code == 200 and patched.get_json()["at_term_end"] == "renew"
    assert patched.get_json()["clawback"] == "term_discounts"
    assert patched.headers["ETag"] != created.headers["ETag"]
    assert error_paths(operator.patch(path, json={"clawback": "all"})) == ["clawback"]
    assert error_paths(operator.patch(path, json={"at_term_end": "pause"})) == ["at_term_end"]


def test_voucher_terms_belong_to_voucher_items(operator):
    merchant = operator.post("/api/v1/merchants", json=merchant_body(1)).get_json()
    voucher = operator.post("/api/v1/items", json=item_body(
        merchant["id"], "TOUR-1", kind="voucher", voucher_valid_days=90,
        voucher_expiry_share_bp=7000))
    assert voucher.status_code == 201, voucher.get_json()
    assert (voucher.get_json()["voucher_valid_days"],
            voucher.get_json()["voucher_expiry_share_bp"]) == (90, 7000)
    path = f"/api/v1/items/{voucher.get_json()['id']}"
    patched = operator.patch(path, json={"voucher_expiry_share_bp": 0},
                             headers={"If-Match": voucher.headers["ETag"]})
    assert patched.status_code == 200 and patched.get_json()["voucher_expiry_share_bp"] == 0

    physical = operator.post("/api/v1/items", json=item_body(
        merchant["id"], "APPLE-1", voucher_valid_days=30))
    assert error_paths(physical, 400) == ["voucher_valid_days"]
    assert error_paths(operator.patch(path, json={"kind": "physical"}), 400) == [
        "voucher_valid_days", "voucher_expiry_share_bp"]
    turned = operator.patch(path, json={"kind": "physical", "voucher_valid_days": None,
                                        "voucher_expiry_share_bp": None})
    assert turned.status_code == 200 and turned.get_json()["voucher_valid_days"] is None


@pytest.mark.parametrize(("field", "value"), [
    ("voucher_valid_days", 0), ("voucher_valid_days", 3651),
    ("voucher_expiry_share_bp", -1), ("voucher_expiry_share_bp", 10001),
])
def test_voucher_terms_out_of_range_are_refused(operator, field, value):
    merchant = operator.post("/api/v1/merchants", json=merchant_body(1)).get_json()
    assert error_paths(operator.post("/api/v1/items", json=item_body(
        merchant["id"], "TOUR-1", kind="voucher", **{field: value}))) == [field]


def test_a_box_is_packed_at_a_stock_location_of_its_tenant(operator, other_operator, catalog):
    path = f"/api/v1/boxes/{catalog['box']['id']}"
    assert catalog["box"]["packed_at_id"] is None
    read = operator.get(path)
    packed = operator.patch(path, json={"packed_at_id": catalog["location"]["id"]},
                            headers={"If-Match": read.headers["ETag"]})
    assert packed.status_code == 200, packed.get_json()
    assert packed.get_json()["packed_at_id"] == catalog["location"]["id"]
    assert packed.headers["ETag"] != read.headers["ETag"]
    assert operator.get(path).get_json()["packed_at_id"] == catalog["location"]["id"]

    theirs = other_operator.post("/api/v1/stock-locations", json={
        "code": "LC-D", "name": "다솔 물류센터"}).get_json()
    assert error_paths(operator.patch(path, json={"packed_at_id": theirs["id"]}), 400) == \
        ["packed_at_id"]
    assert error_paths(operator.patch(path, json={"packed_at_id": 999999}), 400) == \
        ["packed_at_id"]
    assert error_paths(operator.post("/api/v1/boxes", json={
        "code": "BOX-X", "title": "x", "packed_at_id": theirs["id"]}), 400) == ["packed_at_id"]
    created = operator.post("/api/v1/boxes", json={
        "code": "BOX-Y", "title": "y", "packed_at_id": catalog["location"]["id"]})
    assert created.status_code == 201 and \
        created.get_json()["packed_at_id"] == catalog["location"]["id"]
    cleared = operator.patch(path, json={"packed_at_id": None})
    assert cleared.status_code == 200 and cleared.get_json()["packed_at_id"] is None


def test_a_connection_fee_rate_round_trips(operator, catalog):
    assert catalog["connection"]["fee_rate_bp"] == 0
    path = f"/api/v1/connections/{catalog['connection']['id']}"
    read = operator.get(path)
    patched = operator.patch(path, json={"fee_rate_bp": 550},
                             headers={"If-Match": read.headers["ETag"]})
    assert patched.status_code == 200, patched.get_json()
    assert operator.get(path).get_json()["fee_rate_bp"] == 550
    assert patched.headers["ETag"] != read.headers["ETag"]
    assert error_paths(operator.patch(path, json={"fee_rate_bp": 10001})) == ["fee_rate_bp"]
    assert error_paths(operator.patch(path, json={"fee_rate_bp": -1})) == ["fee_rate_bp"]
    created = operator.post("/api/v1/connections", json={
        "connector": "saleor", "name": "다른 몰", "fee_rate_bp": 1200,
        "config": {"api_url": "https://mall2.example.kr/graphql/"}})
    assert created.status_code == 201 and created.get_json()["fee_rate_bp"] == 1200


def test_the_new_fields_are_documented(operator):
    schemas = operator.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    documented = {
        "Tenant": list(TENANT_FIELDS), "Plan": ["clawback", "at_term_end"],
        "Item": ["voucher_valid_days", "voucher_expiry_share_bp"], "Box": ["packed_at_id"],
        "Connection": ["fee_rate_bp"],
        "Coupon": ["code", "label", "funder", "percent_bp", "amount"]}
    for schema, names in documented.items():
        for name in names:
            assert name in schemas[schema]["properties"], (schema, name)
        assert all(schemas[schema]["properties"][n].get("description") or
                   schemas[schema]["properties"][n].get("enum") for n in names), schema
