"""Shared pieces of the sandbox tests: a stand-in for the hub (manifest, register endpoint,
webhook receiver) served by a tiny Flask app on loopback, and GraphQL documents."""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

import requests
from flask import Flask, jsonify, request
from werkzeug.serving import make_server

from connectors.saleor.sandbox import SaleorSandbox

PERMISSIONS = ["MANAGE_PRODUCTS", "MANAGE_ORDERS", "MANAGE_PRODUCT_TYPES_AND_ATTRIBUTES"]
EVENTS = ["PRODUCT_CREATED", "PRODUCT_UPDATED", "PRODUCT_DELETED",
          "PRODUCT_VARIANT_STOCK_UPDATED", "ORDER_CREATED", "ORDER_UPDATED",
          "ORDER_FULLY_PAID", "ORDER_CANCELLED", "ORDER_FULLY_REFUNDED", "FULFILLMENT_CREATED"]
SUBSCRIPTION = """
subscription {
  event {
    __typename
    issuedAt
    ... on OrderCreated { order { ...O } }
    ... on OrderUpdated { order { ...O } }
    ... on OrderFullyPaid { order { ...O } }
    ... on OrderCancelled { order { ...O } }
    ... on OrderFullyRefunded { order { ...O } }
    ... on FulfillmentCreated { fulfillment { id trackingNumber } order { ...O } }
    ... on ProductCreated { product { ...P } }
    ... on ProductUpdated { product { ...P } }
    ... on ProductDeleted { product { id name } }
    ... on ProductVariantStockUpdated {
      productVariant { id sku stocks { warehouse { id } quantity } }
      warehouse { id }
    }
  }
}
fragment O on Order {
  id number status paymentStatus updatedAt
  total { gross { amount currency } }
  lines { id productSku quantity }
}
fragment P on Product { id name updatedAt metadata { key value } }
"""
PRODUCTS_QUERY = """
query Products($first: Int!, $after: String, $filter: ProductFilterInput, $channel: String) {
  products(first: $first, after: $after, filter: $filter, channel: $channel) {
    edges {
      node {
        id name slug description updatedAt
        productType { id name }
        metadata { key value }
        variants {
          id sku name metadata { key value }
          stocks { warehouse { id } quantity }
          channelListings { channel { slug } price { amount currency } }
        }
        channelListings { channel { slug } isPublished }
      }
      cursor
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""
ORDERS_QUERY = """
query Orders($first: Int, $after: String, $filter: OrderFilterInput) {
  orders(first: $first, after: $after, filter: $filter,
         sortBy: {field: LAST_MODIFIED_AT, direction: ASC}) {
    edges {
      node {
        id number status paymentStatus created updatedAt
        total { gross { amount currency } }
        lines {
          id productSku variant { id product { id } } quantity unitPrice { gross { amount } }
        }
        metadata { key value }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""


class Hub:
    """Stands in for the hub: serves a manifest, takes the token, records webhooks."""

    def __init__(self, permissions: list[str] | None = None,
                 events: list[str] | None = None) -> None:
        self.permissions = PERMISSIONS if permissions is None else permissions
        self.events = EVENTS if events is None else events
        self.tokens: list[tuple[str, dict[str, str]]] = []
        self.callbacks: list[Any] = []
        self.manifest_headers: list[dict[str, str]] = []
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.statuses: deque[int] = deque()
        self.register_status = 200
        self._cond = threading.Condition()
        app = Flask("hub_stand_in")

        @app.get("/manifest")
        def manifest() -> Any:
            self.manifest_headers.append(dict(request.headers))
            return jsonify(self.manifest())

        @app.post("/register")
        def register() -> Any:
            token = request.get_json()["auth_token"]
            self.tokens.append((token, dict(request.headers)))
            # A real app checks the token by calling back into the mall while registering.
            answer = requests.post(request.headers["Saleor-Api-Url"],
                                   json={"query": "{ app { id name } }"},
                                   headers={"Authorization": f"Bearer {token}"}, timeout=5)
            self.callbacks.append(answer.json())
            return jsonify({"success": True}), self.register_status

        @app.post("/webhooks")
        def webhook() -> Any:
            with self._cond:
                self.received.append((dict(request.headers), request.get_data()))
                self._cond.notify_all()
                status = self.statuses.popleft() if self.statuses else 200
            return jsonify({}), status

        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def manifest(self) -> dict[str, Any]:
        return {"id": "kr.gudok.hub", "name": "Gudok Hub", "version": "1.0.0",
                "permissions": self.permissions, "tokenTargetUrl": f"{self.url}/register",
                "appUrl": self.url,
                "webhooks": [{"name": "hub events", "asyncEvents": self.events,
                              "query": SUBSCRIPTION, "targetUrl": f"{self.url}/webhooks",
                              "isActive": True}]}

    def start(self) -> Hub:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def events_received(self) -> list[str]:
        return [headers["Saleor-Event"] for headers, _ in self.received]


def gql(sandbox: SaleorSandbox, query: str, variables: dict[str, Any] | None = None,
        token: str | None = None, timeout: float = 10.0) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.post(sandbox.graphql_url, json={"query": query, "variables": variables},
                         headers=headers, timeout=timeout)


def data(sandbox: SaleorSandbox, query: str, variables: dict[str, Any] | None = None,
         token: str | None = None) -> dict[str, Any]:
    response = gql(sandbox, query, variables, token)
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    result: dict[str, Any] = body["data"]
    return result


def push_box(sandbox: SaleorSandbox, token: str) -> dict[str, str]:
    """A product with two variants (plans), listed, priced and stocked; returns ids."""
    kind = data(sandbox, """mutation($i: ProductTypeInput!) { productTypeCreate(input: $i) {
        productType { id } errors { field code message } } }""",
                {"i": {"name": "Subscription box", "hasVariants": True}}, token)
    type_id = kind["productTypeCreate"]["productType"]["id"]
    created = data(sandbox, """mutation($i: ProductCreateInput!) { productCreate(input: $i) {
        product { id } errors { field code message } } }""",
                   {"i": {"productType": type_id, "name": "제주 감귤 꾸러미",
                          "category": sandbox.category_id, "attributes": [],
                          "description": '{"blocks": [{"type": "paragraph", '
                                         '"data": {"text": "Tangerines"}}]}'}}, token)
    product_id = created["productCreate"]["product"]["id"]
    channel = sandbox.default_channel_id
    data(sandbox, """mutation($id: ID!, $i: ProductChannelListingUpdateInput!) {
        productChannelListingUpdate(id: $id, input: $i) { errors { field code message } } }""",
         {"id": product_id, "i": {"updateChannels": [{
             "channelId": channel, "isPublished": True, "visibleInListings": True,
             "isAvailableForPurchase": True}]}}, token)
    seoul, jeju = sandbox.warehouse_ids
    bulk = data(sandbox, """mutation($p: ID!, $v: [ProductVariantBulkCreateInput!]!) {
        productVariantBulkCreate(product: $p, variants: $v) {
          count productVariants { id sku } errors { field code message index } } }""",
                {"p": product_id, "v": [
                    {"sku": "JEJU-W", "name": "Weekly", "attributes": [], "trackInventory": True,
                     "channelListings": [{"channelId": channel, "price": "19900"}],
                     "stocks": [{"warehouse": seoul, "quantity": 10}]},
                    {"sku": "JEJU-M", "name": "Monthly", "attributes": [],
                     "trackInventory": True,
                     "channelListings": [{"channelId": channel, "price": 59000}],
                     "stocks": [{"warehouse": jeju, "quantity": 4}]}]}, token)
    assert bulk["productVariantBulkCreate"]["count"] == 2, bulk
    weekly, monthly = (v["id"] for v in bulk["productVariantBulkCreate"]["productVariants"])
    return {"type": type_id, "product": product_id, "weekly": weekly, "monthly": monthly,
            "seoul": seoul, "jeju": jeju, "channel": channel}
