"""/api/v1/coupons: coupon campaigns with one value (a rate or an amount) and a funder;
codes unique per tenant; a coupon an order used is kept."""

from __future__ import annotations

from typing import Any

from flask import Flask

from hub.db import session_scope
from hub.models import Order
from tests.factories import error_paths, problem
from tests.services.test_reconciliation import make_connection, make_order


def coupon_body(code: str = "WELCOME-10", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "label": "첫 구독 10% 할인",
                            "funder": "municipality", "percent_bp": 1000}
    body.update(overrides)
    return body


def test_coupon_create_read_update_delete(operator):
    created = operator.post("/api/v1/coupons", json=coupon_body())
    assert created.status_code == 201, created.get_json()
    coupon = created.get_json()
    assert {k: coupon[k] for k in ("code", "label", "funder", "percent_bp", "amount")} == {
        "code": "WELCOME-10", "label": "첫 구독 10% 할인", "funder": "municipality",
        "percent_bp": 1000, "amount": None}
    path = f"/api/v1/coupons/{coupon['id']}"
    read = operator.get(path)
    assert read.get_json() == coupon and read.headers["ETag"] == created.headers["ETag"]

    patched = operator.patch(path, json={"percent_bp": None, "amount": 3000,
                                         "funder": "merchant"},
                             headers={"If-Match": read.headers["ETag"]})
    assert patched.status_code == 200, patched.get_json()
    assert (patched.get_json()["percent_bp"], patched.get_json()["amount"],
            patched.get_json()["funder"]) == (None, 3000, "merchant")
    assert patched.headers["ETag"] != read.headers["ETag"]
    problem(operator.patch(path, json={"label": "x"},
                           headers={"If-Match": read.headers["ETag"]}), 412)

    assert [c["code"] for c in operator.get(
        "/api/v1/coupons?funder=merchant").get_json()["data"]] == ["WELCOME-10"]
    assert operator.get("/api/v1/coupons?funder=operator").get_json()["data"] == []
    assert operator.delete(path).status_code == 204
    problem(operator.get(path), 404)


def test_a_coupon_has_exactly_one_value_and_a_known_funder(operator):
    both = operator.post("/api/v1/coupons", json=coupon_body(amount=3000))
    assert error_paths(both, 400) == ["percent_bp", "amount"]
    neither = operator.post("/api/v1/coupons", json=coupon_body(percent_bp=None))
    assert error_paths(neither, 400) == ["percent_bp", "amount"]
    assert error_paths(operator.post("/api/v1/coupons", json=coupon_body(
        funder="merchant-ish"))) == ["funder"]
    assert error_paths(operator.post("/api/v1/coupons", json=coupon_body(
        percent_bp=10001))) == ["percent_bp"]
    assert error_paths(operator.post("/api/v1/coupons", json=coupon_body(
        percent_bp=None, amount=0))) == ["amount"]
    coupon = operator.post("/api/v1/coupons", json=coupon_body()).get_json()
    adding = operator.patch(f"/api/v1/coupons/{coupon['id']}", json={"amount": 500})
    assert error_paths(adding, 400) == ["percent_bp", "amount"]
    assert operator.get(f"/api/v1/coupons/{coupon['id']}").get_json() == coupon


def test_a_code_is_unique_within_its_tenant(operator, other_operator):
    first = operator.post("/api/v1/coupons", json=coupon_body()).get_json()
    assert [e["path"] for e in problem(operator.post(
        "/api/v1/coupons", json=coupon_body(label="다른 쿠폰")), 409)["errors"]] == ["code"]
    second = operator.post("/api/v1/coupons", json=coupon_body("SPRING")).get_json()
    problem(operator.patch(f"/api/v1/coupons/{second['id']}", json={"code": "WELCOME-10"}),
            409)
    assert other_operator.post("/api/v1/coupons", json=coupon_body()).status_code == 201
    assert operator.patch(f"/api/v1/coupons/{first['id']}",
                          json={"code": "WELCOME-10"}).status_code == 200


def test_a_coupon_an_order_used_cannot_be_deleted(app: Flask, operator, tenants):
    coupon = operator.post("/api/v1/coupons", json=coupon_body()).get_json()
    order_id = make_order(app, make_connection(app, tenants["hanbit"]), "N-1", 10000)
    with session_scope(app.extensions["gudok"].session_factory) as session:
        session.get_one(Order, order_id).coupon_id = coupon["id"]
    problem(operator.delete(f"/api/v1/coupons/{coupon['id']}"), 409)
    assert operator.get(f"/api/v1/coupons/{coupon['id']}").status_code == 200


def test_viewers_read_other_tenants_do_not_and_admins_name_the_tenant(
        operator, viewer, other_operator, admin, tenants):
    coupon = operator.post("/api/v1/coupons", json=coupon_body()).get_json()
    path = f"/api/v1/coupons/{coupon['id']}"
    assert viewer.get(path).get_json() == coupon
    assert [c["id"] for c in viewer.get("/api/v1/coupons").get_json()["data"]] == [coupon["id"]]
    problem(viewer.post("/api/v1/coupons", json=coupon_body("V")), 403)
    problem(viewer.patch(path, json={"label": "x"}), 403)
    problem(viewer.delete(path), 403)

    problem(other_operator.get(path), 404)
    problem(other_operator.patch(path, json={"label": "x"}), 404)
    problem(other_operator.delete(path), 404)
    assert other_operator.get("/api/v1/coupons").get_json()["data"] == []

    assert error_paths(admin.post("/api/v1/coupons", json=coupon_body("ADMIN"))) == ["tenant"]
    made = admin.post("/api/v1/coupons", json=coupon_body("ADMIN", tenant="dasol"))
    assert made.status_code == 201 and made.get_json()["tenant_id"] == tenants["dasol"]
    assert [c["code"] for c in admin.get("/api/v1/coupons?tenant=dasol")
            .get_json()["data"]] == ["ADMIN"]
