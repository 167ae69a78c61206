"""The Saleor connector passes the shared conformance suite: failure classification through
the real transport, and idempotency, cursors and log redaction against the sandbox mall."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from connectors.base import ConnectionInfo, Page, SyncContext, redacting_logger
from connectors.conformance import ConnectorConformance
from connectors.http import HttpClient
from connectors.saleor import SaleorConnector
from connectors.saleor.manifest import REQUIRED_PERMISSIONS
from connectors.saleor.sandbox import SaleorSandbox
from connectors.saleor.streams import parse_cursor
from hub.schemas.canonical import BoxListingSchema

LOOPBACK = ["127.0.0.1", "::1", "localhost"]
LEGACY_SECRET = "legacy-hmac-secret-9f3c1e"
CONNECTION = ConnectionInfo(id=9001, tenant_id=1, connector="saleor", name="conformance mall")
LISTING: dict[str, Any] = BoxListingSchema().load({
    "box_id": 501, "tenant_id": 1, "code": "conformance.box", "title": "적합성 시험 꾸러미",
    "description": "한 달에 한 번 오는 제철 꾸러미.", "images": [], "category": "produce",
    "status": "active", "box_version": 1, "available": 7,
    "plans": [
        {"plan_id": 601, "code": "monthly-3", "name": "월간 3회 선결제", "cadence": "monthly",
         "prepaid_rounds": 3, "term_rounds": None, "round_price": 39000},
        {"plan_id": 602, "code": "weekly-1", "name": "주간", "cadence": "weekly",
         "prepaid_rounds": 1, "term_rounds": 12, "round_price": 15000},
    ],
    "links": [], "external_id": None,
})
MALL_STATE = """
query MallState($first: Int!) {
  products(first: $first) {
    edges { node {
      id name slug description updatedAt externalReference
      productType { id name } category { id slug }
      metadata { key value } privateMetadata { key value }
      channelListings { channel { slug } isPublished visibleInListings isAvailableForPurchase }
      variants {
        id sku name updatedAt externalReference trackInventory
        metadata { key value } privateMetadata { key value }
        stocks { warehouse { id } quantity quantityAllocated }
        channelListings { channel { slug } price { amount currency } }
      }
    } }
  }
  productTypes(first: $first) { edges { node { id name slug } } }
  categories(first: $first) { edges { node { id slug name } } }
}
"""
_connection_ids = itertools.count(1)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SaleorSandbox]:
    """One running mall with a shopper's product and two orders, so cursors are real."""
    mall = SaleorSandbox().start()
    try:
        variant = _mall_variant(mall)
        mall.place_order([(variant, 1)])
        mall.place_order([(variant, 2)])
        yield mall
    finally:
        mall.stop()


def _mall_variant(mall: SaleorSandbox) -> str:
    product_id = mall.create_product("장터 사과", variants=[
        {"sku": "APPLE-1", "name": "1kg", "price": 12000, "stocks": {"seoul-central": 50}}])
    answer = mall.execute("query($id: ID!) { product(id: $id) { variants { id } } }",
                          {"id": product_id}, superuser=True)
    return str(answer["data"]["product"]["variants"][0]["id"])


@pytest.fixture(scope="module")
def app_token(sandbox: SaleorSandbox) -> str:
    """An app made in the mall directly (no handshake), with what the connector needs."""
    return sandbox.create_app("Gudok Hub (conformance)", REQUIRED_PERMISSIONS).token


@pytest.fixture(autouse=True)
def _no_leftover_faults(sandbox: SaleorSandbox) -> Iterator[None]:
    yield
    sandbox.faults.reset()


class TestSaleorConformance(ConnectorConformance):
    connector = SaleorConnector

    @pytest.fixture
    def valid_config(self, sandbox: SaleorSandbox, app_token: str) -> dict[str, Any]:
        return {"api_url": sandbox.graphql_url, "channel_slug": "default-channel",
                "warehouse_slug": "seoul-central", "product_type_name": "구독 꾸러미",
                "category_slug": "gudok-boxes",
                "storefront_url_template": "http://127.0.0.1/products/{slug}",
                "lookback_seconds": 300, "app_token": app_token,
                "legacy_webhook_secret": LEGACY_SECRET}

    @pytest.fixture
    def make_context(self) -> Iterator[Callable[[dict[str, Any]], SyncContext]]:
        clients: list[HttpClient] = []

        def make(config: dict[str, Any]) -> SyncContext:
            # A fresh connection id each time: no circuit breaker or token bucket carries
            # failures from one test into the next.
            http = HttpClient(f"saleor-conformance-{next(_connection_ids)}",
                              allow_hosts=LOOPBACK, sleep=lambda _seconds: None,
                              max_attempts=2, connect_timeout=2.0, read_timeout=5.0,
                              rate_per_second=1000.0, burst=1000)
            clients.append(http)
            secrets = [str(config[name]) for name in SaleorConnector.secret_fields()
                       if config.get(name)]
            return SyncContext(connection=CONNECTION, config=dict(config), http=http,
                               log=redacting_logger(f"saleor.{CONNECTION.id}", secrets))

        yield make
        for client in clients:
            client.close()

    @pytest.fixture
    def platform_url(self, sandbox: SaleorSandbox) -> str:
        return sandbox.url

    @pytest.fixture
    def read_once(self) -> Callable[[SyncContext], Page]:
        return lambda ctx: SaleorConnector().pull_orders(ctx, None, datetime.now(UTC))

    @pytest.fixture
    def write_once(self) -> Callable[[SyncContext], dict[str, Any]]:
        def write(ctx: SyncContext) -> dict[str, Any]:
            connector = SaleorConnector()
            listing = copy.deepcopy(LISTING)
            result = connector.push_box(ctx, listing)
            connector.push_availability(ctx, listing)
            return result

        return write

    @pytest.fixture
    def platform_state(self, sandbox: SaleorSandbox) -> Callable[[], dict[str, Any]]:
        """Everything a push can touch, updatedAt included: a no-op must not bump it."""

        def snapshot() -> dict[str, Any]:
            answer = sandbox.execute(MALL_STATE, {"first": 100}, superuser=True)
            assert "errors" not in answer, answer
            state: dict[str, Any] = answer["data"]
            return state

        return snapshot

    @pytest.fixture
    def stream_page(self) -> Callable[[SyncContext, str | None], Page]:
        return lambda ctx, cursor: SaleorConnector().pull_orders(ctx, cursor,
                                                                 datetime.now(UTC))

    @pytest.fixture
    def cursor_order(self) -> Callable[[str], datetime]:
        def order(cursor: str) -> datetime:
            moment = parse_cursor(cursor)
            assert moment is not None
            return moment

        return order

    # --- Saleor-specific checks that make the generic ones meaningful -------------------

    def test_the_mall_has_orders_for_the_cursor_test(
            self, make_context: Callable[[dict[str, Any]], SyncContext],
            valid_config: dict[str, Any]) -> None:
        page = SaleorConnector().pull_orders(make_context(valid_config), None,
                                             datetime.now(UTC))
        assert len(page.records) >= 2 and page.cursor is not None

    def test_the_write_reaches_the_mall(
            self, make_context: Callable[[dict[str, Any]], SyncContext],
            valid_config: dict[str, Any], write_once: Callable[[SyncContext], dict[str, Any]],
            platform_state: Callable[[], dict[str, Any]]) -> None:
        result = write_once(make_context(valid_config))
        products = {e["node"]["id"]: e["node"] for e in platform_state()["products"]["edges"]}
        product = products[result["external_id"]]
        assert set(result["variants"]) == {601, 602}
        assert {v["id"] for v in product["variants"]} == set(result["variants"].values())
        for variant in product["variants"]:
            assert [s["quantity"] for s in variant["stocks"]] == [7]
