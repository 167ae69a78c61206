"""CRUD flows of the operator REST API, as an operator (and an admin) uses them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import (
    create_catalog,
    error_paths,
    item_body,
    merchant_body,
    problem,
)


def _components(box: dict[str, Any]) -> list[tuple[int, int, int]]:
    return [(c["item_id"], c["quantity"], c["weight"]) for c in box["components"]]


def _list(api: Any, path: str) -> list[dict[str, Any]]:
    response = api.get(path)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["data"]  # type: ignore[no-any-return]


def test_merchant_create_read_update_delete(operator):
    created = operator.post("/api/v1/merchants", json=merchant_body(1, tax_type="general"))
    assert created.status_code == 201
    merchant = created.get_json()
    assert isinstance(merchant["id"], int)
    assert merchant["tax_type"] == "general"
    assert "payout_account" not in merchant and merchant["payout_account_last4"] == "0101"

    path = f"/api/v1/merchants/{merchant['id']}"
    assert operator.get(path).get_json() == merchant

    patched = operator.patch(path, json={"name": "바다상회", "commission_rate_bp": 800})
    assert patched.status_code == 200
    assert operator.get(path).get_json()["name"] == "바다상회"
    assert operator.get(path).get_json()["commission_rate_bp"] == 800
    assert operator.get(path).get_json()["business_number"] == merchant["business_number"]

    deleted = operator.delete(path)
    assert deleted.status_code == 204 and deleted.data == b""
    problem(operator.get(path), 404)
    assert _list(operator, "/api/v1/merchants") == []


def test_merchant_with_items_cannot_be_deleted(operator):
    merchant = operator.post("/api/v1/merchants", json=merchant_body(1)).get_json()
    item = operator.post("/api/v1/items", json=item_body(merchant["id"], "PEAR-1")).get_json()

    problem(operator.delete(f"/api/v1/merchants/{merchant['id']}"), 409)
    assert operator.get(f"/api/v1/merchants/{merchant['id']}").status_code == 200

    assert operator.delete(f"/api/v1/items/{item['id']}").status_code == 204
    assert operator.delete(f"/api/v1/merchants/{merchant['id']}").status_code == 204


def test_admin_names_the_tenant_of_a_new_merchant(admin, tenants):
    assert error_paths(admin.post("/api/v1/merchants", json=merchant_body(1))) == ["tenant"]
    assert error_paths(admin.post("/api/v1/merchants",
                                  json=merchant_body(1, tenant="nowhere"))) == ["tenant"]
    assert _list(admin, "/api/v1/merchants") == []

    created = admin.post("/api/v1/merchants", json=merchant_body(1, tenant="dasol"))
    assert created.status_code == 201
    assert created.get_json()["tenant_id"] == tenants["dasol"]
    assert [m["id"] for m in _list(admin, "/api/v1/merchants?tenant=dasol")] == \
        [created.get_json()["id"]]
    assert _list(admin, "/api/v1/merchants?tenant=hanbit") == []


def test_item_create_read_update_delete(operator):
    merchant = operator.post("/api/v1/merchants", json=merchant_body(1)).get_json()
    created = operator.post("/api/v1/items", json=item_body(merchant["id"], "APPLE-5KG",
                                                            list_price=35000))
    assert created.status_code == 201
    item = created.get_json()
    assert (item["merchant_id"], item["sku"], item["list_price"]) == \
        (merchant["id"], "APPLE-5KG", 35000)

    path = f"/api/v1/items/{item['id']}"
    assert operator.patch(path, json={"list_price": 33000}).status_code == 200
    assert operator.get(path).get_json()["list_price"] == 33000
    assert operator.get(path).get_json()["sku"] == "APPLE-5KG"

    duplicate = operator.post("/api/v1/items", json=item_body(merchant["id"], "APPLE-5KG"))
    assert error_paths(duplicate) == ["sku"]

    assert operator.delete(path).status_code == 204
    problem(operator.get(path), 404)


def test_item_in_a_box_cannot_be_deleted(operator):
    catalog = create_catalog(operator)
    item_id = catalog["items"][0]["id"]
    problem(operator.delete(f"/api/v1/items/{item_id}"), 409)
    assert operator.get(f"/api/v1/items/{item_id}").status_code == 200


def test_changing_components_makes_a_new_box_version(operator):
    catalog = create_catalog(operator)
    box = catalog["box"]
    first = _components(box)
    extra = operator.post("/api/v1/items", json=item_body(catalog["merchant"]["id"],
                                                          "HONEY-1")).get_json()
    new_components = [{"item_id": catalog["items"][0]["id"], "quantity": 2, "weight": 1},
                      {"item_id": extra["id"], "quantity": 1, "weight": 5}]

    patched = operator.patch(f"/api/v1/boxes/{box['id']}", json={"components": new_components})
    assert patched.status_code == 200
    assert patched.get_json()["current_version"] == 2
    assert _components(patched.get_json()) == [(c["item_id"], c["quantity"], c["weight"])
                                               for c in new_components]
    assert [c["sku"] for c in patched.get_json()["components"]] == ["SKU-1-1", "HONEY-1"]

    versions = operator.get(f"/api/v1/boxes/{box['id']}/versions").get_json()
    assert [v["number"] for v in versions] == [1, 2]
    assert _components(versions[0]) == first
    assert _components(versions[1]) == _components(patched.get_json())

    # The same composition again, or a change of other fields, is no new version.
    same = operator.patch(f"/api/v1/boxes/{box['id']}", json={"components": new_components})
    assert same.get_json()["current_version"] == 2
    retitled = operator.patch(f"/api/v1/boxes/{box['id']}", json={"title": "겨울 꾸러미"})
    assert retitled.get_json()["current_version"] == 2
    assert retitled.get_json()["title"] == "겨울 꾸러미"
    versions = operator.get(f"/api/v1/boxes/{box['id']}/versions").get_json()
    assert [v["number"] for v in versions] == [1, 2]
    assert _components(versions[0]) == first


def test_box_with_plans_cannot_be_deleted_but_without_can(operator):
    catalog = create_catalog(operator)
    box_id = catalog["box"]["id"]
    problem(operator.delete(f"/api/v1/boxes/{box_id}"), 409)
    assert operator.delete(f"/api/v1/plans/{catalog['plan']['id']}").status_code == 204
    assert operator.delete(f"/api/v1/boxes/{box_id}").status_code == 204
    problem(operator.get(f"/api/v1/boxes/{box_id}/versions"), 404)


def test_plan_rules_are_replaced_as_a_whole(operator):
    catalog = create_catalog(operator)
    path = f"/api/v1/plans/{catalog['plan']['id']}"
    rules = [{"from_round": 1, "kind": "fixed", "amount": 3000, "funder": "merchant",
              "label": "첫 회 할인"},
             {"from_round": 4, "kind": "percent", "percent_bp": 1000, "funder": "operator",
              "label": "장기 할인"}]
    assert operator.patch(path, json={"rules": rules}).status_code == 200
    shown = operator.get(path).get_json()["rules"]
    assert [(r["from_round"], r["kind"], r["amount"], r["percent_bp"], r["funder"])
            for r in shown] == [(1, "fixed", 3000, None, "merchant"),
                                (4, "percent", None, 1000, "operator")]

    assert operator.patch(path, json={"rules": []}).status_code == 200
    assert operator.get(path).get_json()["rules"] == []


def test_fixed_discount_above_the_round_price_is_rejected(operator):
    catalog = create_catalog(operator)
    path = f"/api/v1/plans/{catalog['plan']['id']}"
    before = operator.get(path).get_json()
    too_much = [{"kind": "fixed", "amount": 45001, "funder": "municipality"}]
    assert error_paths(operator.patch(path, json={"rules": too_much})) == ["rules[0].amount"]

    assert operator.patch(path, json={"rules": [{"kind": "fixed", "amount": 5000,
                                                 "funder": "municipality"}]}).status_code == 200
    # Lowering the price under an existing discount is the same mistake.
    assert error_paths(operator.patch(path, json={"round_price": 4999})) == ["rules[0].amount"]
    after = operator.get(path).get_json()
    assert after["round_price"] == before["round_price"] == 45000

    new_plan = {"box_id": catalog["box"]["id"], "code": "PLAN-X", "name": "주간",
                "cadence": "weekly", "round_price": 10000,
                "rules": [{"kind": "fixed", "amount": 10001, "funder": "merchant"}]}
    assert error_paths(operator.post("/api/v1/plans", json=new_plan)) == ["rules[0].amount"]
    assert [p["code"] for p in _list(operator, "/api/v1/plans")] == ["PLAN-1"]


def test_stock_is_set_absolutely_and_adjusted_with_a_reason(operator):
    catalog = create_catalog(operator)
    item_id, location_id = catalog["items"][0]["id"], catalog["location"]["id"]
    level = catalog["level"]
    assert level["on_hand"] == 40

    reset = operator.put("/api/v1/stock-levels", json={
        "item_id": item_id, "location_id": location_id, "on_hand": 25, "reason": "실사"})
    assert reset.status_code == 200
    assert (reset.get_json()["id"], reset.get_json()["on_hand"]) == (level["id"], 25)

    adjust = {"item_id": item_id, "location_id": location_id}
    received = operator.post("/api/v1/stock-levels/adjust",
                             json={**adjust, "delta": 10, "reason": "입고"})
    assert received.status_code == 200 and received.get_json()["on_hand"] == 35

    too_many = operator.post("/api/v1/stock-levels/adjust",
                             json={**adjust, "delta": -36, "reason": "파손"})
    assert error_paths(too_many) == ["delta"]
    assert error_paths(operator.post("/api/v1/stock-levels/adjust",
                                     json={**adjust, "delta": -1})) == ["reason"]
    assert operator.post("/api/v1/stock-levels/adjust",
                         json={**adjust, "delta": -35, "reason": "파손"}).get_json()["on_hand"] == 0

    levels = _list(operator, f"/api/v1/stock-levels?item_id={item_id}")
    assert [(lv["id"], lv["on_hand"]) for lv in levels] == [(level["id"], 0)]
    movements = _list(operator, f"/api/v1/stock-levels/{level['id']}/movements")
    assert [(m["kind"], m["delta"], m["on_hand_after"], m["reason"]) for m in movements] == [
        ("set", 40, 40, None), ("set", -15, 25, "실사"), ("adjust", 10, 35, "입고"),
        ("adjust", -35, 0, "파손")]


def test_connection_config_is_validated_by_its_connector(operator):
    def create(**body: Any) -> Any:
        return operator.post("/api/v1/connections", json={"name": "한빛몰", **body})

    assert error_paths(create(connector="saleor", config={"api_url": "not a url"})) == \
        ["config.api_url"]
    assert error_paths(create(connector="saleor", config={})) == ["config.api_url"]
    assert error_paths(create(connector="saleor", config={
        "api_url": "https://mall.example.kr/graphql/", "colour": "red"})) == ["config.colour"]
    assert error_paths(create(connector="partner", config={
        "platform_name": "지역장터", "inbound_secret": "plain"})) == \
        ["config.inbound_secret"]
    assert error_paths(create(connector="shopify", config={})) == ["connector"]
    assert _list(operator, "/api/v1/connections") == []

    created = create(connector="saleor", config={"api_url": "https://mall.example.kr/graphql/",
                                                 "app_token": "tok-SECRET"})
    assert created.status_code == 201
    connection = created.get_json()
    assert connection["config"]["api_url"] == "https://mall.example.kr/graphql/"
    assert connection["config"]["app_token"] != "tok-SECRET"
    path = f"/api/v1/connections/{connection['id']}"
    assert error_paths(operator.patch(path, json={"config": {"api_url": "ftp://x"}})) == \
        ["config.api_url"]
    assert operator.patch(path, json={"status": "paused"}).get_json()["status"] == "paused"
    assert operator.get(path).get_json()["config"]["api_url"] == \
        "https://mall.example.kr/graphql/"
    assert operator.delete(path).status_code == 204
    problem(operator.get(path), 404)


def test_bindings_link_idempotently_and_unlink(operator):
    catalog = create_catalog(operator)
    connection_id, box_id = catalog["connection"]["id"], catalog["box"]["id"]
    other_box = operator.post("/api/v1/boxes", json={"code": "BOX-2", "title": "채소"}).get_json()
    link = {"connection_id": connection_id, "entity_type": "box", "internal_id": box_id,
            "external_id": "UHJvZHVjdDo5OQ==", "url": "https://mall.example.kr/p/99"}
    # create_catalog already linked box 1; unlink it to start clean.
    assert operator.delete(f"/api/v1/bindings/{catalog['binding']['id']}").status_code == 204
    problem(operator.get(f"/api/v1/bindings/{catalog['binding']['id']}"), 404)

    first = operator.post("/api/v1/bindings", json=link)
    assert first.status_code == 201
    again = operator.post("/api/v1/bindings", json=link)
    assert again.status_code == 200 and again.get_json()["id"] == first.get_json()["id"]

    problem(operator.post("/api/v1/bindings", json={**link, "internal_id": other_box["id"]}), 409)
    problem(operator.post("/api/v1/bindings", json={**link, "external_id": "T3RoZXI="}), 409)
    assert error_paths(operator.post("/api/v1/bindings", json={
        **link, "internal_id": 999999})) == ["internal_id"]
    assert [b["id"] for b in _list(operator, f"/api/v1/bindings?internal_id={box_id}")] == \
        [first.get_json()["id"]]

    assert operator.delete(f"/api/v1/bindings/{first.get_json()['id']}").status_code == 204
    assert _list(operator, "/api/v1/bindings") == []
    relinked = operator.post("/api/v1/bindings", json={**link, "internal_id": other_box["id"]})
    assert relinked.status_code == 201


@pytest.mark.parametrize("collection", ["merchants", "stock-locations"])
def test_cursor_pages_return_every_row_once_in_id_order(operator, collection):
    for n in range(1, 8):
        body = merchant_body(n) if collection == "merchants" else \
            {"code": f"LOC-{n}", "name": f"창고 {n}"}
        assert operator.post(f"/api/v1/{collection}", json=body).status_code == 201
    every_id = [row["id"] for row in _list(operator, f"/api/v1/{collection}?limit=500")]
    assert len(every_id) == 7

    seen: list[int] = []
    sizes: list[int] = []
    cursor = None
    while True:
        query = f"?limit=3&cursor={cursor}" if cursor else "?limit=3"
        body = operator.get(f"/api/v1/{collection}{query}").get_json()
        seen += [row["id"] for row in body["data"]]
        sizes.append(len(body["data"]))
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert sizes == [3, 3, 1]
    assert seen == sorted(every_id) == every_id


def test_a_full_last_page_has_no_next_cursor(operator):
    for n in range(1, 5):
        operator.post("/api/v1/merchants", json=merchant_body(n))
    first = operator.get("/api/v1/merchants?limit=2").get_json()
    second = operator.get(f"/api/v1/merchants?limit=2&cursor={first['next_cursor']}").get_json()
    assert len(second["data"]) == 2 and second["next_cursor"] is None


@pytest.mark.parametrize("cursor", ["garbage", "eyJhZnRlciI6LTF9", "eyJhZnRlciI6IngifQ", "%00"])
def test_a_cursor_the_api_did_not_issue_is_rejected(operator, cursor):
    assert error_paths(operator.get(f"/api/v1/merchants?cursor={cursor}")) == ["cursor"]


def test_lists_filter_by_their_fields(operator):
    catalog = create_catalog(operator)
    general = operator.post("/api/v1/merchants", json=merchant_body(
        2, name="Sunny Orchard 100%", tax_type="general")).get_json()
    operator.post("/api/v1/merchants",
                  json=merchant_body(3, name="Sunnyside", tax_type="simplified"))
    operator.post("/api/v1/boxes", json={"code": "BOX-DRAFT", "title": "준비중"})

    def ids(path: str) -> list[int]:
        return [row["id"] for row in _list(operator, path)]

    assert ids("/api/v1/merchants?tax_type=general") == [general["id"]]
    assert len(ids("/api/v1/merchants?name=sunny")) == 2
    assert ids("/api/v1/merchants?name=SUNNY%20orchard") == [general["id"]]
    assert ids("/api/v1/merchants?name=100%25") == [general["id"]]  # % is literal
    assert ids("/api/v1/merchants?name=한빛농원") == [catalog["merchant"]["id"]]
    assert ids(f"/api/v1/merchants?business_number={general['business_number']}") == \
        [general["id"]]
    assert ids("/api/v1/items?sku=SKU-1-2") == [catalog["items"][1]["id"]]
    assert ids("/api/v1/items?sku=SKU-1") == []  # sku is exact, not contains
    assert ids(f"/api/v1/items?merchant_id={general['id']}") == []
    assert ids("/api/v1/boxes?status=active") == [catalog["box"]["id"]]
    assert ids("/api/v1/boxes?status=draft&code=BOX-DRAFT") != []
    assert ids("/api/v1/boxes?status=active&code=BOX-DRAFT") == []
    assert ids("/api/v1/plans?cadence=monthly") == [catalog["plan"]["id"]]
    assert ids("/api/v1/plans?cadence=weekly") == []
    assert ids("/api/v1/connections?name=한빛몰") == [catalog["connection"]["id"]]
    assert error_paths(operator.get("/api/v1/merchants?tax_type=vat")) == ["tax_type"]


def test_deleting_a_row_tombstones_its_links_and_ids_are_never_reused(operator):
    catalog = create_catalog(operator)
    plan_id = catalog["plan"]["id"]
    link = operator.post("/api/v1/bindings", json={
        "connection_id": catalog["connection"]["id"], "entity_type": "plan",
        "internal_id": plan_id, "external_id": "PLAN-EXT-1"}).get_json()
    assert operator.delete(f"/api/v1/plans/{plan_id}").status_code == 204
    assert operator.get(f"/api/v1/bindings/{link['id']}").get_json()["status"] == "tombstoned"
    box_link = operator.get(f"/api/v1/bindings/{catalog['binding']['id']}").get_json()
    assert box_link["status"] == "active"  # other rows' links are untouched
    recreated = operator.post("/api/v1/plans", json={
        "box_id": catalog["box"]["id"], "code": "PLAN-AGAIN", "name": "다시",
        "cadence": "weekly", "round_price": 1000}).get_json()
    assert recreated["id"] > plan_id
