"""Per-entity operations in Saleor's own terms (channel, product type, product, variant,
stock, order). Each is one or two GraphQL calls through the client; no hub concepts here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from connectors.saleor import documents as doc
from connectors.saleor.client import Connection, SaleorClient, raise_payload_errors
from hub.errors import ConfigurationError, RecordError

PRODUCT_TYPE_SLUG = "gudok-subscription-box"


@dataclass(frozen=True)
class MallChannel:
    """Where the hub sells in the mall: one channel, its currency, one warehouse."""

    channel_id: str
    channel_slug: str
    currency: str
    warehouse_id: str
    warehouse_slug: str


def channel_context(client: SaleorClient, channel_slug: str,
                    warehouse_slug: str | None) -> MallChannel:
    """The configured channel and warehouse, or a ConfigurationError saying what to fix."""
    channel = client.execute(doc.CHANNEL_CONTEXT, {"slug": channel_slug}).get("channel")
    if not isinstance(channel, Mapping) or not channel.get("id"):
        raise ConfigurationError(f"The mall has no channel {channel_slug!r}.",
                                 fix="Set channel_slug to a channel that exists in the mall.")
    currency = channel.get("currencyCode")
    if currency != "KRW":
        raise ConfigurationError(
            f"Channel {channel_slug!r} sells in {str(currency)[:10]}, not KRW.",
            fix="Point channel_slug at the mall's KRW channel.")
    warehouses = [w for w in channel.get("warehouses") or []
                  if isinstance(w, Mapping) and w.get("id")]
    if warehouse_slug:
        warehouses = [w for w in warehouses if w.get("slug") == warehouse_slug]
    if not warehouses:
        raise ConfigurationError(
            f"Channel {channel_slug!r} has no warehouse "
            f"{warehouse_slug!r}." if warehouse_slug else
            f"Channel {channel_slug!r} has no warehouse.",
            fix="Assign a warehouse to the channel in the mall, or set warehouse_slug to "
                "one of the channel's warehouses.")
    chosen = warehouses[0]
    return MallChannel(str(channel["id"]), channel_slug, "KRW", str(chosen["id"]),
                       str(chosen.get("slug") or ""))


def find_product_type(client: SaleorClient, name: str) -> str | None:
    edges = (client.execute(doc.PRODUCT_TYPES, {"search": name}).get("productTypes")
             or {}).get("edges") or []
    for edge in edges:
        node = edge.get("node") if isinstance(edge, Mapping) else None
        if isinstance(node, Mapping) and node.get("name") == name and node.get("id"):
            return str(node["id"])
    return None


def ensure_product_type(client: SaleorClient, name: str) -> str:
    """The subscription product type's id, created when the mall has none by that name."""
    found = find_product_type(client, name)
    if found:
        return found
    payload = client.mutate(doc.PRODUCT_TYPE_CREATE, {"input": {
        "name": name, "slug": PRODUCT_TYPE_SLUG, "kind": "NORMAL", "hasVariants": True,
        "isShippingRequired": True}}, "productTypeCreate", record=name)
    return _id_of(payload.get("productType"), "productTypeCreate")


def ensure_category(client: SaleorClient, slug: str, name: str) -> str:
    """Saleor publishes no product without a category; the hub's boxes share one."""
    edges = (client.execute(doc.CATEGORY_BY_SLUG, {"slug": slug}).get("categories")
             or {}).get("edges") or []
    for edge in edges:
        node = edge.get("node") if isinstance(edge, Mapping) else None
        if isinstance(node, Mapping) and node.get("slug") == slug and node.get("id"):
            return str(node["id"])
    payload = client.mutate(doc.CATEGORY_CREATE, {"input": {"name": name, "slug": slug}},
                            "categoryCreate", record=slug)
    return _id_of(payload.get("category"), "categoryCreate")


def find_product(client: SaleorClient, *, product_id: str | None = None,
                 reference: str | None = None, slug: str | None = None
                 ) -> dict[str, Any] | None:
    """One product by exactly one of its id, external reference or slug."""
    given = {key: value for key, value in (("id", product_id), ("externalReference", reference),
                                           ("slug", slug)) if value}
    if len(given) != 1:
        raise ValueError("look a product up by exactly one key")
    product = client.execute(doc.PRODUCT_LOOKUP, given).get("product")
    return dict(product) if isinstance(product, Mapping) and product.get("id") else None


def product_variants(product: Mapping[str, Any]) -> list[dict[str, Any]]:
    connection = product.get("productVariants")
    edges = connection.get("edges") if isinstance(connection, Mapping) else None
    return [dict(edge["node"]) for edge in edges or []
            if isinstance(edge, Mapping) and isinstance(edge.get("node"), Mapping)
            and edge["node"].get("id")]


def create_product(client: SaleorClient, product_input: Mapping[str, Any],
                   record: str) -> dict[str, Any]:
    payload = client.mutate(doc.PRODUCT_CREATE, {"input": dict(product_input)},
                            "productCreate", record=record)
    product = payload.get("product")
    _id_of(product, "productCreate")
    return dict(product)  # type: ignore[arg-type]


def update_product(client: SaleorClient, product_id: str, product_input: Mapping[str, Any],
                   record: str) -> None:
    client.mutate(doc.PRODUCT_UPDATE, {"id": product_id, "input": dict(product_input)},
                  "productUpdate", idempotent=True, record=record)


def set_product_listing(client: SaleorClient, product_id: str,
                        listing_input: Mapping[str, Any], record: str) -> None:
    client.mutate(doc.PRODUCT_CHANNEL_LISTING_UPDATE,
                  {"id": product_id, "input": dict(listing_input)},
                  "productChannelListingUpdate", idempotent=True, record=record)


def create_variants(client: SaleorClient, product_id: str,
                    inputs: list[dict[str, Any]], record: str) -> list[dict[str, Any]]:
    """New variants, in the order of the inputs; all or none are created."""
    payload = client.mutate(doc.VARIANT_BULK_CREATE,
                            {"product": product_id, "variants": inputs},
                            "productVariantBulkCreate", record=record)
    results = payload.get("results")
    if not isinstance(results, list) or len(results) != len(inputs):
        raise RecordError("productVariantBulkCreate: the mall returned the wrong number of "
                          "results", record=record)
    created = []
    for index, result in enumerate(results):
        if not isinstance(result, Mapping):
            raise RecordError(f"productVariantBulkCreate: result {index} is malformed",
                              record=record)
        if result.get("errors"):
            raise_payload_errors(f"productVariantBulkCreate[{index}]", result["errors"],
                                 record=record)
        variant = result.get("productVariant")
        _id_of(variant, "productVariantBulkCreate")
        created.append(dict(variant))  # type: ignore[arg-type]
    return created


def update_variant(client: SaleorClient, variant_id: str, variant_input: Mapping[str, Any],
                   record: str) -> None:
    client.mutate(doc.VARIANT_UPDATE, {"id": variant_id, "input": dict(variant_input)},
                  "productVariantUpdate", idempotent=True, record=record)


def delete_variant(client: SaleorClient, variant_id: str, record: str) -> None:
    client.mutate(doc.VARIANT_DELETE, {"id": variant_id}, "productVariantDelete",
                  idempotent=True, record=record)


def set_variant_listing(client: SaleorClient, variant_id: str,
                        listing_input: list[dict[str, Any]], record: str) -> None:
    client.mutate(doc.VARIANT_CHANNEL_LISTING_UPDATE,
                  {"id": variant_id, "input": listing_input},
                  "productVariantChannelListingUpdate", idempotent=True, record=record)


def update_metadata(client: SaleorClient, object_id: str, items: list[dict[str, str]],
                    record: str) -> None:
    client.mutate(doc.METADATA_UPDATE, {"id": object_id, "input": items}, "updateMetadata",
                  idempotent=True, record=record)


def set_stock(client: SaleorClient, variant_id: str, warehouse_id: str, quantity: int,
              record: str) -> None:
    """Absolute quantity in one warehouse (Saleor creates the stock row if missing)."""
    client.mutate(doc.VARIANT_STOCKS_UPDATE,
                  {"variantId": variant_id,
                   "stocks": [{"warehouse": warehouse_id, "quantity": quantity}]},
                  "productVariantStocksUpdate", idempotent=True, record=record)


def orders_page(client: SaleorClient, gte: str | None, lte: str, *,
                after: str | None = None) -> Connection:
    """Orders changed in [gte, lte], oldest change first, at most 100."""
    return client.page(doc.ORDERS_PAGE, {"gte": gte, "lte": lte}, ("orders",), after=after)


def products_page(client: SaleorClient, channel_slug: str, product_type_id: str,
                  gte: str | None, lte: str, *, after: str | None = None) -> Connection:
    """Products of one type changed in [gte, lte], as the channel shows them, oldest
    change first."""
    window: dict[str, Any] = {"lte": lte}
    if gte:
        window["gte"] = gte
    return client.page(doc.PRODUCTS_PAGE,
                       {"channel": channel_slug,
                        "filter": {"updatedAt": window, "productTypes": [product_type_id]}},
                       ("products",), after=after)


def order_fulfilment_state(client: SaleorClient, order_id: str) -> dict[str, Any]:
    order = client.execute(doc.ORDER_FULFILMENT_STATE, {"id": order_id}).get("order")
    if not isinstance(order, Mapping) or not order.get("id"):
        raise RecordError(f"the mall has no order {order_id}", record=order_id)
    return dict(order)


def add_order_note(client: SaleorClient, order_id: str, message: str) -> None:
    client.mutate(doc.ORDER_NOTE_ADD, {"order": order_id, "input": {"message": message}},
                  "orderNoteAdd", record=order_id)


def fulfil_order(client: SaleorClient, order_id: str, fulfil_input: Mapping[str, Any]
                 ) -> list[dict[str, Any]]:
    payload = client.mutate(doc.ORDER_FULFIL, {"order": order_id, "input": dict(fulfil_input)},
                            "orderFulfill", record=order_id)
    return [dict(f) for f in payload.get("fulfillments") or [] if isinstance(f, Mapping)]


def app_identity(client: SaleorClient) -> dict[str, Any]:
    """The installed app as the mall sees it: proves a token is the mall's own."""
    app = client.execute(doc.APP_IDENTITY).get("app")
    if not isinstance(app, Mapping) or not app.get("id"):
        raise ConfigurationError("The mall does not recognise the app token.",
                                 fix="Re-install the Gudok Hub app in the mall.")
    return dict(app)


def shop_info(client: SaleorClient) -> dict[str, Any]:
    return client.execute(doc.SHOP_INFO)


def _id_of(value: Any, root: str) -> str:
    if not isinstance(value, Mapping) or not value.get("id"):
        raise RecordError(f"{root}: the mall returned no object")
    return str(value["id"])
