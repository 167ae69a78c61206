"""The Saleor sandbox executes the real schema and behaves like Saleor for the connector."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from connectors.saleor.sandbox import (
    NotLoopback,
    OrderError,
    SaleorSandbox,
    from_global_id,
    load_schema,
    reference_schema_path,
)
from tests.connectors.saleor.test_sandbox_support import (
    ORDERS_QUERY,
    PERMISSIONS,
    PRODUCTS_QUERY,
    data,
    gql,
    push_box,
)

ROOT = Path(__file__).resolve().parents[3]
METADATA = """mutation($id: ID!, $i: [MetadataInput!]!) {
  updateMetadata(id: $id, input: $i) { errors { field code message } }
}"""


@pytest.fixture
def sandbox() -> Iterator[SaleorSandbox]:
    with SaleorSandbox() as mall:
        yield mall


@pytest.fixture
def token(sandbox: SaleorSandbox) -> str:
    return sandbox.create_app("hub", PERMISSIONS).token


def test_the_reference_schema_is_built_once_and_executes(sandbox: SaleorSandbox, token: str,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_schema() is load_schema() is sandbox.schema
    assert reference_schema_path().resolve() == (
        ROOT.parent / "shared/reference/saleor/schema.graphql").resolve()
    monkeypatch.setenv("GUDOK_SALEOR_SCHEMA", "/elsewhere/schema.graphql")
    assert reference_schema_path() == Path("/elsewhere/schema.graphql")
    body = data(sandbox, "{ shop { name version } __schema { queryType { name } } }",
                token=token)
    assert body["shop"]["version"] == "3.23.28"
    anonymous = gql(sandbox, "{ shop { name version } }").json()
    assert anonymous["data"] is None
    assert anonymous["errors"][0]["path"] == ["shop", "version"]
    assert body["__schema"]["queryType"]["name"] == "Query"
    invalid = gql(sandbox, "{ shop { fullName } }")
    assert invalid.status_code == 400
    assert "Cannot query field 'fullName'" in invalid.json()["errors"][0]["message"]


def test_app_channels_and_warehouses(sandbox: SaleorSandbox, token: str) -> None:
    body = data(sandbox, """{ app { id name permissions { code } }
        channels { id slug currencyCode }
        warehouses(first: 1) { edges { node { id name slug } } pageInfo { hasNextPage endCursor } }
    }""", token=token)
    assert {p["code"] for p in body["app"]["permissions"]} == set(PERMISSIONS)
    assert body["channels"] == [{"id": sandbox.default_channel_id, "slug": "default-channel",
                                 "currencyCode": "KRW"}]
    assert from_global_id(body["channels"][0]["id"]) == ("Channel", "1")
    page = body["warehouses"]
    assert page["pageInfo"]["hasNextPage"] is True
    rest = data(sandbox, "query($a: String) { warehouses(first: 10, after: $a) { "
                "edges { node { id } } pageInfo { hasNextPage } } }",
                {"a": page["pageInfo"]["endCursor"]}, token)
    ids = [page["edges"][0]["node"]["id"]] + [e["node"]["id"] for e in rest["warehouses"]["edges"]]
    assert sorted(ids) == sorted(sandbox.warehouse_ids)


def test_product_variants_listings_stocks_and_metadata_round_trip(sandbox: SaleorSandbox,
                                                                  token: str) -> None:
    box = push_box(sandbox, token)
    data(sandbox, METADATA,
         {"id": box["product"], "i": [{"key": "gudok.box", "value": "B-1"},
                                      {"key": "gudok.links", "value": '{"naver": "123"}'}]}, token)
    data(sandbox, METADATA,
         {"id": box["weekly"], "i": [{"key": "gudok.plan", "value": "weekly"}]}, token)
    products = data(sandbox, PRODUCTS_QUERY, {"first": 10, "channel": "default-channel"},
                    token)["products"]
    assert len(products["edges"]) == 1
    node = products["edges"][0]["node"]
    assert node["name"] == "제주 감귤 꾸러미"
    assert json.loads(node["description"])["blocks"][0]["data"]["text"] == "Tangerines"
    assert node["productType"] == {"id": box["type"], "name": "Subscription box"}
    assert {m["key"]: m["value"] for m in node["metadata"]} == {
        "gudok.box": "B-1", "gudok.links": '{"naver": "123"}'}
    assert node["channelListings"] == [{"channel": {"slug": "default-channel"},
                                        "isPublished": True}]
    weekly, monthly = node["variants"]
    assert weekly["metadata"] == [{"key": "gudok.plan", "value": "weekly"}]
    assert weekly["stocks"] == [{"warehouse": {"id": box["seoul"]}, "quantity": 10}]
    assert monthly["stocks"] == [{"warehouse": {"id": box["jeju"]}, "quantity": 4}]
    assert weekly["channelListings"] == [{"channel": {"slug": "default-channel"},
                                          "price": {"amount": 19900.0, "currency": "KRW"}}]
    assert monthly["channelListings"][0]["price"]["amount"] == 59000.0
    one = data(sandbox, "query($id: ID!) { product(id: $id) { id variants { sku } } }",
               {"id": box["product"]}, token)["product"]
    assert [v["sku"] for v in one["variants"]] == ["JEJU-W", "JEJU-M"]
    changed = data(sandbox, """mutation($id: ID!, $i: ProductInput!) {
        productUpdate(id: $id, input: $i) { product { name slug } errors { field code message } }
    }""",
                   {"id": box["product"], "i": {"name": "제주 감귤 꾸러미 (겨울)"}}, token)
    assert changed["productUpdate"]["product"]["name"] == "제주 감귤 꾸러미 (겨울)"
    priced = data(sandbox, """mutation($id: ID!, $i: [ProductVariantChannelListingAddInput!]!) {
        productVariantChannelListingUpdate(id: $id, input: $i) {
          variant { channelListings { price { amount } } } errors { field code message } } }""",
                  {"id": box["weekly"], "i": [{"channelId": box["channel"], "price": 18900}]},
                  token)
    variant = priced["productVariantChannelListingUpdate"]["variant"]
    assert variant["channelListings"][0]["price"]["amount"] == 18900.0


def test_stock_update_sets_the_absolute_quantity(sandbox: SaleorSandbox, token: str) -> None:
    box = push_box(sandbox, token)
    query = """mutation($id: ID!, $s: [StockInput!]!) { productVariantStocksUpdate(variantId: $id,
        stocks: $s) { productVariant { stocks { warehouse { id } quantity } }
        errors { field code message index } } }"""
    for quantity in (7, 3, 3):
        body = data(sandbox, query, {"id": box["weekly"], "s": [
            {"warehouse": box["seoul"], "quantity": quantity},
            {"warehouse": box["jeju"], "quantity": 1}]}, token)
        stocks = body["productVariantStocksUpdate"]["productVariant"]["stocks"]
        assert {s["warehouse"]["id"]: s["quantity"] for s in stocks} == {box["seoul"]: quantity,
                                                                        box["jeju"]: 1}
    bad = data(sandbox, query, {"id": box["weekly"], "s": [
        {"warehouse": "V2FyZWhvdXNlOjk5", "quantity": 1}]}, token)["productVariantStocksUpdate"]
    assert bad["productVariant"] is None
    assert bad["errors"][0]["code"] == "NOT_FOUND" and bad["errors"][0]["index"] == 0


def test_bad_input_comes_back_in_the_payload_errors(sandbox: SaleorSandbox, token: str) -> None:
    box = push_box(sandbox, token)
    create = """mutation($i: ProductCreateInput!) { productCreate(input: $i) {
        product { id } errors { field code message } } }"""
    dup = data(sandbox, create, {"i": {"productType": box["type"], "name": "x",
                                       "slug": "제주-감귤-꾸러미"}}, token)["productCreate"]
    assert dup == {"product": None, "errors": [{
        "field": "slug", "code": "UNIQUE", "message": "Product with this Slug already exists."}]}
    wrong = data(sandbox, create, {"i": {"productType": box["product"], "name": "x"}},
                 token)["productCreate"]["errors"][0]
    assert (wrong["field"], wrong["code"]) == ("productType", "GRAPHQL_ERROR")
    blank = data(sandbox, create, {"i": {"productType": box["type"], "name": " "}},
                 token)["productCreate"]["errors"][0]
    assert (blank["field"], blank["code"]) == ("name", "REQUIRED")
    loose = data(sandbox, create, {"i": {"productType": box["type"], "name": "Loose"}},
                 token)["productCreate"]["product"]["id"]
    bulk = """mutation($p: ID!, $v: [ProductVariantBulkCreateInput!]!) {
        productVariantBulkCreate(product: $p, variants: $v) { count
          results { productVariant { id } errors { field code } } errors { field code index } } }"""
    rejected = data(sandbox, bulk, {"p": loose, "v": [
        {"sku": "NEW-1", "attributes": []},
        {"sku": "JEJU-W", "attributes": []},
        {"sku": "NEW-2", "attributes": [],
         "channelListings": [{"channelId": box["channel"], "price": "100.5"}]}]}, token)
    result = rejected["productVariantBulkCreate"]
    assert result["count"] == 0
    assert {(e["field"], e["code"], e["index"]) for e in result["errors"]} == {
        ("sku", "UNIQUE", 1), ("channelListings", "PRODUCT_NOT_ASSIGNED_TO_CHANNEL", 2),
        ("price", "INVALID", 2)}
    assert [r["productVariant"] for r in result["results"]] == [None, None, None]
    listing = """mutation($id: ID!, $i: ProductChannelListingUpdateInput!) {
        productChannelListingUpdate(id: $id, input: $i) { errors { field code } } }"""
    unpublishable = data(sandbox, listing, {"id": loose, "i": {"updateChannels": [
        {"channelId": box["channel"], "isPublished": True}]}}, token)
    assert unpublishable["productChannelListingUpdate"]["errors"] == [
        {"field": "isPublished", "code": "PRODUCT_WITHOUT_CATEGORY"}]
    scalar = gql(sandbox, create, {"i": {"productType": box["type"], "name": "x",
                                         "description": {"blocks": []}}}, token)
    assert scalar.status_code == 400 and "JSONString" in scalar.json()["errors"][0]["message"]


def test_orders_filter_by_updated_at_sort_and_paginate(sandbox: SaleorSandbox,
                                                       token: str) -> None:
    box = push_box(sandbox, token)
    ids = [sandbox.place_order([(box["weekly"], 1)], email=f"b{i}@example.kr")
           for i in range(5)]
    first_page = data(sandbox, ORDERS_QUERY, {"first": 2}, token)["orders"]
    assert [e["node"]["id"] for e in first_page["edges"]] == ids[:2]
    assert first_page["pageInfo"]["hasNextPage"] is True
    node = first_page["edges"][0]["node"]
    assert (node["status"], node["paymentStatus"]) == ("UNFULFILLED", "FULLY_CHARGED")
    assert node["total"]["gross"] == {"amount": 19900.0, "currency": "KRW"}
    assert node["lines"][0]["variant"] == {"id": box["weekly"], "product": {"id": box["product"]}}
    seen, after = [], None
    while True:
        page = data(sandbox, ORDERS_QUERY, {"first": 2, "after": after}, token)["orders"]
        seen += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == ids
    third = data(sandbox, "query($id: ID!) { order(id: $id) { updatedAt } }", {"id": ids[2]},
                 token)["order"]["updatedAt"]
    sandbox.cancel(ids[0])
    since = data(sandbox, ORDERS_QUERY, {"first": 100,
                                         "filter": {"updatedAt": {"gte": third}}}, token)
    assert [e["node"]["id"] for e in since["orders"]["edges"]] == [*ids[2:], ids[0]]
    assert since["orders"]["edges"][-1]["node"]["status"] == "CANCELED"
    too_many = gql(sandbox, ORDERS_QUERY, {"first": 101}, token).json()
    assert too_many["data"]["orders"] is None
    assert "exceeds the `first` limit of 100 records" in too_many["errors"][0]["message"]
    unbounded = gql(sandbox, ORDERS_QUERY, {}, token).json()
    assert "You must provide a `first` or `last` value" in unbounded["errors"][0]["message"]


def test_fulfilment_moves_stock_and_status(sandbox: SaleorSandbox, token: str) -> None:
    box = push_box(sandbox, token)
    order_id = sandbox.place_order([(box["weekly"], 3)])
    line = data(sandbox, "query($id: ID!) { order(id: $id) { lines { id } } }",
                {"id": order_id}, token)["order"]["lines"][0]["id"]
    fulfil = """mutation($o: ID!, $i: OrderFulfillInput!) { orderFulfill(order: $o, input: $i) {
        fulfillments { trackingNumber lines { quantity } } order { status }
        errors { field code message } } }"""
    too_much = data(sandbox, fulfil, {"o": order_id, "i": {"lines": [{
        "orderLineId": line, "stocks": [{"quantity": 4, "warehouse": box["seoul"]}]}]}}, token)
    assert too_much["orderFulfill"]["errors"][0]["code"] == "FULFILL_ORDER_LINE"
    done = data(sandbox, fulfil, {"o": order_id, "i": {"notifyCustomer": False,
                                                        "trackingNumber": "CJ-1", "lines": [{
        "orderLineId": line, "stocks": [{"quantity": 2, "warehouse": box["seoul"]}]}]}}, token)
    assert done["orderFulfill"]["fulfillments"] == [{"trackingNumber": "CJ-1",
                                                     "lines": [{"quantity": 2}]}]
    assert done["orderFulfill"]["order"]["status"] == "PARTIALLY_FULFILLED"
    stock = data(sandbox, "query($id: ID!) { productVariant(id: $id) { quantityAvailable "
                 "stocks { quantity quantityAllocated } } }", {"id": box["weekly"]}, token)
    assert stock["productVariant"]["stocks"] == [{"quantity": 8, "quantityAllocated": 1}]
    assert stock["productVariant"]["quantityAvailable"] == 7



def test_an_order_note_lands_in_the_orders_history(sandbox: SaleorSandbox, token: str) -> None:
    box = push_box(sandbox, token)
    order_id = sandbox.place_order([(box["weekly"], 1)])
    add = """mutation($o: ID!, $i: OrderNoteInput!) { orderNoteAdd(order: $o, input: $i) {
        event { type message } errors { field code } } }"""
    empty = data(sandbox, add, {"o": order_id, "i": {"message": " "}}, token)
    assert empty["orderNoteAdd"]["errors"] == [{"field": "message", "code": "REQUIRED"}]
    added = data(sandbox, add, {"o": order_id, "i": {"message": "구독 2회차 발송: CJ-2"}}, token)
    assert added["orderNoteAdd"] == {"event": {"type": "NOTE_ADDED",
                                               "message": "구독 2회차 발송: CJ-2"}, "errors": []}
    events = data(sandbox, "query($id: ID!) { order(id: $id) { events { type message } } }",
                  {"id": order_id}, token)["order"]["events"]
    assert events == [{"type": "NOTE_ADDED", "message": "구독 2회차 발송: CJ-2"}]


def test_an_order_is_checked_before_it_is_placed(sandbox: SaleorSandbox, token: str) -> None:
    box = push_box(sandbox, token)
    with pytest.raises(OrderError, match="insufficient stock"):
        sandbox.place_order([(box["monthly"], 3), (box["monthly"], 2)])
    assert sandbox.store.all("Order") == [] and sandbox.deliveries == []
    order_id = sandbox.place_order([(box["monthly"], 4)], paid=False)
    order = data(sandbox, "query($id: ID!) { order(id: $id) { number isPaid paymentStatus "
                 "lines { productSku } } }", {"id": order_id}, token)["order"]
    assert order == {"number": "1", "isPaid": False, "paymentStatus": "NOT_CHARGED",
                     "lines": [{"productSku": "JEJU-M"}]}


def test_tokens_and_permissions_are_enforced(sandbox: SaleorSandbox, token: str) -> None:
    box = push_box(sandbox, token)
    orders = "{ orders(first: 5) { edges { node { id } } } }"
    for anonymous in (None, "not-a-token-of-this-mall-000000"):
        body = gql(sandbox, orders, token=anonymous).json()
        assert body["data"] == {"orders": None}
        assert body["errors"][0]["message"] == ("You need one of the following permissions: "
                                                "MANAGE_ORDERS")
        assert body["errors"][0]["extensions"]["exception"]["code"] == "PermissionDenied"
        assert body["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"
    products_only = sandbox.create_app("catalog only", ["MANAGE_PRODUCTS"]).token
    denied = gql(sandbox, orders, token=products_only).json()
    assert denied["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"
    order_id = sandbox.place_order([(box["weekly"], 1)])
    meta = gql(sandbox, """mutation($id: ID!) { updateMetadata(id: $id, input: [{key: "a",
        value: "b"}]) { errors { code } } }""", {"id": order_id}, products_only).json()
    assert meta["data"]["updateMetadata"] is None
    assert meta["errors"][0]["message"].endswith("MANAGE_ORDERS")
    create = gql(sandbox, """mutation { productCreate(input: {productType: "x", name: "y"}) {
        errors { code } } }""").json()
    assert create["errors"][0]["extensions"]["exception"]["code"] == "PermissionDenied"
    hidden = gql(sandbox, "{ products(first: 5) { edges { node { channelListings { "
                 "isPublished } variants { stocks { quantity } } } } } }").json()
    assert {tuple(e["path"][-1:]) for e in hidden["errors"]} == {("channelListings",),
                                                                 ("stocks",)}
    app_id = data(sandbox, "{ app { id } }", token=token)["app"]["id"]
    sandbox.revoke_tokens(app_id)
    assert gql(sandbox, orders, token=token).json()["data"] == {"orders": None}


def test_strict_tokens_answer_401() -> None:
    with SaleorSandbox(strict_tokens=True) as mall:
        response = gql(mall, "{ shop { name } }", token="wrong")
        assert response.status_code == 401
        assert gql(mall, "{ shop { name } }").status_code == 200


def test_loopback_only() -> None:
    with pytest.raises(NotLoopback):
        SaleorSandbox(host="0.0.0.0")
    with SaleorSandbox() as mall, pytest.raises(NotLoopback):
        mall.install_app("http://192.0.2.10/manifest")


def test_control_endpoints(sandbox: SaleorSandbox, token: str) -> None:
    box = push_box(sandbox, token)
    placed = requests.post(f"{sandbox.url}/__sandbox__/orders",
                           json={"lines": [[box["monthly"], 1]]}, timeout=5)
    assert placed.status_code == 201
    order_id = placed.json()["id"]
    assert requests.post(f"{sandbox.url}/__sandbox__/orders/{order_id}/cancel",
                         timeout=5).status_code == 200
    assert requests.post(f"{sandbox.url}/__sandbox__/faults/fail_next",
                         json={"n": 1, "status": 500}, timeout=5).status_code == 200
    assert gql(sandbox, "{ shop { name } }").status_code == 500
    status = data(sandbox, "query($id: ID!) { order(id: $id) { status } }", {"id": order_id},
                  token)
    assert status["order"]["status"] == "CANCELED"


def test_cli_runs_the_sandbox_standalone() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "connectors.saleor.sandbox", "--port", "0"],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        url = line.split()[3]
        assert url.startswith("http://127.0.0.1:") and url.endswith("/graphql/")
        answer = requests.post(url, json={"query": "{ shop { name } }"}, timeout=5).json()
        assert answer["data"]["shop"]["name"]
    finally:
        process.terminate()
        process.wait(timeout=10)
