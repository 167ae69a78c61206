"""Test doubles for the Saleor connector: the real schema (parsed once), a stand-in for the
transport of connectors/http.py, RSA signing keys with their JWKS, and a small stateful
mall behind `responses` that checks every document and its variables against the schema."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import graphql
import requests
import responses
from cryptography.hazmat.primitives.asymmetric import rsa
from graphql.execution.values import get_variable_values
from jwt.algorithms import RSAAlgorithm

from connectors.base import ConnectionInfo, SyncContext
from connectors.saleor.webhooks import KeyCache, jwks_url
from hub.errors import ConfigurationError, RateLimited, RecordError, TransientError

SCHEMA_PATH = Path(__file__).resolve().parents[3].parent / "shared" / "reference" / \
    "saleor" / "schema.graphql"
API_URL = "https://mall.hanbit.example.kr/graphql/"
JWKS_URL = jwks_url(API_URL)
APP_TOKEN = "saleor-app-token-for-tests-4f9a"
CHANNEL_ID = base64.b64encode(b"Channel:1").decode()
WAREHOUSE_ID = base64.b64encode(b"Warehouse:1").decode()


@lru_cache(maxsize=1)
def saleor_schema() -> graphql.GraphQLSchema:
    return graphql.build_schema(SCHEMA_PATH.read_text(encoding="utf-8"))


class StandInTransport:
    """The signature of connectors.http.HttpClient.request, with its status table in small."""

    def __init__(self) -> None:
        self.session = requests.Session()
        self.calls: list[dict[str, Any]] = []

    def request(self, method: str, url: str, *, json: Any = None,
                headers: dict[str, str] | None = None, timeout: float | None = None,
                idempotent: bool = False) -> requests.Response:
        self.calls.append({"method": method, "url": url, "json": json,
                           "headers": dict(headers or {}), "idempotent": idempotent})
        try:
            response = self.session.request(method, url, json=json, headers=headers,
                                            timeout=timeout)
        except requests.RequestException as error:
            raise TransientError(f"{type(error).__name__}") from None
        status = response.status_code
        if 200 <= status < 300:
            return response
        if status in (401, 403):
            raise ConfigurationError(f"HTTP {status}", fix="check the credentials",
                                     status=status)
        if status == 429:
            raise RateLimited("HTTP 429", wait_seconds=1.0)
        if status >= 500:
            raise TransientError(f"HTTP {status}", status=status)
        raise RecordError(f"HTTP {status}", status=status)


def make_context(config: dict[str, Any] | None = None, *, connection_id: int = 7,
                 cache: KeyCache | None = None) -> SyncContext:
    full = {"api_url": API_URL, "channel_slug": "default-channel", "warehouse_slug": None,
            "product_type_name": "구독 꾸러미", "category_slug": "gudok-boxes",
            "storefront_url_template": "https://mall.hanbit.example.kr/products/{slug}",
            "lookback_seconds": 300, "app_token": APP_TOKEN, "legacy_webhook_secret": None,
            **(config or {})}
    return SyncContext(connection=ConnectionInfo(connection_id, 1, "saleor", "한빛몰"),
                       config=full, http=StandInTransport(),
                       log=logging.getLogger("gudok.connectors.saleor.test"),
                       extra={"saleor.jwks_cache": cache or KeyCache()})


@lru_cache(maxsize=4)
def rsa_key(name: str = "main") -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwk(private_key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    key = RSAAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
    return {**key, "kid": kid, "use": "sig", "alg": "RS256"}


def serve_jwks(mock: responses.RequestsMock, *keys: dict[str, Any]) -> Any:
    return mock.add(responses.GET, JWKS_URL, json={"keys": list(keys)})


Handler = Callable[[dict[str, Any]], dict[str, Any]]


class FakeMall:
    """Answers the connector's operations by name. Every request's document must be valid
    for the real schema and its variables must coerce to the declared input types."""

    def __init__(self, mock: responses.RequestsMock, token: str = APP_TOKEN) -> None:
        self.token = token
        self.operations: list[str] = []
        self.variables: list[dict[str, Any]] = []
        self.handlers: dict[str, Handler] = {}
        self._kinds: dict[str, bool] = {}
        mock.add_callback(responses.POST, API_URL, callback=self._answer,
                          content_type="application/json")

    def on(self, operation: str, handler: Handler) -> None:
        self.handlers[operation] = handler

    @property
    def mutations(self) -> list[str]:
        return [name for name in self.operations if self._kinds.get(name)]

    def _answer(self, request: Any) -> tuple[int, dict[str, str], str]:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return 200, {}, json.dumps({"data": None, "errors": [{
                "message": "You need one of the following permissions: MANAGE_PRODUCTS",
                "extensions": {"exception": {"code": "PermissionDenied"}}}]})
        body = json.loads(request.body)
        document = graphql.parse(body["query"])
        errors = graphql.validate(saleor_schema(), document)
        assert not errors, errors
        operation = next(d for d in document.definitions
                         if isinstance(d, graphql.OperationDefinitionNode))
        coerced = get_variable_values(saleor_schema(), operation.variable_definitions,
                                      body.get("variables") or {})
        assert isinstance(coerced, dict), coerced
        name = operation.name.value if operation.name else ""
        self._kinds[name] = operation.operation == graphql.OperationType.MUTATION
        self.operations.append(name)
        self.variables.append(body.get("variables") or {})
        handler = self.handlers.get(name)
        assert handler is not None, f"the fake mall has no answer for {name}"
        return 200, {}, json.dumps({"data": handler(body.get("variables") or {})})


def _gid(kind: str, number: int) -> str:
    return base64.b64encode(f"{kind}:{number}".encode()).decode()


def _meta(items: list[dict[str, str]] | None) -> dict[str, str]:
    return {item["key"]: item["value"] for item in items or []}


class CatalogMall:
    """The catalog part of a mall, in memory: product types, categories, products with
    variants, channel listings, metadata and stock, as the connector's operations use them."""

    def __init__(self, mall: FakeMall) -> None:
        self.mall = mall
        self.counter = 100
        self.product_types: dict[str, dict[str, Any]] = {}
        self.categories: dict[str, dict[str, Any]] = {}
        self.products: dict[str, dict[str, Any]] = {}
        self.variants: dict[str, dict[str, Any]] = {}
        self.channel = {"id": CHANNEL_ID, "slug": "default-channel", "isActive": True,
                        "currencyCode": "KRW",
                        "warehouses": [{"id": WAREHOUSE_ID, "slug": "hanbit-wh",
                                        "name": "한빛 물류"}]}
        for name, handler in {
            "GudokChannelContext": lambda v: {"channel": self.channel
                                              if v["slug"] == self.channel["slug"] else None},
            "GudokProductTypes": self.product_types_query,
            "GudokProductTypeCreate": self.product_type_create,
            "GudokCategoryBySlug": self.category_query,
            "GudokCategoryCreate": self.category_create,
            "GudokProductLookup": self.product_lookup,
            "GudokProductCreate": self.product_create,
            "GudokProductUpdate": self.product_update,
            "GudokProductChannelListingUpdate": self.product_listing,
            "GudokVariantBulkCreate": self.variant_bulk_create,
            "GudokVariantUpdate": self.variant_update,
            "GudokVariantDelete": self.variant_delete,
            "GudokVariantChannelListingUpdate": self.variant_listing,
            "GudokMetadataUpdate": self.metadata_update,
            "GudokVariantStocksUpdate": self.stocks_update,
        }.items():
            mall.on(name, handler)

    def _next(self, kind: str) -> str:
        self.counter += 1
        return _gid(kind, self.counter)

    def render_variant(self, variant: dict[str, Any]) -> dict[str, Any]:
        return {**{k: v for k, v in variant.items() if not k.startswith("_")},
                "metadata": [{"key": k, "value": v} for k, v in variant["_meta"].items()],
                "channelListings": [{"channel": {"id": CHANNEL_ID, "slug": "default-channel",
                                                 "currencyCode": "KRW"},
                                     "price": {"amount": float(price), "currency": "KRW"}}
                                    for price in variant["_prices"].values()],
                "stocks": [{"warehouse": {"id": wid, "slug": "hanbit-wh"}, "quantity": q}
                           for wid, q in variant["_stocks"].items()]}

    def render(self, product: dict[str, Any]) -> dict[str, Any]:
        variants = [self.render_variant(self.variants[vid]) for vid in product["_variants"]]
        return {**{k: v for k, v in product.items() if not k.startswith("_")},
                "metadata": [{"key": k, "value": v} for k, v in product["_meta"].items()],
                "channelListings": list(product["_listings"].values()),
                "productVariants": {"edges": [{"node": v} for v in variants]}}

    def product_types_query(self, v: dict[str, Any]) -> dict[str, Any]:
        return {"productTypes": {"edges": [{"node": t} for t in self.product_types.values()
                                           if v["search"] in t["name"]]}}

    def product_type_create(self, v: dict[str, Any]) -> dict[str, Any]:
        node = {"id": self._next("ProductType"), "name": v["input"]["name"],
                "slug": v["input"]["slug"], "kind": v["input"]["kind"]}
        self.product_types[node["id"]] = node
        return {"productTypeCreate": {"productType": node, "errors": []}}

    def category_query(self, v: dict[str, Any]) -> dict[str, Any]:
        return {"categories": {"edges": [{"node": c} for c in self.categories.values()
                                         if c["slug"] == v["slug"]]}}

    def category_create(self, v: dict[str, Any]) -> dict[str, Any]:
        node = {"id": self._next("Category"), "slug": v["input"]["slug"],
                "name": v["input"]["name"]}
        self.categories[node["id"]] = node
        return {"categoryCreate": {"category": node, "errors": []}}

    def product_lookup(self, v: dict[str, Any]) -> dict[str, Any]:
        for product in self.products.values():
            if (v.get("id") and product["id"] == v["id"]) or \
                    (v.get("slug") and product["slug"] == v["slug"]) or \
                    (v.get("externalReference")
                     and product["externalReference"] == v["externalReference"]):
                return {"product": self.render(product)}
        return {"product": None}

    def product_create(self, v: dict[str, Any]) -> dict[str, Any]:
        data = v["input"]
        if any(p["slug"] == data["slug"] for p in self.products.values()):
            return {"productCreate": {"product": None, "errors": [
                {"field": "slug", "message": "Product with this Slug already exists.",
                 "code": "UNIQUE"}]}}
        product = {"id": self._next("Product"), "name": data["name"], "slug": data["slug"],
                   "description": data.get("description"),
                   "externalReference": data.get("externalReference"),
                   "updatedAt": "2026-11-29T10:00:00+00:00",
                   "category": {"id": data.get("category"), "slug": "gudok-boxes"},
                   "productType": {"id": data["productType"], "name": "구독 꾸러미"},
                   "media": [], "_meta": _meta(data.get("metadata")), "_listings": {},
                   "_variants": []}
        self.products[product["id"]] = product
        return {"productCreate": {"product": self.render(product), "errors": []}}

    def product_update(self, v: dict[str, Any]) -> dict[str, Any]:
        product = self.products[v["id"]]
        for key in ("name", "slug", "description", "externalReference"):
            if key in v["input"]:
                product[key] = v["input"][key]
        return {"productUpdate": {"product": {"id": product["id"]}, "errors": []}}

    def product_listing(self, v: dict[str, Any]) -> dict[str, Any]:
        product = self.products[v["id"]]
        for entry in v["input"]["updateChannels"]:
            product["_listings"][entry["channelId"]] = {
                "channel": {"id": entry["channelId"], "slug": "default-channel"},
                **{k: entry[k] for k in ("isPublished", "visibleInListings",
                                         "isAvailableForPurchase")}}
        return {"productChannelListingUpdate": {"product": {"id": product["id"]},
                                                "errors": []}}

    def variant_bulk_create(self, v: dict[str, Any]) -> dict[str, Any]:
        product = self.products[v["product"]]
        results = []
        for data in v["variants"]:
            variant = {"id": self._next("ProductVariant"), "name": data["name"],
                       "sku": data["sku"], "externalReference": data.get("externalReference"),
                       "updatedAt": "2026-11-29T10:00:00+00:00",
                       "_meta": _meta(data.get("metadata")),
                       "_prices": {c["channelId"]: c["price"]
                                   for c in data.get("channelListings") or []},
                       "_stocks": {}}
            self.variants[variant["id"]] = variant
            product["_variants"].append(variant["id"])
            results.append({"productVariant": self.render_variant(variant), "errors": []})
        return {"productVariantBulkCreate": {"count": len(results), "results": results,
                                             "errors": []}}

    def variant_update(self, v: dict[str, Any]) -> dict[str, Any]:
        variant = self.variants[v["id"]]
        variant.update({k: v["input"][k] for k in ("sku", "name", "externalReference")
                        if k in v["input"]})
        return {"productVariantUpdate": {"productVariant": {"id": variant["id"]},
                                         "errors": []}}

    def variant_delete(self, v: dict[str, Any]) -> dict[str, Any]:
        self.variants.pop(v["id"])
        for product in self.products.values():
            if v["id"] in product["_variants"]:
                product["_variants"].remove(v["id"])
        return {"productVariantDelete": {"productVariant": {"id": v["id"]}, "errors": []}}

    def variant_listing(self, v: dict[str, Any]) -> dict[str, Any]:
        variant = self.variants[v["id"]]
        for entry in v["input"]:
            variant["_prices"][entry["channelId"]] = entry["price"]
        return {"productVariantChannelListingUpdate": {"variant": {"id": variant["id"]},
                                                       "errors": []}}

    def metadata_update(self, v: dict[str, Any]) -> dict[str, Any]:
        target = self.products.get(v["id"]) or self.variants[v["id"]]
        target["_meta"].update(_meta(v["input"]))
        return {"updateMetadata": {"item": {"metadata": []}, "errors": []}}

    def stocks_update(self, v: dict[str, Any]) -> dict[str, Any]:
        variant = self.variants[v["variantId"]]
        for stock in v["stocks"]:
            variant["_stocks"][stock["warehouse"]] = stock["quantity"]
        return {"productVariantStocksUpdate": {"productVariant": {"id": variant["id"]},
                                               "errors": []}}
