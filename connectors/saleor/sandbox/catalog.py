"""Catalog operations shared by the mutations and the Python seeding helpers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from connectors.saleor.sandbox.context import error
from connectors.saleor.sandbox.store import Rec, Store, currency_digits, money


def listing_in(product: Rec, channel: Rec) -> Rec | None:
    return next((cl for cl in product["channelListings"] if cl["channel"] is channel), None)


def variant_listing_in(variant: Rec, channel: Rec) -> Rec | None:
    return next((cl for cl in variant["channelListings"] if cl["channel"] is channel), None)


def price_error(value: Decimal | None, currency: str, field_name: str,
                **extra: Any) -> Rec | None:
    """Saleor refuses prices with more decimal places than the currency has."""
    if value is None:
        return None
    digits = currency_digits(currency)
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > digits:
        return error(field_name, "INVALID",
                     f"Ensure that there are no more than {digits} decimal places.", **extra)
    if value >= Decimal("1e12"):
        return error(field_name, "INVALID", "Value must be lower than 1000000000000.", **extra)
    return None


def new_product(store: Store, *, name: str, slug: str, product_type: Rec,
                category: Rec | None = None, description: Any = None, **fields: Any) -> Rec:
    values: Rec = {
        "name": name, "slug": slug, "productType": product_type, "category": category,
        "description": description, "descriptionJson": description, "chargeTaxes": True,
        "rating": None, "seoTitle": None, "seoDescription": None, "externalReference": None,
        "weight": None, "variants": [], "channelListings": [], "collections": [], "media": [],
        "images": [], "attributes": [], "assignedAttributes": []}
    values.update(fields)
    return store.new("Product", **values)


def new_variant(store: Store, product: Rec, *, sku: str | None, name: str = "",
                track_inventory: bool = True, **fields: Any) -> Rec:
    values: Rec = {
        "sku": sku, "name": name, "product": product, "trackInventory": track_inventory,
        "quantityLimitPerCustomer": None, "weight": None, "externalReference": None,
        "stocks": [], "channelListings": [], "attributes": [], "assignedAttributes": [],
        "media": [], "images": [], "preorder": None, "margin": None}
    values.update(fields)
    variant = store.new("ProductVariant", **values)
    product["variants"].append(variant)
    return variant


def set_product_listing(store: Store, product: Rec, channel: Rec, data: dict[str, Any]) -> Rec:
    listing = listing_in(product, channel)
    if listing is None:
        listing = store.new("ProductChannelListing", channel=channel, isPublished=False,
                            publishedAt=None, publicationDate=None, visibleInListings=False,
                            isAvailableForPurchase=False, availableForPurchaseAt=None,
                            availableForPurchase=None, product=product)
        product["channelListings"].append(listing)
    now = store.now()
    if data.get("isPublished") is not None:
        listing["isPublished"] = data["isPublished"]
    published_at = data.get("publishedAt") or data.get("publicationDate")
    if published_at is not None:
        listing["publishedAt"] = published_at
    elif listing["isPublished"] and listing["publishedAt"] is None:
        listing["publishedAt"] = now
    if listing["publishedAt"] is not None and hasattr(listing["publishedAt"], "date"):
        listing["publicationDate"] = listing["publishedAt"].date()
    if data.get("visibleInListings") is not None:
        listing["visibleInListings"] = data["visibleInListings"]
    available_at = data.get("availableForPurchaseAt") or data.get("availableForPurchaseDate")
    if data.get("isAvailableForPurchase") is False:
        listing["availableForPurchaseAt"] = None
    elif available_at is not None:
        listing["availableForPurchaseAt"] = available_at
    elif data.get("isAvailableForPurchase") and listing["availableForPurchaseAt"] is None:
        listing["availableForPurchaseAt"] = now
    listing["isAvailableForPurchase"] = listing["availableForPurchaseAt"] is not None
    at = listing["availableForPurchaseAt"]
    listing["availableForPurchase"] = at.date() if hasattr(at, "date") else at
    for variant in data.get("_add_variants", ()):
        if variant_listing_in(variant, channel) is None:
            set_variant_listing(store, variant, channel, {})
    for variant in data.get("_remove_variants", ()):
        remove_variant_listing(store, variant, channel)
    return listing


def remove_product_listing(store: Store, product: Rec, channel: Rec) -> None:
    listing = listing_in(product, channel)
    if listing is not None:
        product["channelListings"].remove(listing)
        store.delete(listing)
    for variant in product["variants"]:
        remove_variant_listing(store, variant, channel)


def set_variant_listing(store: Store, variant: Rec, channel: Rec, data: dict[str, Any]) -> Rec:
    listing = variant_listing_in(variant, channel)
    if listing is None:
        listing = store.new("ProductVariantChannelListing", channel=channel, price=None,
                            costPrice=None, priorPrice=None, preorderThreshold=None,
                            margin=None, _price=None)
        variant["channelListings"].append(listing)
    currency = channel["currencyCode"]
    for key in ("price", "costPrice", "priorPrice"):
        if key in data:
            value = data[key]
            listing[key] = None if value is None else money(value, currency)
            if key == "price":
                listing["_price"] = value
    return listing


def remove_variant_listing(store: Store, variant: Rec, channel: Rec) -> None:
    listing = variant_listing_in(variant, channel)
    if listing is not None:
        variant["channelListings"].remove(listing)
        store.delete(listing)


def stock_in(variant: Rec, warehouse: Rec) -> Rec | None:
    return next((s for s in variant["stocks"] if s["warehouse"] is warehouse), None)


def set_stock(store: Store, variant: Rec, warehouse: Rec, quantity: int) -> tuple[Rec, int]:
    """Sets the absolute quantity; returns the stock and its quantity before."""
    stock = stock_in(variant, warehouse)
    if stock is None:
        stock = store.new("Stock", warehouse=warehouse, productVariant=variant, quantity=0,
                          quantityAllocated=0, quantityReserved=0)
        variant["stocks"].append(stock)
    before = stock["quantity"]
    stock["quantity"] = quantity
    return stock, before


def delete_variant(store: Store, variant: Rec) -> None:
    product = variant["product"]
    if variant in product["variants"]:
        product["variants"].remove(variant)
    for record in [*variant["stocks"], *variant["channelListings"]]:
        store.delete(record)
    store.delete(variant)


def delete_product(store: Store, product: Rec) -> list[Rec]:
    variants = list(product["variants"])
    for variant in variants:
        delete_variant(store, variant)
    for listing in product["channelListings"]:
        store.delete(listing)
    store.delete(product)
    product["variants"] = variants
    return variants


def apply_metadata(record: Rec, items: list[dict[str, str]] | None, private: bool = False) -> None:
    target = record["_privateMetadata" if private else "_metadata"]
    for item in items or ():
        target[item["key"]] = item["value"]


def metadata_errors(items: list[dict[str, str]] | None, field_name: str) -> list[Rec]:
    return [error(field_name, "REQUIRED", "Metadata key cannot be empty.")
            for item in items or () if not item["key"].strip()]
