"""Bad input is a 400 problem+json naming the exact field path, never a 5xx."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from hub import create_app
from tests.conftest import app_config
from tests.factories import (
    business_number,
    create_catalog,
    error_paths,
    item_body,
    merchant_body,
    problem,
)


@pytest.fixture
def catalog(operator) -> dict[str, Any]:
    made = create_catalog(operator)
    made["items"].append(operator.post("/api/v1/items", json=item_body(
        made["merchant"]["id"], "HONEY-1")).get_json())
    return made


def _wrong_check_digit(seed: int) -> str:
    number = business_number(seed)
    return number[:-1] + str((int(number[-1]) + 1) % 10)


def _box(catalog: dict[str, Any], third_weight: Any) -> dict[str, Any]:
    weights = [1, 2, third_weight]
    return {"code": "BOX-W", "title": "무게 확인", "components": [
        {"item_id": item["id"], "quantity": 1, "weight": weight}
        for item, weight in zip(catalog["items"], weights, strict=True)]}


def _plan(catalog: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    body = {"box_id": catalog["box"]["id"], "code": "PLAN-V", "name": "격주",
            "cadence": "biweekly", "round_price": 30000}
    body.update(overrides)
    return body


Case = tuple[str, str, Callable[[dict[str, Any]], Any], str]

CASES: list[Case] = [
    ("POST", "/api/v1/merchants",
     lambda c: merchant_body(5, business_number=_wrong_check_digit(5)), "business_number"),
    ("POST", "/api/v1/merchants",
     lambda c: merchant_body(5, business_number="220-81-6251"), "business_number"),
    ("POST", "/api/v1/items",
     lambda c: item_body(c["merchant"]["id"], "NEG", list_price=-1), "list_price"),
    ("POST", "/api/v1/items",
     lambda c: item_body(c["merchant"]["id"], "BIG", list_price=10**30), "list_price"),
    ("PATCH", "/api/v1/items/{item}", lambda c: {"list_price": -500}, "list_price"),
    ("POST", "/api/v1/boxes", lambda c: _box(c, 0), "components[2].weight"),
    ("POST", "/api/v1/boxes", lambda c: _box(c, -3), "components[2].weight"),
    ("PATCH", "/api/v1/boxes/{box}", lambda c: {"components": _box(c, 0)["components"]},
     "components[2].weight"),
    ("POST", "/api/v1/plans", lambda c: _plan(c, cadence="daily"), "cadence"),
    ("POST", "/api/v1/plans",
     lambda c: _plan(c, rules=[{"kind": "percent", "funder": "municipality"}]),
     "rules[0].percent_bp"),
    ("PATCH", "/api/v1/plans/{plan}",
     lambda c: {"rules": [{"kind": "percent", "percent_bp": None, "funder": "merchant"}]},
     "rules[0].percent_bp"),
    ("POST", "/api/v1/merchants", lambda c: merchant_body(6, nickname="한빛"), "nickname"),
    ("PATCH", "/api/v1/merchants/{merchant}", lambda c: {"version": 9}, "version"),
    ("POST", "/api/v1/plans", lambda c: _plan(c, rules=[{"kind": "fixed", "amount": 100,
                                                         "funder": "merchant", "why": "x"}]),
     "rules[0].why"),
    ("POST", "/api/v1/merchants",
     lambda c: merchant_body(7, commission_rate_bp="1200"), "commission_rate_bp"),
    ("POST", "/api/v1/merchants",
     lambda c: merchant_body(7, commission_rate_bp=True), "commission_rate_bp"),
    ("POST", "/api/v1/items",
     lambda c: item_body(c["merchant"]["id"], "FLOAT", list_price=12000.5), "list_price"),
    ("POST", "/api/v1/items",
     lambda c: item_body(c["merchant"]["id"], "FLOAT", list_price=12000.0), "list_price"),
    ("POST", "/api/v1/items", lambda c: item_body(c["merchant"]["id"], "STR",
                                                  list_price="12000"), "list_price"),
    ("POST", "/api/v1/plans", lambda c: _plan(c, round_price=29999.99), "round_price"),
    ("POST", "/api/v1/stock-levels/adjust",
     lambda c: {"item_id": c["items"][0]["id"], "location_id": c["location"]["id"],
                "delta": 1.5, "reason": "입고"}, "delta"),
    ("POST", "/api/v1/boxes", lambda c: {"code": "BOX-S", "title": "문자열",
                                         "components": "SKU-1-1"}, "components"),
]


def _send(api: Any, method: str, path: str, body: Any) -> Any:
    return api.post(path, json=body) if method == "POST" else api.patch(path, json=body)


@pytest.mark.parametrize(("method", "template", "build", "expected"), CASES,
                         ids=[f"{case[0]}-{case[3]}-{n}" for n, case in enumerate(CASES)])
def test_bad_field_is_a_400_with_its_path(operator, catalog, method, template, build,
                                          expected):
    path = template.format(item=catalog["items"][0]["id"], box=catalog["box"]["id"],
                           plan=catalog["plan"]["id"], merchant=catalog["merchant"]["id"])
    before = operator.get(path).get_json() if method == "PATCH" else None
    response = _send(operator, method, path, build(catalog))
    assert error_paths(response) == [expected]
    body = response.get_json()
    assert body["status"] == 400 and body["title"]
    if before is not None:
        assert operator.get(path).get_json() == before


def test_rejected_creates_leave_nothing_behind(operator, catalog):
    merchant_id = catalog["merchant"]["id"]
    items_before = operator.get("/api/v1/items").get_json()["data"]
    operator.post("/api/v1/items", json=item_body(merchant_id, "NEG", list_price=-1))
    operator.post("/api/v1/boxes", json=_box(catalog, 0))
    operator.post("/api/v1/plans", json=_plan(catalog, cadence="daily"))
    assert operator.get("/api/v1/items").get_json()["data"] == items_before
    assert [b["code"] for b in operator.get("/api/v1/boxes").get_json()["data"]] == ["BOX-1"]
    assert [p["code"] for p in operator.get("/api/v1/plans").get_json()["data"]] == ["PLAN-1"]


def test_every_bad_field_is_named_at_once(operator, catalog):
    response = operator.post("/api/v1/items", json={
        "merchant_id": catalog["merchant"]["id"], "sku": "bad sku!", "list_price": -1,
        "tax_category": "vat"})
    assert sorted(error_paths(response)) == ["list_price", "name", "sku", "tax_category"]


def test_missing_required_fields_are_each_named(operator):
    assert sorted(error_paths(operator.post("/api/v1/merchants", json={}))) == \
        ["business_number", "name", "tax_type"]


@pytest.mark.parametrize("raw", [b"{\"name\": ", b"{'name': 'x'}", b"\xff\xfe", b"nul"])
def test_malformed_json_is_a_400(operator, raw):
    response = operator.client.post("/api/v1/merchants", data=raw, headers={
        "Authorization": f"Bearer {operator.token}", "Content-Type": "application/json"})
    problem(response, 400)
    assert operator.get("/api/v1/merchants").get_json()["data"] == []


@pytest.mark.parametrize("raw", [json.dumps([merchant_body(1)]).encode(), b"[]",
                                 b'"merchant"', b"42", b"null", b"true"])
def test_a_body_that_is_not_an_object_is_a_400(operator, raw):
    response = operator.client.post("/api/v1/merchants", data=raw, headers={
        "Authorization": f"Bearer {operator.token}", "Content-Type": "application/json"})
    problem(response, 400)
    assert operator.get("/api/v1/merchants").get_json()["data"] == []


def test_an_array_body_on_patch_and_push_is_a_400(operator, mall, catalog):
    problem(operator.patch(f"/api/v1/merchants/{catalog['merchant']['id']}",
                           json=[{"name": "x"}]), 400)
    problem(mall.post("/api/v1/catalog/push", json=[{"items": []}]), 400)
    problem(operator.put("/api/v1/stock-levels", json=[1, 2]), 400)


def test_a_body_over_max_request_bytes_is_a_413(app, database_url, tmp_path, operator):
    small = create_app(app_config(database_url, var_dir=str(tmp_path), max_request_bytes=2048))
    try:
        client = small.test_client()
        headers = {"Authorization": f"Bearer {operator.token}"}
        body = merchant_body(1, representative="가" * 3000)
        response = client.post("/api/v1/merchants", json=body, headers=headers)
        assert "larger" in problem(response, 413)["detail"]
        fits = client.post("/api/v1/merchants", json=merchant_body(1), headers=headers)
        assert fits.status_code == 201
    finally:
        small.extensions["gudok"].engine.dispose()


def test_default_limit_refuses_a_body_over_one_mebibyte(operator, mall):
    huge = merchant_body(1, representative="x" * (1024 * 1024 + 1))
    problem(operator.post("/api/v1/merchants", json=huge), 413)
    problem(mall.post("/api/v1/catalog/push", json={"items": [{"sku": "x" * (1 << 20)}]}), 413)
    assert operator.get("/api/v1/merchants").get_json()["data"] == []


@pytest.mark.parametrize("query", ["limit=0", "limit=501", "limit=ten", "tax_type=vat"])
def test_bad_list_arguments_are_a_400(operator, query):
    paths = error_paths(operator.get(f"/api/v1/merchants?{query}"))
    assert paths == [query.split('=')[0]]
