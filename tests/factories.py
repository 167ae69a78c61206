"""Valid request bodies and a small catalog built through the API, for tests."""

from __future__ import annotations

from typing import Any

from hub.services.business_number import check_digit, format_business_number


def business_number(seed: int) -> str:
    """A valid business registration number derived from seed."""
    first_nine = f"{(seed * 7919 + 1200000000) % 10**9:09d}"
    return format_business_number(first_nine + str(check_digit(first_nine)))


def merchant_body(seed: int = 1, **overrides: Any) -> dict[str, Any]:
    body = {"name": f"한빛농원 {seed}", "business_number": business_number(seed),
            "tax_type": "exempt", "fee_model": "commission", "commission_rate_bp": 1200,
            "payout_bank": "농협은행", "payout_account": f"302-0000-{seed:04d}-01",
            "payout_account_holder": "김한빛"}
    body.update(overrides)
    return body


def create_catalog(api: Any, seed: int = 1) -> dict[str, Any]:
    """A merchant, two items, a stock location with stock, an active box and a plan."""
    merchant = api.post("/api/v1/merchants", json=merchant_body(seed)).get_json()
    items = [api.post("/api/v1/items", json={
        "merchant_id": merchant["id"], "sku": f"SKU-{seed}-{n}", "name": f"사과 {n}kg",
        "unit": f"{n}kg", "list_price": 10000 * n, "tax_category": "exempt"}).get_json()
        for n in (1, 2)]
    location = api.post("/api/v1/stock-locations", json={
        "code": f"LC-{seed}", "name": "한빛 물류센터"}).get_json()
    level = api.put("/api/v1/stock-levels", json={
        "item_id": items[0]["id"], "location_id": location["id"], "on_hand": 40}).get_json()
    box = api.post("/api/v1/boxes", json={
        "code": f"BOX-{seed}", "title": "제철 과일 꾸러미", "capacity_per_round": 100,
        "status": "active", "category": "produce",
        "components": [{"item_id": items[0]["id"], "quantity": 1, "weight": 1},
                       {"item_id": items[1]["id"], "quantity": 2, "weight": 3}]}).get_json()
    plan = api.post("/api/v1/plans", json={
        "box_id": box["id"], "code": f"PLAN-{seed}", "name": "월간 6회", "cadence": "monthly",
        "prepaid_rounds": 6, "term_rounds": 6, "round_price": 45000,
        "rules": [{"from_round": 1, "kind": "percent", "percent_bp": 500,
                   "funder": "municipality", "label": "약정 할인"}]}).get_json()
    connection = api.post("/api/v1/connections", json={
        "connector": "saleor", "name": f"한빛몰 {seed}",
        "config": {"api_url": "https://mall.hanbit.example.kr/graphql/",
                   "app_token": "saleor-app-token-SECRET"}}).get_json()
    binding = api.post("/api/v1/bindings", json={
        "connection_id": connection["id"], "entity_type": "box", "internal_id": box["id"],
        "external_id": f"UHJvZHVjdDo{seed}", "url": f"https://mall.example.kr/p/{seed}"}
    ).get_json()
    return {"merchant": merchant, "items": items, "location": location, "level": level,
            "box": box, "plan": plan, "connection": connection, "binding": binding}


def item_body(merchant_id: int, sku: str, **overrides: Any) -> dict[str, Any]:
    body = {"merchant_id": merchant_id, "sku": sku, "name": f"품목 {sku}", "unit": "1kg",
            "list_price": 12000, "tax_category": "exempt"}
    body.update(overrides)
    return body


def problem(response: Any, status: int) -> dict[str, Any]:
    """The problem+json body of response, after checking its status and shape."""
    assert response.status_code == status, (response.status_code, response.get_data(True))
    assert response.mimetype == "application/problem+json", response.mimetype
    body = response.get_json()
    assert body["status"] == status and body["title"], body
    return body  # type: ignore[no-any-return]


def error_paths(response: Any, status: int = 400) -> list[str]:
    """The field paths of a problem's errors; each error has a non-empty message."""
    errors = problem(response, status)["errors"]
    assert errors and all(e["message"] for e in errors), errors
    return [e["path"] for e in errors]
