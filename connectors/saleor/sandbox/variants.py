"""Variant, channel listing and stock mutations."""

from __future__ import annotations

from typing import Any

from connectors.saleor.sandbox import catalog
from connectors.saleor.sandbox.context import (
    Context,
    MutationErrors,
    error,
    fail,
    node_or_error,
)
from connectors.saleor.sandbox.mutations import (
    by_ref,
    channel_listing_errors,
    emit_stock,
    mutation,
    no_attributes,
    stock_errors,
)
from connectors.saleor.sandbox.store import Rec

SKU_TAKEN = "Product variant with this SKU already exists."


def _taken_skus(c: Context, exclude: Rec | None = None) -> set[str]:
    return {v["sku"] for v in c.store.all("ProductVariant") if v["sku"] and v is not exclude}


def _row_errors(c: Context, product: Rec, index: int, data: dict[str, Any],
                skus: set[str]) -> tuple[list[Rec], list[tuple[Rec, Rec]], list[tuple[Rec, int]]]:
    errors: list[Rec] = []
    sku = data.get("sku") or None
    if sku is not None and sku in skus:
        errors.append(error("sku", "UNIQUE", SKU_TAKEN, index=index))
    if data.get("attributes"):
        errors.append(error("attributes", "NOT_FOUND",
                            "The sandbox has no attributes; pass an empty list.", index=index))
    errors += catalog.metadata_errors(data.get("metadata"), "metadata")
    listing_errors, listings = channel_listing_errors(
        c, product, data.get("channelListings") or [], "channelListings", index=index)
    stock_problems, stocks = stock_errors(c, data.get("stocks") or [], "stocks", indexed=True)
    for problem in stock_problems:
        problem["index"] = index
    return errors + listing_errors + stock_problems, listings, stocks


def _bulk_error(problem: Rec) -> Rec:
    """The same problem as a ProductVariantBulkError (results[].errors)."""
    return {"field": problem["field"], "code": problem["code"], "message": problem["message"],
            "path": problem["field"], "channels": problem.get("channels")}


@mutation("bulkProductErrors", {"count": 0, "productVariants": [], "results": []})
def variant_bulk_create(c: Context, product: str, variants: list[Rec],
                        errorPolicy: str | None = None) -> Rec:
    parent = node_or_error(c.store, product, ("Product",), "product")
    taken = _taken_skus(c)
    rows: list[tuple[Rec, list[Rec], list[tuple[Rec, Rec]], list[tuple[Rec, int]]]] = []
    for index, data in enumerate(variants):
        problems, listings, stocks = _row_errors(c, parent, index, data, taken)
        if data.get("sku"):
            taken.add(data["sku"])
        rows.append((data, problems, listings, stocks))
    all_errors = [p for _, problems, _, _ in rows for p in problems]
    policy = errorPolicy or "REJECT_EVERYTHING"
    results: list[Rec] = []
    created: list[Rec] = []
    for data, problems, listings, stocks in rows:
        if problems or (all_errors and policy == "REJECT_EVERYTHING"):
            results.append({"productVariant": None,
                            "errors": [_bulk_error(p) for p in problems]})
            continue
        variant = catalog.new_variant(
            c.store, parent, sku=data.get("sku") or None, name=data.get("name") or "",
            track_inventory=data.get("trackInventory", True) is not False,
            quantityLimitPerCustomer=data.get("quantityLimitPerCustomer"),
            externalReference=data.get("externalReference"))
        catalog.apply_metadata(variant, data.get("metadata"))
        catalog.apply_metadata(variant, data.get("privateMetadata"), private=True)
        for channel, listing in listings:
            catalog.set_variant_listing(c.store, variant, channel, listing)
        for warehouse, quantity in stocks:
            catalog.set_stock(c.store, variant, warehouse, quantity)
        created.append(variant)
        results.append({"productVariant": variant, "errors": []})
    if created:
        c.store.touch(parent)
    for variant in created:
        c.store.emit("PRODUCT_VARIANT_CREATED", c.app, productVariant=variant)
    return {"errors": all_errors, "bulkProductErrors": all_errors, "count": len(created),
            "productVariants": created, "results": results}


def _variant(c: Context, id_: str | None, sku: str | None,
             reference: str | None = None) -> Rec:
    return by_ref(c, "ProductVariant", id_, sku=sku, externalReference=reference)


@mutation("productErrors", {"productVariant": None})
def variant_update(c: Context, input: dict[str, Any], id: str | None = None,
                   sku: str | None = None, externalReference: str | None = None) -> Rec:
    variant = _variant(c, id, sku, externalReference)
    no_attributes(input.get("attributes"))
    problems = catalog.metadata_errors(input.get("metadata"), "metadata")
    if problems:
        raise MutationErrors(problems)
    if "sku" in input:
        new_sku = input["sku"] or None
        if new_sku is not None and new_sku in _taken_skus(c, exclude=variant):
            raise fail("sku", "UNIQUE", SKU_TAKEN)
        variant["sku"] = new_sku
    if input.get("name") is not None:
        variant["name"] = input["name"]
    if input.get("trackInventory") is not None:
        variant["trackInventory"] = input["trackInventory"]
    for key in ("quantityLimitPerCustomer", "externalReference"):
        if key in input:
            variant[key] = input[key]
    catalog.apply_metadata(variant, input.get("metadata"))
    catalog.apply_metadata(variant, input.get("privateMetadata"), private=True)
    c.store.touch(variant)
    c.store.touch(variant["product"])
    c.store.emit("PRODUCT_VARIANT_UPDATED", c.app, productVariant=variant)
    return {"productVariant": variant}


@mutation("productErrors", {"productVariant": None})
def variant_delete(c: Context, id: str | None = None, sku: str | None = None,
                   externalReference: str | None = None) -> Rec:
    variant = _variant(c, id, sku, externalReference)
    catalog.delete_variant(c.store, variant)
    c.store.touch(variant["product"])
    c.store.emit("PRODUCT_VARIANT_DELETED", c.app, productVariant=variant)
    return {"productVariant": variant}


def _variants_of(c: Context, product: Rec, ids: list[str] | None, field_name: str) -> list[Rec]:
    found = []
    for value in ids or ():
        variant = node_or_error(c.store, value, ("ProductVariant",), field_name)
        if variant["product"] is not product:
            raise fail(field_name, "NOT_PRODUCTS_VARIANT",
                       "Variant doesn't belong to the product.", variants=[value])
        found.append(variant)
    return found


@mutation("productChannelListingErrors", {"product": None})
def product_channel_listing_update(c: Context, id: str,
                                   input: dict[str, Any]) -> Rec:
    product = node_or_error(c.store, id, ("Product",), "id")
    update = input.get("updateChannels") or []
    remove_ids = input.get("removeChannels") or []
    update_ids = [d["channelId"] for d in update]
    both = sorted(set(update_ids) & set(remove_ids))
    if both:
        raise fail("input", "DUPLICATED_INPUT_ITEM", "The same object cannot be in both lists "
                   "for adding and removing items.", channels=both)
    duplicated = sorted({i for i in update_ids if update_ids.count(i) > 1})
    if duplicated:
        raise fail("updateChannels", "DUPLICATED_INPUT_ITEM", "Duplicated channel ID.",
                   channels=duplicated)
    plans = []
    for data in update:
        channel = node_or_error(c.store, data["channelId"], ("Channel",), "updateChannels")
        if data.get("isPublished") and product.get("category") is None:
            raise fail("isPublished", "PRODUCT_WITHOUT_CATEGORY",
                       "You must select a category to be able to publish",
                       channels=[channel["id"]])
        plan = dict(data)
        plan["_add_variants"] = _variants_of(c, product, data.get("addVariants"), "addVariants")
        plan["_remove_variants"] = _variants_of(c, product, data.get("removeVariants"),
                                                "removeVariants")
        plans.append((channel, plan))
    removals = [node_or_error(c.store, i, ("Channel",), "removeChannels") for i in remove_ids]
    for channel, plan in plans:
        catalog.set_product_listing(c.store, product, channel, plan)
    for channel in removals:
        catalog.remove_product_listing(c.store, product, channel)
    c.store.touch(product)
    c.store.emit("PRODUCT_UPDATED", c.app, product=product, category=product["category"])
    return {"product": product}


@mutation("productChannelListingErrors", {"variant": None})
def variant_channel_listing_update(c: Context, input: list[Rec],
                                   id: str | None = None,
                                   sku: str | None = None) -> Rec:
    variant = _variant(c, id, sku)
    problems, listings = channel_listing_errors(c, variant["product"], input, "channelId")
    if problems:
        raise MutationErrors(problems)
    for channel, data in listings:
        catalog.set_variant_listing(c.store, variant, channel, data)
    c.store.touch(variant)
    c.store.touch(variant["product"])
    c.store.emit("PRODUCT_VARIANT_UPDATED", c.app, productVariant=variant)
    return {"variant": variant}


@mutation("bulkStockErrors", {"productVariant": None})
def variant_stocks_update(c: Context, stocks: list[Rec], variantId: str | None = None,
                          sku: str | None = None) -> Rec:
    if variantId is not None:
        variant = node_or_error(c.store, variantId, ("ProductVariant",), "variantId")
    else:
        variant = _variant(c, None, sku)
    problems, resolved = stock_errors(c, stocks, "warehouse", indexed=True)
    if problems:
        raise MutationErrors(problems)
    changed = [catalog.set_stock(c.store, variant, warehouse, quantity)
               for warehouse, quantity in resolved]
    c.store.touch(variant)
    c.store.touch(variant["product"])
    for stock, before in changed:
        emit_stock(c, stock, before)
    return {"productVariant": variant}


VARIANT_MUTATIONS: dict[str, Any] = {
    "productVariantBulkCreate": variant_bulk_create,
    "productVariantUpdate": variant_update,
    "productVariantDelete": variant_delete,
    "productChannelListingUpdate": product_channel_listing_update,
    "productVariantChannelListingUpdate": variant_channel_listing_update,
    "productVariantStocksUpdate": variant_stocks_update,
}
