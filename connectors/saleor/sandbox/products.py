"""Product queries as a shopper or a staff member sees them: staff see every product, a
shopper only those published in the channel with a variant priced there, and in lists only
those visible in listings (Saleor's `published_with_variants` and `visible_in_listings`)."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLResolveInfo

from connectors.saleor.sandbox.context import Context, ctx
from connectors.saleor.sandbox.listing import (
    check_supported,
    combine_where,
    description_text,
    in_range,
    matches_filter_input,
    metadata_matches,
    one_filter,
    one_of,
    pks,
    sorted_connection,
    text_search,
)
from connectors.saleor.sandbox.store import Rec

STAFF_PRODUCT_PERMISSIONS = ("MANAGE_ORDERS", "MANAGE_DISCOUNTS", "MANAGE_PRODUCTS")
PRODUCT_SORT = {"NAME": "name", "LAST_MODIFIED": "updatedAt", "LAST_MODIFIED_AT": "updatedAt",
                "DATE": "updatedAt", "CREATED_AT": "created", "TYPE": "_type_name"}


def listing_in(product: Rec, channel_slug: str) -> Rec | None:
    return next((cl for cl in product["channelListings"]
                 if cl["channel"]["slug"] == channel_slug), None)


def visible_products(c: Context, channel_slug: str | None) -> list[Rec]:
    products = c.store.all("Product")
    if c.has(*STAFF_PRODUCT_PERMISSIONS):
        if channel_slug is None:
            return products
        return [p for p in products if listing_in(p, channel_slug)]
    slug = channel_slug or c.store.default_channel["slug"]
    now = c.store.now()
    return [p for p in products if (cl := listing_in(p, slug)) is not None
            and cl["isPublished"] and (cl["publishedAt"] is None or cl["publishedAt"] <= now)
            and priced_in(p, slug)]


def priced_in(product: Rec, channel_slug: str) -> bool:
    """Whether a variant of the product has a price in the channel."""
    return any(vl["channel"]["slug"] == channel_slug and vl.get("price") is not None
               for variant in product["variants"] for vl in variant["channelListings"])


def listed_for(c: Context, product: Rec, channel_slug: str | None) -> bool:
    """Product lists show a shopper only what is visible in the channel's listings."""
    if c.has(*STAFF_PRODUCT_PERMISSIONS):
        return True
    listing = listing_in(product, channel_slug or c.store.default_channel["slug"])
    return bool(listing and listing["visibleInListings"])


def _product_filter(product: Rec, given: dict[str, Any], channel: str | None) -> bool:
    if given.get("ids") and product["pk"] not in pks(given["ids"], "Product"):
        return False
    if given.get("productTypes") and (
            product["productType"]["pk"] not in pks(given["productTypes"], "ProductType")):
        return False
    category = product.get("category")
    if given.get("categories") and (
            category is None or category["pk"] not in pks(given["categories"], "Category")):
        return False
    if given.get("hasCategory") is not None and given["hasCategory"] != (category is not None):
        return False
    if given.get("isPublished") is not None:
        listing = listing_in(product, given.get("channel") or channel or "default-channel")
        if given["isPublished"] != bool(listing and listing["isPublished"]):
            return False
    skus = [v.get("sku") for v in product["variants"]]
    return (in_range(product["updatedAt"], given.get("updatedAt"))
            and (not given.get("slugs") or product["slug"] in given["slugs"])
            and metadata_matches(product, given.get("metadata"))
            and text_search(given.get("search"), product["name"], product["slug"],
                            description_text(product.get("description")), *skus))


def _product_where(product: Rec, where: dict[str, Any]) -> bool:
    def gid_match(record: Rec | None, spec: dict[str, Any] | None) -> bool:
        return spec is None or (record is not None and matches_filter_input(record["id"], spec))

    return ((not where.get("ids") or product["id"] in where["ids"])
            and matches_filter_input(product["name"], where.get("name"))
            and matches_filter_input(product["slug"], where.get("slug"))
            and gid_match(product["productType"], where.get("productType"))
            and gid_match(product.get("category"), where.get("category"))
            and matches_filter_input(product["updatedAt"], where.get("updatedAt"))
            and metadata_matches(product, where.get("metadata")))


def q_products(_root: Any, info: GraphQLResolveInfo, **args: Any) -> Rec:
    c = ctx(info)
    one_filter(args)
    given = args.get("filter") or {}
    check_supported(given, {"ids", "productTypes", "categories", "hasCategory", "isPublished",
                            "updatedAt", "slugs", "metadata", "search", "channel", "giftCard"},
                    "products.filter")
    check_supported(args.get("where"), {"ids", "name", "slug", "productType", "category",
                                        "updatedAt", "metadata", "AND", "OR"},
                    "products.where")
    channel = args.get("channel") or given.get("channel")
    items = [p for p in visible_products(c, channel)
             if listed_for(c, p, channel) and _product_filter(p, given, channel)
             and combine_where(p, args.get("where"), _product_where)
             and text_search(args.get("search"), p["name"], p["slug"],
                             description_text(p.get("description")),
                             *[v.get("sku") for v in p["variants"]])]
    return sorted_connection(items, args, "products", PRODUCT_SORT, ("slug", False))

def q_product(_root: Any, info: GraphQLResolveInfo, id: str | None = None,
              slug: str | None = None, externalReference: str | None = None,
              channel: str | None = None, **_: Any) -> Rec | None:
    c = ctx(info)
    one_of(id=id, slug=slug, external_reference=externalReference)
    for product in visible_products(c, channel):
        if ((id is not None and product["id"] == id) or (slug and product["slug"] == slug)
                or (externalReference and product.get("externalReference") == externalReference)):
            return product
    return None


def q_product_variant(_root: Any, info: GraphQLResolveInfo, id: str | None = None,
                      sku: str | None = None, externalReference: str | None = None,
                      channel: str | None = None) -> Rec | None:
    one_of(id=id, sku=sku, external_reference=externalReference)
    for product in visible_products(ctx(info), channel):
        for variant in product["variants"]:
            if ((id is not None and variant["id"] == id) or (sku and variant.get("sku") == sku)
                    or (externalReference
                        and variant.get("externalReference") == externalReference)):
                return variant
    return None
