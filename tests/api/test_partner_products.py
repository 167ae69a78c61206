"""A platform's own products: submitted through the Partner API, reviewed by an operator,
notified back to the platform, and isolated per platform and tenant."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from hub.db import session_scope
from hub.models import AuditEntry, OutboxMessage
from tests.api.test_partner_feed import partner_client
from tests.conftest import ApiClient
from tests.factories import error_paths, problem

PRODUCT = {"name": "제주 감귤 정기배송", "description": "매주 제철 감귤 3kg",
           "url": "http://127.0.0.1:9/products/tangerine", "price": 19_900,
           "cadence": "weekly"}


def platform(app: Flask, api: ApiClient, name: str, tenant: str = "hanbit",
             outbound: bool = True) -> tuple[int, ApiClient]:
    config: dict[str, Any] = {"platform_name": name}
    if outbound:
        config["outbound_url"] = "http://127.0.0.1:9/notifications"
    response = api.post("/api/v1/connections", json={
        "connector": "partner", "name": name, "config": config})
    assert response.status_code == 201, response.get_json()
    connection_id = response.get_json()["id"]
    return connection_id, partner_client(app, tenant, connection_id)


@pytest.fixture
def a(app: Flask, operator: ApiClient) -> tuple[int, ApiClient]:
    return platform(app, operator, "플랫폼A")


def notifications(app: Flask, connection_id: int) -> list[dict[str, Any]]:
    with session_scope(app.extensions["gudok"].session_factory) as session:
        return [json.loads(m.payload) for m in session.scalars(
            select(OutboxMessage).where(OutboxMessage.connection_id == connection_id)
            .order_by(OutboxMessage.id))]


def test_submit_then_approve_lists_the_approved_content(app, a, operator):
    connection_id, partner = a
    created = partner.put("/api/v1/partner/products/TG-1", json=PRODUCT)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["status"] == "pending" and body["listed"] is None
    assert body["external_id"] == "TG-1" and body["connection_id"] == connection_id
    queue = operator.get("/api/v1/partner-products?status=pending").get_json()["data"]
    assert [p["id"] for p in queue] == [body["id"]]

    approved = operator.post(f"/api/v1/partner-products/{body['id']}/approve", json={})
    assert approved.status_code == 200, approved.get_json()
    assert approved.get_json()["status"] == "approved"
    assert approved.get_json()["listed"] == {k: PRODUCT.get(k) for k in
                                             ("name", "description", "url", "image_url",
                                              "price", "cadence")}
    assert approved.get_json()["reviewed_by"]
    [note] = notifications(app, connection_id)
    assert note["type"] == "product.reviewed"
    assert note["data"] == {"product_id": "TG-1", "status": "approved", "note": None,
                            "mall_listed": True}
    assert partner.get("/api/v1/partner/products/TG-1").get_json()["status"] == "approved"


def test_the_same_submission_again_changes_nothing(app, a, operator):
    _connection_id, partner = a
    first = partner.put("/api/v1/partner/products/TG-1", json=PRODUCT).get_json()
    operator.post(f"/api/v1/partner-products/{first['id']}/approve", json={})
    again = partner.put("/api/v1/partner/products/TG-1", json=PRODUCT)
    assert again.status_code == 200
    assert again.get_json()["status"] == "approved"
    with session_scope(app.extensions["gudok"].session_factory) as session:
        actions = list(session.scalars(select(AuditEntry.action).where(
            AuditEntry.entity_type == "partner_product").order_by(AuditEntry.id)))
    assert actions == ["create", "approve"]


def test_an_edit_goes_back_to_review_and_the_mall_keeps_the_approved_content(app, a,
                                                                             operator):
    _connection_id, partner = a
    first = partner.put("/api/v1/partner/products/TG-1", json=PRODUCT).get_json()
    operator.post(f"/api/v1/partner-products/{first['id']}/approve", json={})
    edited = partner.put("/api/v1/partner/products/TG-1", json={**PRODUCT, "price": 24_900})
    assert edited.status_code == 200
    body = edited.get_json()
    assert body["status"] == "pending" and body["price"] == 24_900
    assert body["listed"]["price"] == 19_900
    rejected = operator.post(f"/api/v1/partner-products/{first['id']}/reject",
                             json={"note": "가격 근거 필요"}).get_json()
    assert rejected["status"] == "rejected" and rejected["listed"] is None
    assert rejected["review_note"] == "가격 근거 필요"


def test_withdrawal_takes_it_out_and_blocks_review_until_resubmitted(app, a, operator):
    _connection_id, partner = a
    first = partner.put("/api/v1/partner/products/TG-1", json=PRODUCT).get_json()
    operator.post(f"/api/v1/partner-products/{first['id']}/approve", json={})
    assert partner.delete("/api/v1/partner/products/TG-1").status_code == 204
    shown = operator.get(f"/api/v1/partner-products/{first['id']}").get_json()
    assert shown["status"] == "withdrawn" and shown["listed"] is None
    refused = operator.post(f"/api/v1/partner-products/{first['id']}/approve", json={})
    assert refused.status_code == 409
    problem(refused, 409)
    again = partner.put("/api/v1/partner/products/TG-1", json=PRODUCT)
    assert again.status_code == 200 and again.get_json()["status"] == "pending"


def test_bad_submissions_name_their_fields(a):
    _connection_id, partner = a
    response = partner.put("/api/v1/partner/products/TG-1", json={
        "name": "", "url": "not a url", "price": -1, "cadence": "daily",
        "image_url": "ftp://x", "extra": 1})
    assert response.status_code == 400
    assert set(error_paths(response)) >= {"name", "url", "price", "cadence", "image_url", "extra"}
    too_long = partner.put("/api/v1/partner/products/" + "x" * 201, json=PRODUCT)
    assert too_long.status_code in {400, 404}
    problem(too_long, too_long.status_code)


def test_a_platform_sees_only_its_own_products(app, a, operator, other_operator):
    _a_id, partner_a = a
    _b_id, partner_b = platform(app, operator, "플랫폼B")
    _c_id, partner_c = platform(app, other_operator, "플랫폼C", tenant="dasol")
    assert partner_a.put("/api/v1/partner/products/TG-1", json=PRODUCT).status_code == 201
    # The same platform product id on another platform is another product.
    assert partner_b.put("/api/v1/partner/products/TG-1", json=PRODUCT).status_code == 201
    assert [p["connection_id"] for p in
            partner_b.get("/api/v1/partner/products").get_json()["data"]] == [_b_id]
    assert partner_c.get("/api/v1/partner/products/TG-1").status_code == 404
    assert partner_c.delete("/api/v1/partner/products/TG-1").status_code == 404
    assert other_operator.get("/api/v1/partner-products").get_json()["data"] == []
    assert len(operator.get("/api/v1/partner-products").get_json()["data"]) == 2


def test_without_an_outbound_url_a_review_queues_no_notification(app, operator):
    connection_id, partner = platform(app, operator, "플랫폼D", outbound=False)
    body = partner.put("/api/v1/partner/products/TG-1", json=PRODUCT).get_json()
    assert operator.post(f"/api/v1/partner-products/{body['id']}/approve",
                         json={}).status_code == 200
    assert notifications(app, connection_id) == []
