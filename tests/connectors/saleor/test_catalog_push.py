"""Pushing boxes to the mall: product + variants + prices + metadata + stock, found again
instead of duplicated, and a second identical push sends no mutation at all."""

from __future__ import annotations

import copy
import json

import pytest
import responses

from connectors.base import CAPABILITY_INTERFACES
from connectors.saleor import SaleorConfigSchema, SaleorConnector
from hub.errors import ConfigurationError, RecordError
from tests.connectors.saleor.saleor_fakes import (
    CHANNEL_ID,
    WAREHOUSE_ID,
    CatalogMall,
    FakeMall,
    make_context,
)
from tests.mappings.saleor.samples import LISTING, listing

connector = SaleorConnector()


@pytest.fixture
def mall() -> CatalogMall:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield CatalogMall(FakeMall(mock))


def test_capabilities_match_the_implemented_interfaces() -> None:
    assert connector.capabilities == {"catalog.push", "catalog.pull", "inventory.push",
                                      "orders.pull", "orders.webhook", "fulfilment.push"}
    for capability in connector.capabilities:
        assert isinstance(connector, CAPABILITY_INTERFACES[capability]), capability


def test_config_schema_defaults_and_secrets() -> None:
    config = SaleorConfigSchema().load({"api_url": "https://mall.example.kr/graphql/"})
    assert config["product_type_name"] == "구독 꾸러미"
    assert config["warehouse_slug"] is None and config["lookback_seconds"] == 300
    assert SaleorConnector.secret_fields() == {"app_token", "legacy_webhook_secret"}


def test_push_creates_product_variants_prices_and_metadata(mall: CatalogMall) -> None:
    result = connector.push_box(make_context(), LISTING)
    [product] = mall.products.values()
    assert result["external_id"] == product["id"]
    assert result["url"] == "https://mall.hanbit.example.kr/products/gudok-1-seasonal-box"
    assert set(result["variants"]) == {21, 22}
    assert product["name"] == "한빛 제철 꾸러미"
    assert product["_meta"]["gudok.box_id"] == "11"
    assert json.loads(product["_meta"]["gudok.links"])[0]["platform"] == "naver"
    assert product["_listings"][CHANNEL_ID]["isAvailableForPurchase"] is True
    [product_type] = mall.product_types.values()
    assert product_type["name"] == "구독 꾸러미" and product_type["kind"] == "NORMAL"
    assert [c["slug"] for c in mall.categories.values()] == ["gudok-boxes"]
    monthly = mall.variants[result["variants"][21]]
    assert monthly["_prices"] == {CHANNEL_ID: 117000}
    assert monthly["_meta"]["gudok.plan_id"] == "21"
    assert monthly["sku"] == "gudok-1-monthly-3"
    # The product joins the channel before its variants are priced in it.
    ops = mall.mall.operations
    assert ops.index("GudokProductChannelListingUpdate") < ops.index("GudokVariantBulkCreate")


def test_a_second_identical_push_sends_no_mutation(mall: CatalogMall) -> None:
    first = connector.push_box(make_context(), LISTING)
    before = len(mall.mall.mutations)
    again = connector.push_box(make_context(), {**LISTING, "external_id": first["external_id"]})
    assert again == first
    assert len(mall.mall.mutations) == before
    assert len(mall.products) == 1 and len(mall.variants) == 2


def test_a_lost_binding_finds_the_product_instead_of_duplicating(mall: CatalogMall) -> None:
    first = connector.push_box(make_context(), LISTING)
    again = connector.push_box(make_context(), listing(external_id=None, title="새 이름"))
    assert again["external_id"] == first["external_id"]
    assert len(mall.products) == 1
    assert mall.products[first["external_id"]]["name"] == "새 이름"
    assert mall.mall.operations.count("GudokProductCreate") == 1


def test_changes_are_pushed_and_removed_plans_lose_their_variant(mall: CatalogMall) -> None:
    first = connector.push_box(make_context(), LISTING)
    changed = copy.deepcopy(LISTING)
    changed["external_id"] = first["external_id"]
    changed["plans"] = [{**changed["plans"][0], "round_price": 41000, "name": "월간"},
                        {"plan_id": 23, "code": "biweekly-2", "name": "격주",
                         "cadence": "biweekly", "prepaid_rounds": 2, "term_rounds": None,
                         "round_price": 20000}]
    changed["links"] = []
    changed["status"] = "paused"
    result = connector.push_box(make_context(), changed)
    assert set(result["variants"]) == {21, 23}
    assert result["variants"][21] == first["variants"][21]
    assert first["variants"][22] not in mall.variants
    monthly = mall.variants[result["variants"][21]]
    assert monthly["_prices"][CHANNEL_ID] == 123000 and monthly["name"] == "월간"
    product = mall.products[first["external_id"]]
    assert json.loads(product["_meta"]["gudok.links"]) == []
    assert product["_listings"][CHANNEL_ID]["isAvailableForPurchase"] is False


def test_the_malls_own_variants_and_products_are_never_taken_over(mall: CatalogMall) -> None:
    first = connector.push_box(make_context(), LISTING)
    product = mall.products[first["external_id"]]
    mall.variants["MALL-V"] = {"id": "MALL-V", "name": "몰 전용", "sku": "mall-only",
                               "externalReference": None, "_meta": {}, "_prices": {},
                               "_stocks": {}}
    product["_variants"].append("MALL-V")
    connector.push_box(make_context(), {**LISTING, "plans": LISTING["plans"][:1],
                                        "external_id": first["external_id"]})
    assert "MALL-V" in mall.variants
    # A product with the hub's slug that the hub did not make is refused, not overwritten.
    product["_meta"]["gudok.box_id"] = "999"
    product["externalReference"] = "someone-else"
    with pytest.raises(RecordError, match="belongs to"):
        connector.push_box(make_context(), listing(external_id=None))


def test_availability_is_pushed_as_absolute_stock(mall: CatalogMall) -> None:
    result = connector.push_box(make_context(), LISTING)
    connector.push_availability(make_context(), {**LISTING, "available": 12})
    for variant_id in result["variants"].values():
        assert mall.variants[variant_id]["_stocks"] == {WAREHOUSE_ID: 12}
    count = len(mall.mall.mutations)
    connector.push_availability(make_context(), {**LISTING, "available": 12})
    assert len(mall.mall.mutations) == count  # already so: nothing sent
    connector.push_availability(make_context(), {**LISTING, "available": 0})
    assert {v["_stocks"][WAREHOUSE_ID] for v in mall.variants.values()} == {0}


def test_availability_before_the_listing_is_a_record_error(mall: CatalogMall) -> None:
    with pytest.raises(RecordError, match="push its listing first"):
        connector.push_availability(make_context(), LISTING)


def test_a_configured_warehouse_must_belong_to_the_channel(mall: CatalogMall) -> None:
    with pytest.raises(ConfigurationError) as raised:
        connector.push_availability(make_context({"warehouse_slug": "busan"}), LISTING)
    assert "warehouse" in raised.value.fix
    mall.channel["currencyCode"] = "USD"
    with pytest.raises(ConfigurationError, match="not KRW"):
        connector.push_box(make_context(), LISTING)


def test_without_an_app_token_a_person_must_install_the_app() -> None:
    with pytest.raises(ConfigurationError) as raised:
        connector.push_box(make_context({"app_token": None}), LISTING)
    assert "/saleor/7/manifest" in raised.value.fix


def test_a_rejected_token_is_a_configuration_error(mall: CatalogMall) -> None:
    with pytest.raises(ConfigurationError) as raised:
        connector.push_box(make_context({"app_token": "wrong-token"}), LISTING)
    assert "permission" in raised.value.message


def test_check_connection_reports_missing_permissions(mall: CatalogMall) -> None:
    mall.mall.on("GudokShopInfo", lambda v: {
        "shop": {"name": "한빛몰", "version": "3.23.28", "domain": {"url": "x"},
                 "channelCurrencies": ["KRW"]},
        "app": {"id": "QXBwOjE=", "permissions": [{"code": "MANAGE_PRODUCTS"}]}})
    report = connector.check_connection(make_context())
    assert report["missing_permissions"] == ["MANAGE_ORDERS",
                                             "MANAGE_PRODUCT_TYPES_AND_ATTRIBUTES"]
    assert report["warehouse"] == "hanbit-wh"


def test_a_connection_stored_before_the_newer_fields_uses_their_defaults(
        mall: CatalogMall) -> None:
    ctx = make_context()
    for name in ("product_type_name", "category_slug", "warehouse_slug", "lookback_seconds",
                 "storefront_url_template"):
        del ctx.config[name]  # type: ignore[attr-defined]
    result = connector.push_box(ctx, LISTING)
    assert result["url"] is None
    assert [t["name"] for t in mall.product_types.values()] == ["구독 꾸러미"]
    assert [c["slug"] for c in mall.categories.values()] == ["gudok-boxes"]
