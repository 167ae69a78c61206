"""jobs.partner.push_link_outs against the sandbox mall: an approved platform product is listed
once, a re-run changes nothing, an edit awaiting review keeps the approved content, and a
rejection or withdrawal takes it out."""

from __future__ import annotations

from typing import Any

from flask import Flask

from hub.services.partner_products import ENTITY
from jobs.partner import push_link_outs
from tests.api.test_partner_products import PRODUCT, platform
from tests.integration.test_saleor_mall import PRODUCT as PRODUCT_QUERY
from tests.integration.test_saleor_mall import metadata


def run(app: Flask, connection_id: int) -> Any:
    with app.app_context():
        return push_link_outs(connection_id)


def mall_product(sandbox: Any, product_id: str) -> dict[str, Any]:
    answer = sandbox.execute(PRODUCT_QUERY, {"id": product_id}, superuser=True)
    assert "errors" not in answer, answer
    return answer["data"]["product"]  # type: ignore[no-any-return]


def test_an_approved_product_is_listed_in_the_mall_and_taken_out_again(
        mall_app, installed, sandbox):
    operator = installed["operator"]
    mall_id = installed["connection"]["id"]
    _platform_id, partner = platform(mall_app, operator, "플랫폼A")
    body = partner.put("/api/v1/partner/products/TG-1", json=PRODUCT).get_json()
    assert run(mall_app, mall_id).listed == []  # pending: not in the mall yet

    operator.post(f"/api/v1/partner-products/{body['id']}/approve", json={})
    report = run(mall_app, mall_id)
    assert report.listed == [body["id"]]
    [link] = operator.get(f"/api/v1/partner-products/{body['id']}").get_json()["mall_links"]
    assert link["connection_id"] == mall_id
    node = mall_product(sandbox, link["external_id"])
    meta = metadata(node)
    assert node["name"] == PRODUCT["name"]
    assert meta["gudok.link_out_url"] == PRODUCT["url"]
    assert meta["gudok.partner_platform"] == "플랫폼A"
    assert meta["gudok.link_out_price"] == str(PRODUCT["price"])
    assert run(mall_app, mall_id).unchanged == [body["id"]]

    # An edit awaiting review changes nothing in the mall.
    partner.put("/api/v1/partner/products/TG-1", json={**PRODUCT, "name": "새 이름"})
    assert run(mall_app, mall_id).unchanged == [body["id"]]
    assert mall_product(sandbox, link["external_id"])["name"] == PRODUCT["name"]

    operator.post(f"/api/v1/partner-products/{body['id']}/reject", json={"note": "x"})
    assert run(mall_app, mall_id).removed == [body["id"]]
    node = mall_product(sandbox, link["external_id"])
    assert [c["isPublished"] for c in node["channelListings"]] in ([], [False])
    bindings = operator.get(f"/api/v1/bindings?connection_id={mall_id}&entity_type={ENTITY}")
    assert bindings.get_json()["data"] == []
    assert run(mall_app, mall_id).removed == []  # nothing left to take out
