"""A partner's subscription product as a link-out product in the mall: shown in the boxes'
category with its price, never sold there; the shopper follows gudok.link_out_url to the
platform. One variant carries the price, because Saleor hides from shoppers every product
without a variant priced in the channel; it has no stock and the product is not available
for purchase, so it never reaches a cart."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from marshmallow import ValidationError

from hub.errors import RecordError
from hub.schemas.link_out import LinkOutSchema
from mappings.saleor.catalog import (
    TENANT,
    description_json,
    description_text,
    metadata_dict,
    metadata_input,
)

LINK_OUT_URL, PARTNER_PLATFORM, PARTNER_PRODUCT_ID, LINK_OUT_PRICE, LINK_OUT_CADENCE = (
    "gudok.link_out_url", "gudok.partner_platform", "gudok.partner_product_id",
    "gudok.link_out_price", "gudok.link_out_cadence")
LINK_OUT_IMAGE = "gudok.link_out_image"
CADENCE_NAMES = {"weekly": "매주 구독", "biweekly": "격주 구독", "monthly": "매월 구독"}
LISTED = {"isPublished": True, "visibleInListings": True, "isAvailableForPurchase": False}
UNLISTED = {"isPublished": False, "visibleInListings": False, "isAvailableForPurchase": False}


def load_link_out(product: Mapping[str, Any]) -> dict[str, Any]:
    """The canonical link-out record, validated; a bad one is a RecordError naming fields."""
    try:
        return dict(LinkOutSchema().load(dict(product)))
    except ValidationError as error:
        raise RecordError(f"link-out product is invalid: {error.messages}",
                          record=f"partner product {product.get('partner_product_id')}"
                          ) from None


def record_label(link: Mapping[str, Any]) -> str:
    return f"partner product {link['partner_product_id']}"


def is_link_out(product: Mapping[str, Any]) -> bool:
    """Whether a mall product is a link-out the hub listed (not a box, not the mall's)."""
    return PARTNER_PRODUCT_ID in metadata_dict(product.get("metadata"))


def link_out_slug(link: Mapping[str, Any]) -> str:
    """Deterministic, so a product listed before its binding was stored is found again. An
    id with nothing slug-like in it is named by a digest instead."""
    raw = str(link["platform_product_id"])
    part = re.sub(r"[^a-z0-9_-]+", "-", raw.lower()).strip("-")[:180]
    if not part:
        part = hashlib.sha256(raw.encode()).hexdigest()[:16]
    return f"partner-{link['connection_id']}-{part}"


def product_metadata(link: Mapping[str, Any]) -> dict[str, str]:
    return {LINK_OUT_URL: str(link["url"]), PARTNER_PLATFORM: str(link["platform"]),
            PARTNER_PRODUCT_ID: str(link["partner_product_id"]),
            LINK_OUT_PRICE: str(link["price"]), LINK_OUT_CADENCE: str(link["cadence"]),
            TENANT: str(link["tenant_id"]), LINK_OUT_IMAGE: str(link.get("image_url") or "")}


def metadata_current(current: Any, wanted: Mapping[str, str]) -> bool:
    """Whether every key the hub writes already has its value (other keys are the mall's)."""
    now = metadata_dict(current)
    return all(now.get(key) == value for key, value in wanted.items())


def product_fields(link: Mapping[str, Any], category_id: str | None) -> dict[str, Any]:
    """The fields productCreate and productUpdate share (ProductInput)."""
    fields: dict[str, Any] = {"name": link["name"], "slug": link_out_slug(link),
                              "description": description_json(link.get("description"))}
    if category_id:
        fields["category"] = category_id
    return fields


def product_create_input(link: Mapping[str, Any], product_type_id: str,
                         category_id: str | None) -> dict[str, Any]:
    """ProductCreateInput; the hub's marks go in with it, so no product is ever unmarked."""
    return {**product_fields(link, category_id), "productType": product_type_id,
            "metadata": metadata_input(product_metadata(link))}


def product_needs_update(current: Mapping[str, Any], link: Mapping[str, Any],
                         category_id: str | None) -> bool:
    wanted = product_fields(link, category_id)
    now = {"name": current.get("name"), "slug": current.get("slug")}
    if category_id:
        now["category"] = (current.get("category") or {}).get("id")
    if any(now[key] != wanted[key] for key in now):
        return True
    return description_text(current.get("description")) != \
        description_text(wanted["description"])


def listing_input(channel_id: str, *, listed: bool) -> dict[str, Any]:
    """ProductChannelListingUpdateInput: shown in listings but not for sale, or hidden."""
    return {"updateChannels": [{"channelId": channel_id, **(LISTED if listed else UNLISTED)}]}


def channel_listing(product: Mapping[str, Any], channel_id: str) -> Mapping[str, Any] | None:
    for entry in product.get("channelListings") or []:
        channel = entry.get("channel") if isinstance(entry, Mapping) else None
        if isinstance(channel, Mapping) and channel.get("id") == channel_id:
            return entry
    return None


def listing_current(product: Mapping[str, Any], channel_id: str, *, listed: bool) -> bool:
    """Whether the channel already shows (or hides) the product as asked. A product not in
    the channel at all counts as hidden."""
    entry = channel_listing(product, channel_id)
    if entry is None:
        return not listed
    wanted = LISTED if listed else UNLISTED
    return all(entry.get(key) == value for key, value in wanted.items())


def variant_metadata(link: Mapping[str, Any]) -> dict[str, str]:
    return {PARTNER_PRODUCT_ID: str(link["partner_product_id"])}


def variant_update_input(link: Mapping[str, Any]) -> dict[str, Any]:
    return {"sku": link_out_slug(link), "name": CADENCE_NAMES[link["cadence"]]}


def variant_create_input(link: Mapping[str, Any], channel_id: str) -> dict[str, Any]:
    """ProductVariantBulkCreateInput: priced in the channel, tracked, and with no stock."""
    return {**variant_update_input(link), "attributes": [], "trackInventory": True,
            "metadata": metadata_input(variant_metadata(link)),
            "channelListings": [{"channelId": channel_id, "price": link["price"]}]}


def variant_needs_update(current: Mapping[str, Any], link: Mapping[str, Any]) -> bool:
    return any(current.get(key) != value for key, value in variant_update_input(link).items())


def variant_listing_input(link: Mapping[str, Any], channel_id: str) -> list[dict[str, Any]]:
    return [{"channelId": channel_id, "price": link["price"]}]
