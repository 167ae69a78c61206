"""Partner products listed in the mall as link-out products, against the sandbox mall: shown
and priced in the subscription category, never for sale, found again instead of duplicated,
written only where they differ, and unpublished on removal."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from connectors.base import SyncContext
from connectors.saleor import SaleorConnector
from connectors.saleor.manifest import REQUIRED_PERMISSIONS
from connectors.saleor.sandbox import SaleorSandbox
from hub.errors import RecordError
from tests.connectors.saleor.saleor_fakes import StandInTransport, make_context
from tests.mappings.saleor.samples import LISTING

connector = SaleorConnector()
LINK: dict[str, Any] = {
    "partner_product_id": 41, "tenant_id": 1, "connection_id": 31, "platform": "구독마켓",
    "external_id": None, "platform_product_id": "Fresh.Box/01", "name": "구독마켓 샐러드",
    "description": "매주 오는 샐러드.\n\n두 번째 문단.",
    "url": "https://platform.example.kr/products/fresh-box-01",
    "image_url": "https://platform.example.kr/img/fresh.jpg", "price": 15000,
    "cadence": "weekly",
}
SLUG = "partner-31-fresh-box-01"
PRODUCT = """
query Product($id: ID!) {
  product(id: $id) {
    id name slug description
    productType { name } category { slug }
    metadata { key value }
    channelListings { channel { slug } isPublished visibleInListings isAvailableForPurchase }
    variants {
      id sku name trackInventory metadata { key value }
      channelListings { channel { slug } price { amount currency } }
      stocks { quantity }
    }
  }
}"""
SLUGS = "query { products(first: 100) { edges { node { id slug } } } }"
SHOPPER = """
query Shopper($channel: String) {
  products(first: 100, channel: $channel) { edges { node { id slug } } }
}"""
DELETE = "mutation($id: ID!) { productDelete(id: $id) { errors { code } } }"


@pytest.fixture
def mall() -> Iterator[SaleorSandbox]:
    with SaleorSandbox() as sandbox:
        yield sandbox


@pytest.fixture
def token(mall: SaleorSandbox) -> str:
    return mall.create_app("Gudok Hub", REQUIRED_PERMISSIONS).token


@pytest.fixture
def context(mall: SaleorSandbox, token: str) -> Any:
    """A fresh context each call, so its transport records only that call's requests."""
    def make(**config: Any) -> SyncContext:
        return make_context({"api_url": mall.graphql_url, "app_token": token,
                             "warehouse_slug": "seoul-central",
                             "storefront_url_template": "https://mall.example.kr/p/{slug}",
                             **config})
    return make


def mutations(ctx: SyncContext) -> list[str]:
    """The names of the mutations a call sent, in order."""
    assert isinstance(ctx.http, StandInTransport)
    return [call["json"]["query"].split("(")[0].split()[1] for call in ctx.http.calls
            if call["json"]["query"].lstrip().startswith("mutation")]


def product(mall: SaleorSandbox, product_id: str) -> dict[str, Any]:
    answer = mall.execute(PRODUCT, {"id": product_id}, superuser=True)
    assert "errors" not in answer, answer
    found: dict[str, Any] = answer["data"]["product"]
    return found


def meta(record: dict[str, Any]) -> dict[str, str]:
    return {item["key"]: item["value"] for item in record["metadata"]}


def slugs(mall: SaleorSandbox, query: str = SLUGS, **variables: Any) -> list[str]:
    answer = mall.execute(query, variables, superuser=query == SLUGS)
    assert "errors" not in answer, answer
    return [edge["node"]["slug"] for edge in answer["data"]["products"]["edges"]]


def test_a_link_out_is_listed_shown_and_priced_but_not_for_sale(
        mall: SaleorSandbox, context: Any) -> None:
    result = connector.push_link_out(context(), LINK)
    assert result["url"] == f"https://mall.example.kr/p/{SLUG}"
    found = product(mall, result["external_id"])
    assert found["slug"] == SLUG and found["name"] == "구독마켓 샐러드"
    assert found["productType"]["name"] == "구독 꾸러미"
    assert found["category"]["slug"] == "gudok-boxes"
    blocks = json.loads(found["description"])["blocks"]
    assert [b["data"]["text"] for b in blocks] == ["매주 오는 샐러드.", "두 번째 문단."]
    assert meta(found) == {
        "gudok.link_out_url": LINK["url"], "gudok.partner_platform": "구독마켓",
        "gudok.partner_product_id": "41", "gudok.link_out_price": "15000",
        "gudok.link_out_cadence": "weekly", "gudok.tenant": "1",
        "gudok.link_out_image": LINK["image_url"]}
    assert found["channelListings"] == [{
        "channel": {"slug": "default-channel"}, "isPublished": True,
        "visibleInListings": True, "isAvailableForPurchase": False}]
    # One variant carries the price; it has no stock, so nothing can be bought.
    [variant] = found["variants"]
    assert variant["channelListings"] == [{"channel": {"slug": "default-channel"},
                                           "price": {"amount": 15000, "currency": "KRW"}}]
    assert variant["trackInventory"] is True and variant["stocks"] == []
    assert meta(variant) == {"gudok.partner_product_id": "41"}
    assert slugs(mall, SHOPPER, channel="default-channel") == [SLUG]


def test_a_rerun_with_the_same_input_sends_no_mutation(mall: SaleorSandbox,
                                                       context: Any) -> None:
    first = context()
    result = connector.push_link_out(first, LINK)
    assert mutations(first) == ["GudokProductTypeCreate", "GudokCategoryCreate",
                                "GudokProductCreate", "GudokProductChannelListingUpdate",
                                "GudokVariantBulkCreate"]
    again = context()
    assert connector.push_link_out(again, {**LINK, "external_id": result["external_id"]}) \
        == result
    assert mutations(again) == []


def test_an_edit_writes_only_what_changed(mall: SaleorSandbox, context: Any) -> None:
    result = connector.push_link_out(context(), LINK)
    bound = {**LINK, "external_id": result["external_id"]}
    variant_id = product(mall, result["external_id"])["variants"][0]["id"]

    repriced = context()
    connector.push_link_out(repriced, {**bound, "price": 16500})
    assert mutations(repriced) == ["GudokMetadataUpdate", "GudokVariantChannelListingUpdate"]
    found = product(mall, result["external_id"])
    assert meta(found)["gudok.link_out_price"] == "16500"
    [variant] = found["variants"]
    assert variant["id"] == variant_id
    assert variant["channelListings"][0]["price"]["amount"] == 16500

    renamed = context()
    connector.push_link_out(renamed, {**bound, "price": 16500, "name": "새 샐러드"})
    assert mutations(renamed) == ["GudokProductUpdate"]
    assert product(mall, result["external_id"])["name"] == "새 샐러드"

    recadenced = context()
    connector.push_link_out(recadenced, {**bound, "price": 16500, "name": "새 샐러드",
                                         "cadence": "monthly", "image_url": None})
    assert mutations(recadenced) == ["GudokMetadataUpdate", "GudokVariantUpdate"]
    found = product(mall, result["external_id"])
    assert meta(found)["gudok.link_out_cadence"] == "monthly"
    assert meta(found)["gudok.link_out_image"] == ""
    assert found["variants"][0]["name"] == "매월 구독"


def test_a_lost_external_id_finds_the_product_by_slug(mall: SaleorSandbox,
                                                      context: Any) -> None:
    result = connector.push_link_out(context(), LINK)
    lost = context()
    again = connector.push_link_out(lost, {**LINK, "external_id": None})
    assert again == result
    assert mutations(lost) == []
    assert slugs(mall) == [SLUG]
    # A binding to a product the mall deleted lists the product anew.
    mall.execute(DELETE, {"id": result["external_id"]}, superuser=True)
    fresh = connector.push_link_out(context(), {**LINK, "external_id": result["external_id"]})
    assert fresh["external_id"] != result["external_id"]
    assert slugs(mall) == [SLUG]


def test_remove_unpublishes_and_is_repeatable(mall: SaleorSandbox, context: Any) -> None:
    result = connector.push_link_out(context(), LINK)
    removal = context()
    connector.remove_link_out(removal, result["external_id"])
    assert mutations(removal) == ["GudokProductChannelListingUpdate"]
    found = product(mall, result["external_id"])
    assert found["channelListings"] == [{
        "channel": {"slug": "default-channel"}, "isPublished": False,
        "visibleInListings": False, "isAvailableForPurchase": False}]
    assert slugs(mall, SHOPPER, channel="default-channel") == []

    again = context()
    connector.remove_link_out(again, result["external_id"])
    assert mutations(again) == []
    # Approved again: the same product is shown again.
    relisted = context()
    assert connector.push_link_out(relisted, {**LINK, "external_id": result["external_id"]}) \
        == result
    assert mutations(relisted) == ["GudokProductChannelListingUpdate"]
    assert slugs(mall, SHOPPER, channel="default-channel") == [SLUG]
    # A product the mall deleted is already removed.
    mall.execute(DELETE, {"id": result["external_id"]}, superuser=True)
    gone = context()
    connector.remove_link_out(gone, result["external_id"])
    assert mutations(gone) == []


def test_the_hub_never_takes_over_a_product_that_is_not_this_link_out(
        mall: SaleorSandbox, context: Any) -> None:
    box = connector.push_box(context(), LISTING)
    with pytest.raises(RecordError, match="belongs to box 11"):
        connector.push_link_out(context(), {**LINK, "external_id": box["external_id"]})
    with pytest.raises(RecordError, match="not a link-out product"):
        connector.remove_link_out(context(), box["external_id"])
    mall.create_product(SLUG)  # the mall's own product, by chance on the link-out's slug
    with pytest.raises(RecordError, match="belongs to the mall"):
        connector.push_link_out(context(), LINK)
    other = {**LINK, "partner_product_id": 42, "platform_product_id": "other"}
    listed = connector.push_link_out(context(), other)
    with pytest.raises(RecordError, match="belongs to partner product 42"):
        connector.push_link_out(context(), {**LINK, "external_id": listed["external_id"]})


def test_a_bad_record_is_a_record_error_before_anything_is_sent(context: Any) -> None:
    ctx = context()
    with pytest.raises(RecordError, match="cadence") as raised:
        connector.push_link_out(ctx, {**LINK, "cadence": "daily"})
    assert raised.value.record == "partner product 41"
    with pytest.raises(RecordError, match="url"):
        connector.push_link_out(ctx, {**LINK, "url": "javascript:alert(1)"})
    with pytest.raises(RecordError, match="no mall product"):
        connector.remove_link_out(ctx, "")
    assert isinstance(ctx.http, StandInTransport) and ctx.http.calls == []


def test_catalog_pull_leaves_link_outs_out(mall: SaleorSandbox, context: Any) -> None:
    box = connector.push_box(context(), LISTING)
    connector.push_link_out(context(), LINK)
    page = connector.pull_catalog(context(), None, datetime.now(UTC))
    assert [record["external_id"] for record in page.records] == [box["external_id"]]
