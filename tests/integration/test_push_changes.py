"""jobs.push.push_changes against the sandbox mall: each changed box once, in its current
state; a stock change costs one stock call; nothing changed costs no call."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from jobs.push import push_changes
from tests.integration.test_saleor_mall import PRODUCT, metadata


def run(app: Flask, connection_id: int, **kwargs: Any) -> Any:
    with app.app_context():
        return push_changes(connection_id, **kwargs)


def stocks(sandbox: Any, product_id: str) -> list[int]:
    answer = sandbox.execute(PRODUCT, {"id": product_id}, superuser=True)
    return [s["quantity"] for v in answer["data"]["product"]["variants"] for s in v["stocks"]]


@pytest.fixture
def pushed(mall_app, installed) -> dict[str, Any]:
    connection_id = installed["connection"]["id"]
    report = run(mall_app, connection_id)
    box_id = installed["catalog"]["box"]["id"]
    assert report.listed == [box_id] and report.skipped == []
    binding = installed["operator"].get(
        f"/api/v1/bindings?connection_id={connection_id}&entity_type=box").get_json()["data"]
    return {**installed, "box_id": box_id, "product_id": binding[0]["external_id"]}


def test_a_rerun_with_nothing_changed_makes_no_call(mall_app, pushed):
    connection_id = pushed["connection"]["id"]
    assert run(mall_app, connection_id).calls == 0
    resync = run(mall_app, connection_id, full=True)
    assert (resync.calls, resync.unchanged) == (0, [pushed["box_id"]])


def test_a_stock_change_is_one_availability_push(mall_app, pushed, sandbox):
    catalog = pushed["catalog"]
    before = stocks(sandbox, pushed["product_id"])
    assert pushed["operator"].put("/api/v1/stock-levels", json={
        "item_id": catalog["items"][1]["id"], "location_id": catalog["location"]["id"],
        "on_hand": 8}).status_code in (200, 201)
    report = run(mall_app, pushed["connection"]["id"])
    assert (report.stock_only, report.listed) == ([pushed["box_id"]], [])
    after = stocks(sandbox, pushed["product_id"])
    assert after != before and set(after) == {4}  # 8 units, 2 per box


def test_a_price_change_pushes_the_product_once(mall_app, pushed, sandbox):
    operator = pushed["operator"]
    plan = pushed["plans"][0]
    for price in (47000, 48000, 49000):  # three changes, one push of the latest
        assert operator.patch(f"/api/v1/plans/{plan['id']}",
                              json={"round_price": price}).status_code == 200
    report = run(mall_app, pushed["connection"]["id"])
    assert report.listed == [pushed["box_id"]]
    answer = sandbox.execute(PRODUCT, {"id": pushed["product_id"]}, superuser=True)
    prices = {metadata(v).get("gudok.plan_code"): v["channelListings"][0]["price"]["amount"]
              for v in answer["data"]["product"]["variants"]}
    assert prices["PLAN-1"] == 49000 * plan["prepaid_rounds"], prices  # prepaid in full
    assert run(mall_app, pushed["connection"]["id"]).calls == 0

