"""A mall pushes its catalog: upserts keyed by its codes, a result per record, idempotent."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.factories import business_number, merchant_body, problem

PUSH = "/api/v1/catalog/push"


@pytest.fixture
def merchant(operator) -> dict[str, Any]:
    response = operator.post("/api/v1/merchants", json=merchant_body(1))
    assert response.status_code == 201
    return response.get_json()  # type: ignore[no-any-return]


def push_body(number: str) -> dict[str, Any]:
    return {
        "items": [
            {"sku": "APPLE-3KG", "name": "사과 3kg", "unit": "3kg", "list_price": 24000,
             "tax_category": "exempt", "merchant_business_number": number},
            {"sku": "PEAR-5KG", "name": "배 5kg", "unit": "5kg", "list_price": 38000,
             "tax_category": "exempt", "merchant_business_number": number.replace("-", "")},
        ],
        "boxes": [
            {"code": "FRUIT-BOX", "title": "제철 과일 꾸러미", "status": "active",
             "capacity_per_round": 50, "components": [
                 {"sku": "APPLE-3KG", "quantity": 1, "weight": 2},
                 {"sku": "PEAR-5KG", "quantity": 1, "weight": 3}]},
        ],
        "plans": [
            {"code": "FRUIT-MONTHLY", "box_code": "FRUIT-BOX", "name": "월간 3회",
             "cadence": "monthly", "prepaid_rounds": 3, "round_price": 59000,
             "rules": [{"kind": "percent", "percent_bp": 1000, "funder": "municipality"}]},
        ],
    }


def statuses(answer: dict[str, Any]) -> list[tuple[str, str | None, str]]:
    return [(r["type"], r["key"], r["status"]) for r in answer["results"]]


def one(api: Any, collection: str, **filters: str) -> dict[str, Any]:
    query = "&".join(f"{k}={v}" for k, v in filters.items())
    rows = api.get(f"/api/v1/{collection}?{query}").get_json()["data"]
    assert len(rows) == 1, rows
    return rows[0]  # type: ignore[no-any-return]


def test_first_push_creates_then_the_same_push_changes_nothing(mall, operator, merchant):
    body = push_body(merchant["business_number"])
    first = mall.post(PUSH, json=body)
    assert first.status_code == 200
    answer = first.get_json()
    assert statuses(answer) == [("item", "APPLE-3KG", "created"), ("item", "PEAR-5KG", "created"),
                                ("box", "FRUIT-BOX", "created"),
                                ("plan", "FRUIT-MONTHLY", "created")]
    assert answer["summary"] == {"created": 4, "updated": 0, "unchanged": 0, "rejected": 0}
    assert all(isinstance(r["id"], int) and "errors" not in r for r in answer["results"])

    apple = one(operator, "items", sku="APPLE-3KG")
    pear = one(operator, "items", sku="PEAR-5KG")
    assert (apple["merchant_id"], apple["list_price"]) == (merchant["id"], 24000)
    assert pear["merchant_id"] == merchant["id"]
    box = one(operator, "boxes", code="FRUIT-BOX")
    assert [(c["sku"], c["quantity"], c["weight"]) for c in box["components"]] == \
        [("APPLE-3KG", 1, 2), ("PEAR-5KG", 1, 3)]
    assert box["current_version"] == 1
    plan = one(operator, "plans", code="FRUIT-MONTHLY")
    assert (plan["box_id"], plan["round_price"]) == (box["id"], 59000)
    assert [(r["kind"], r["percent_bp"]) for r in plan["rules"]] == [("percent", 1000)]

    again = mall.post(PUSH, json=body).get_json()
    assert [r["status"] for r in again["results"]] == ["unchanged"] * 4
    assert [r["id"] for r in again["results"]] == [r["id"] for r in answer["results"]]
    assert again["summary"] == {"created": 0, "updated": 0, "unchanged": 4, "rejected": 0}
    assert one(operator, "boxes", code="FRUIT-BOX") == box
    assert one(operator, "plans", code="FRUIT-MONTHLY") == plan


def test_a_changed_price_updates_only_that_record(mall, operator, merchant):
    body = push_body(merchant["business_number"])
    mall.post(PUSH, json=body)
    box_before = one(operator, "boxes", code="FRUIT-BOX")
    body["items"][1]["list_price"] = 36000

    answer = mall.post(PUSH, json=body).get_json()
    assert [r["status"] for r in answer["results"]] == \
        ["unchanged", "updated", "unchanged", "unchanged"]
    assert answer["summary"]["updated"] == 1
    assert one(operator, "items", sku="PEAR-5KG")["list_price"] == 36000
    assert one(operator, "items", sku="APPLE-3KG")["list_price"] == 24000
    assert one(operator, "boxes", code="FRUIT-BOX") == box_before

    body["plans"][0]["round_price"] = 57000
    answer = mall.post(PUSH, json=body).get_json()
    assert [r["status"] for r in answer["results"]] == ["unchanged"] * 3 + ["updated"]


def test_changed_components_make_a_new_box_version(mall, operator, merchant):
    body = push_body(merchant["business_number"])
    mall.post(PUSH, json=body)
    body["boxes"][0]["components"][1]["quantity"] = 2
    answer = mall.post(PUSH, json=body).get_json()
    assert statuses(answer)[2] == ("box", "FRUIT-BOX", "updated")
    box = one(operator, "boxes", code="FRUIT-BOX")
    versions = operator.get(f"/api/v1/boxes/{box['id']}/versions").get_json()
    assert [[c["quantity"] for c in v["components"]] for v in versions] == [[1, 1], [1, 2]]


def test_a_bad_record_is_rejected_and_the_rest_commit(mall, operator, merchant):
    number = merchant["business_number"]
    body = push_body(number)
    body["items"][1]["list_price"] = -38000
    body["items"].append({"sku": "PLUM-1KG", "name": "자두 1kg", "list_price": 9000,
                          "merchant_business_number": number})
    body["items"].append({"sku": "KIWI-1KG", "name": "키위", "list_price": 9000,
                          "merchant_business_number": business_number(77)})
    body["plans"].append({"code": "NOWHERE", "box_code": "NO-SUCH-BOX", "name": "없음",
                          "cadence": "weekly", "round_price": 1000})

    answer = mall.post(PUSH, json=body)
    assert answer.status_code == 200
    results = answer.get_json()["results"]
    assert [(r["key"], r["status"]) for r in results] == [
        ("APPLE-3KG", "created"), ("PEAR-5KG", "rejected"), ("PLUM-1KG", "created"),
        ("KIWI-1KG", "rejected"), ("FRUIT-BOX", "rejected"), ("FRUIT-MONTHLY", "rejected"),
        ("NOWHERE", "rejected")]
    errors = {r["key"]: [e["path"] for e in r.get("errors", [])] for r in results}
    assert errors["PEAR-5KG"] == ["items[1].list_price"]
    assert errors["KIWI-1KG"] == ["items[3].merchant_business_number"]
    assert errors["FRUIT-BOX"] == ["boxes[0].components[1].sku"]  # PEAR-5KG was rejected
    assert errors["FRUIT-MONTHLY"] == ["plans[0].box_code"]
    assert errors["NOWHERE"] == ["plans[1].box_code"]
    assert all(r["id"] is None for r in results if r["status"] == "rejected")
    assert answer.get_json()["summary"] == {"created": 2, "updated": 0, "unchanged": 0,
                                            "rejected": 5}

    skus = [i["sku"] for i in operator.get("/api/v1/items").get_json()["data"]]
    assert skus == ["APPLE-3KG", "PLUM-1KG"]
    assert operator.get("/api/v1/boxes").get_json()["data"] == []
    assert operator.get("/api/v1/plans").get_json()["data"] == []


def test_record_schema_errors_carry_the_record_prefix(mall, merchant):
    number = merchant["business_number"]
    body = {"items": [{"sku": "OK-1", "name": "정상", "list_price": 1000,
                       "merchant_business_number": number},
                      {"sku": "BAD-1", "name": "", "list_price": 1000.5,
                       "merchant_business_number": number, "merchant_id": merchant["id"]}],
            "boxes": [{"code": "B-1", "title": "무게", "components": [
                {"sku": "OK-1", "quantity": 1, "weight": 0}]}],
            "plans": [{"code": "P-1", "box_code": "B-1", "name": "계획", "cadence": "daily",
                       "round_price": 1000}]}
    results = mall.post(PUSH, json=body).get_json()["results"]
    assert [r["status"] for r in results] == ["created", "rejected", "rejected", "rejected"]
    assert sorted(e["path"] for e in results[1]["errors"]) == \
        ["items[1].list_price", "items[1].merchant_id", "items[1].name"]
    assert [e["path"] for e in results[2]["errors"]] == ["boxes[0].components[0].weight"]
    assert [e["path"] for e in results[3]["errors"]] == ["plans[0].cadence"]


def test_a_repeated_idempotency_key_replays_the_first_answer(mall, operator, merchant):
    body = push_body(merchant["business_number"])
    key = {"Idempotency-Key": "mall-sync-2024-06-01T09:00"}
    first = mall.post(PUSH, json=body, headers=key)
    assert first.status_code == 200
    assert "Idempotent-Replayed" not in first.headers
    assert first.get_json()["summary"]["created"] == 4

    # The data changes in between; the replay must not re-apply the push.
    pear = one(operator, "items", sku="PEAR-5KG")
    operator.patch(f"/api/v1/items/{pear['id']}", json={"list_price": 1})

    replay = mall.post(PUSH, json=body, headers=key)
    assert replay.status_code == 200
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.get_json() == first.get_json()
    assert one(operator, "items", sku="PEAR-5KG")["list_price"] == 1

    reordered = {name: body[name] for name in ("plans", "boxes", "items")}
    assert mall.post(PUSH, json=reordered, headers=key).get_json() == first.get_json()

    fresh = mall.post(PUSH, json=body, headers={"Idempotency-Key": "another-key"})
    assert "Idempotent-Replayed" not in fresh.headers
    assert statuses(fresh.get_json())[1] == ("item", "PEAR-5KG", "updated")
    assert one(operator, "items", sku="PEAR-5KG")["list_price"] == 38000


def test_a_key_reused_with_another_body_is_a_422(mall, operator, merchant):
    body = push_body(merchant["business_number"])
    key = {"Idempotency-Key": "k-1"}
    first = mall.post(PUSH, json=body, headers=key)
    changed = copy.deepcopy(body)
    changed["items"][0]["list_price"] = 1

    reused = mall.post(PUSH, json=changed, headers=key)
    problem(reused, 422)
    assert one(operator, "items", sku="APPLE-3KG")["list_price"] == 24000
    assert mall.post(PUSH, json=body, headers=key).get_json() == first.get_json()


def test_a_key_whose_first_push_was_rejected_still_replays(mall, operator, merchant):
    body = push_body(business_number(99))  # no such merchant yet
    key = {"Idempotency-Key": "early"}
    first = mall.post(PUSH, json=body, headers=key).get_json()
    assert first["summary"]["rejected"] == 4
    replay = mall.post(PUSH, json=body, headers=key)
    assert replay.headers["Idempotent-Replayed"] == "true" and replay.get_json() == first
    assert operator.get("/api/v1/items").get_json()["data"] == []


@pytest.mark.parametrize("key", ["", "x" * 201, "tab\there"])
def test_a_malformed_idempotency_key_is_a_400(mall, merchant, key):
    response = mall.post(PUSH, json=push_body(merchant["business_number"]),
                         headers={"Idempotency-Key": key})
    assert [e["path"] for e in problem(response, 400)["errors"]] == ["Idempotency-Key"]


def test_roles_decide_who_may_push(mall, viewer, operator, merchant):
    problem(mall.post("/api/v1/merchants", json=merchant_body(2)), 403)
    problem(mall.patch(f"/api/v1/merchants/{merchant['id']}", json={"name": "몰"}), 403)
    problem(mall.delete(f"/api/v1/merchants/{merchant['id']}"), 403)
    assert mall.get(f"/api/v1/merchants/{merchant['id']}").status_code == 200

    body = push_body(merchant["business_number"])
    problem(viewer.post(PUSH, json=body), 403)
    assert operator.get("/api/v1/items").get_json()["data"] == []
    problem(mall.client.post(PUSH, json=body), 401)
    assert mall.post(PUSH, json=body).status_code == 200


def test_a_mall_pushes_only_into_its_own_tenant(mall, merchant):
    body = {"tenant": "dasol", **push_body(merchant["business_number"])}
    response = mall.post(PUSH, json=body)
    assert [e["path"] for e in problem(response, 400)["errors"]] == ["tenant"]
