"""The hub installed into a sandbox Saleor mall over loopback: install, signed webhooks
(good, tampered, wrong key, replayed), a box with two plans and stock pushed and read back."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import func, select

from hub.db import session_scope
from hub.models import Connection, InboxEntry
from hub.services.connections import full_config
from jobs.catalog import import_catalog, push_catalog

LOOPBACK = ["127.0.0.1", "::1", "localhost"]
PRODUCT = """
query Product($id: ID!) {
  product(id: $id) {
    id name slug externalReference
    metadata { key value }
    channelListings { channel { slug } isPublished }
    variants {
      id sku name
      metadata { key value }
      channelListings { channel { slug } price { amount currency } }
      stocks { warehouse { id } quantity }
    }
  }
}"""


def inbox_count(app: Flask) -> int:
    with session_scope(app.extensions["gudok"].session_factory) as session:
        return int(session.scalar(select(func.count()).select_from(InboxEntry)))


def metadata(node: dict[str, Any]) -> dict[str, str]:
    return {m["key"]: m["value"] for m in node["metadata"]}


def test_install_stores_the_app_token_encrypted(mall_app, installed):
    shown = installed["operator"].get(f"/api/v1/connections/{installed['connection']['id']}")
    assert shown.get_json()["config"]["app_token"] == "********"
    state = mall_app.extensions["gudok"]
    with session_scope(state.session_factory) as session:
        row = session.get(Connection, installed["connection"]["id"])
        assert full_config(state.secrets, row)["app_token"] == installed["app"].token
        assert installed["app"].token not in (row.secrets_encrypted or "")


def test_a_box_with_two_plans_and_stock_is_pushed_and_read_back(mall_app, installed, sandbox):
    box = installed["catalog"]["box"]
    connection_id = installed["connection"]["id"]
    with mall_app.app_context():
        report = push_catalog(connection_id)
    assert (report.pushed, report.skipped) == ([box["id"]], [])

    links = installed["operator"].get(
        f"/api/v1/bindings?connection_id={connection_id}").get_json()["data"]
    by_entity = {(b["entity_type"], b["internal_id"]): b["external_id"] for b in links}
    product_id = by_entity[("box", box["id"])]
    product = sandbox.execute(PRODUCT, {"id": product_id}, superuser=True)["data"]["product"]

    assert product["name"] == box["title"]
    assert metadata(product)["gudok.box_id"] == str(box["id"])
    other_mall = installed["catalog"]["binding"]["url"]
    assert other_mall in metadata(product)["gudok.links"]  # the cross-listing link
    assert [(c["channel"]["slug"], c["isPublished"]) for c in product["channelListings"]] == [
        ("default-channel", True)]
    variants = {v["id"]: v for v in product["variants"]}
    assert len(variants) == 2
    # Availability: item 1 has 40 (1 a box), item 2 has 30 (2 a box) -> 15, under capacity.
    for plan in installed["plans"]:
        variant = variants[by_entity[("plan", plan["id"])]]
        assert metadata(variant)["gudok.plan_id"] == str(plan["id"])
        prices = [(c["channel"]["slug"], c["price"]["amount"], c["price"]["currency"])
                  for c in variant["channelListings"]]
        assert prices == [("default-channel", plan["round_price"] * plan["prepaid_rounds"],
                           "KRW")]
        assert [s["quantity"] for s in variant["stocks"]] == [15]

    before = sandbox.execute(PRODUCT, {"id": product_id}, superuser=True)
    with mall_app.app_context():
        again = push_catalog(connection_id)
    assert again.pushed == [box["id"]]
    assert sandbox.execute(PRODUCT, {"id": product_id}, superuser=True) == before


def test_signed_webhooks_land_once_and_forgeries_are_refused(mall_app, installed, sandbox):
    with mall_app.app_context():
        push_catalog(installed["connection"]["id"])
    links = installed["operator"].get("/api/v1/bindings?entity_type=plan").get_json()["data"]
    variant = next(b["external_id"] for b in links
                   if b["connection_id"] == installed["connection"]["id"])
    sandbox.drain()
    start, baseline = len(sandbox.deliveries), inbox_count(mall_app)

    order_id = sandbox.place_order([(variant, 1)])
    assert sandbox.drain()
    good = [d for d in sandbox.deliveries[start:] if d.target_url.startswith("http://127")]
    assert good and all(d.status == "delivered" for d in good), [
        (d.event, d.status, d.attempts) for d in good]
    assert {d.event for d in good} >= {"order_created"}
    landed = inbox_count(mall_app)
    assert landed == baseline + len(good)

    sandbox.faults.tamper_next_signature()
    sandbox.update_order_status(order_id, "UNFULFILLED")
    sandbox.faults.sign_with_wrong_key_next()
    sandbox.cancel(order_id)
    assert sandbox.drain()
    later = sandbox.deliveries[start + len(good):]
    refused = [d for d in later if d.attempts == [401]]  # 4xx: Saleor does not retry
    assert len(refused) == 2, [(d.event, d.status, d.attempts) for d in later]
    accepted = [d for d in later if d.status == "delivered"]
    assert len(accepted) + len(refused) == len(later)
    assert inbox_count(mall_app) == landed + len(accepted)

    replay = sandbox.redeliver(good[0])
    assert sandbox.drain()
    assert replay.attempts[-1] == 200
    total = inbox_count(mall_app)
    sandbox.redeliver(good[0])
    assert sandbox.drain()
    assert inbox_count(mall_app) == total


def test_the_malls_own_subscription_products_are_imported_as_draft_boxes(
        mall_app, installed, sandbox):
    connection_id = installed["connection"]["id"]
    with mall_app.app_context():
        push_catalog(connection_id)  # the hub's own box: not imported back
    product = sandbox.create_product(
        "몰 자체 꿀 정기배송", product_type="구독 꾸러미",
        metadata={"gudok.box_code": "MALL-HONEY", "gudok.category": "processed"},
        variants=[{"sku": "MALL-HONEY-M3", "name": "월간 3회", "price": 90000,
                   "stocks": {}}])
    variant = sandbox.execute(PRODUCT, {"id": product}, superuser=True)[
        "data"]["product"]["variants"][0]["id"]
    sandbox.execute("""mutation M($id: ID!, $input: [MetadataInput!]!) {
        updateMetadata(id: $id, input: $input) { errors { message } } }""",
                    {"id": variant, "input": [
                        {"key": "gudok.cadence", "value": "monthly"},
                        {"key": "gudok.prepaid_rounds", "value": "3"}]}, superuser=True)
    sandbox.create_product("몰 일반 상품", variants=[{"sku": "PLAIN-1", "name": "단품",
                                                  "price": 5000}])  # not a subscription

    with mall_app.app_context():
        first = import_catalog(connection_id)
        again = import_catalog(connection_id)
    assert [(r["type"], r["key"], r["status"]) for r in first.results] == [
        ("box", "MALL-HONEY", "created"), ("plan", "MALL-HONEY-M3", "created")]
    assert {r["status"] for r in again.results} == {"unchanged"}
    operator = installed["operator"]
    box = operator.get("/api/v1/boxes?code=MALL-HONEY").get_json()["data"][0]
    assert (box["status"], box["category"], box["title"]) == ("draft", "processed",
                                                              "몰 자체 꿀 정기배송")
    plan = operator.get("/api/v1/plans?code=MALL-HONEY-M3").get_json()["data"][0]
    assert (plan["cadence"], plan["prepaid_rounds"], plan["round_price"]) == (
        "monthly", 3, 30000)
    links = operator.get(f"/api/v1/bindings?connection_id={connection_id}&internal_id="
                         f"{box['id']}&entity_type=box").get_json()["data"]
    assert [b["external_id"] for b in links] == [product]
    hub_box = installed["catalog"]["box"]["code"]
    assert operator.get(f"/api/v1/boxes?code={hub_box}").get_json()["data"][0][
        "title"] == installed["catalog"]["box"]["title"]
