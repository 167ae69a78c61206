"""Listing a partner's approved subscription product in the mall as a link-out product, and
taking it down again. Every step reads first and writes only what differs, so a re-run
changes nothing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.base import SyncContext
from connectors.saleor import adapters
from connectors.saleor.client import SaleorClient
from connectors.saleor.listing import client_for, mall_setup, price_matches, storefront_url
from hub.errors import ConfigurationError, RecordError
from mappings.saleor import link_out as m
from mappings.saleor.catalog import BOX_ID, metadata_dict, metadata_input


def locate_link_out(client: SaleorClient, link: Mapping[str, Any],
                    record: str) -> dict[str, Any] | None:
    """The link-out's product: by the binding's id, else by slug. A product found but
    marked as a box or as another partner product, or found by slug without the hub's
    mark, is a RecordError, never overwritten."""
    ours = str(link["partner_product_id"])
    for key, value in (("product_id", link.get("external_id")), ("slug", m.link_out_slug(link))):
        if not value:
            continue
        product = adapters.find_product(client, **{key: str(value)})
        if product is None:
            continue
        meta = metadata_dict(product.get("metadata"))
        marked = meta.get(m.PARTNER_PRODUCT_ID)
        if BOX_ID in meta:
            owner: str | None = f"box {meta[BOX_ID]}"
        elif marked is not None and marked != ours:
            owner = f"partner product {marked}"
        elif marked is None and key == "slug":
            owner = "the mall, not the hub"
        else:
            owner = None
        if owner is not None:
            raise RecordError(f"mall product {product['id']} (found by {key}) belongs to "
                              f"{owner}", record=record)
        return product
    return None


def push_link_out(ctx: SyncContext, raw_product: Mapping[str, Any]) -> dict[str, Any]:
    link = m.load_link_out(raw_product)
    record = m.record_label(link)
    client = client_for(ctx)
    setup = mall_setup(ctx, client, catalog=True)
    channel_id = setup.channel.channel_id
    product = locate_link_out(client, link, record)
    if product is None:
        if setup.category_id is None:
            raise ConfigurationError(
                "Link-out products are listed in the boxes' category, and the connection "
                "names none (category_slug is null).",
                fix="Set category_slug on the mall connection; Saleor publishes no product "
                    "without a category.")
        assert setup.product_type_id is not None
        product = adapters.create_product(
            client, m.product_create_input(link, setup.product_type_id, setup.category_id),
            record)
    elif m.product_needs_update(product, link, setup.category_id):
        adapters.update_product(client, str(product["id"]),
                                m.product_fields(link, setup.category_id), record)
    product_id = str(product["id"])
    wanted_meta = m.product_metadata(link)
    if not m.metadata_current(product.get("metadata"), wanted_meta):
        adapters.update_metadata(client, product_id, metadata_input(wanted_meta), record)
    # The product joins the channel before its variant is priced in it.
    if not m.listing_current(product, channel_id, listed=True):
        adapters.set_product_listing(client, product_id,
                                     m.listing_input(channel_id, listed=True), record)
    _sync_price_variant(client, product, link, channel_id, record)
    return {"external_id": product_id,
            "url": storefront_url(ctx, str(product.get("slug") or m.link_out_slug(link)))}


def _sync_price_variant(client: SaleorClient, product: Mapping[str, Any],
                        link: Mapping[str, Any], channel_id: str, record: str) -> None:
    """The one variant that carries the price; variants the mall added are left alone."""
    ours = str(link["partner_product_id"])
    mine = [v for v in adapters.product_variants(product)
            if metadata_dict(v.get("metadata")).get(m.PARTNER_PRODUCT_ID) == ours]
    if not mine:
        adapters.create_variants(client, str(product["id"]),
                                 [m.variant_create_input(link, channel_id)], record)
        return
    variant, extra = mine[0], mine[1:]
    variant_id = str(variant["id"])
    if m.variant_needs_update(variant, link):
        adapters.update_variant(client, variant_id, m.variant_update_input(link), record)
    if not m.metadata_current(variant.get("metadata"), m.variant_metadata(link)):
        adapters.update_metadata(client, variant_id,
                                 metadata_input(m.variant_metadata(link)), record)
    if not price_matches(variant, channel_id, int(link["price"])):
        adapters.set_variant_listing(client, variant_id,
                                     m.variant_listing_input(link, channel_id), record)
    for duplicate in extra:
        adapters.delete_variant(client, str(duplicate["id"]), record)


def remove_link_out(ctx: SyncContext, external_id: str) -> None:
    """Unpublish the product from the channel; a product already hidden or gone is fine."""
    if not isinstance(external_id, str) or not external_id:
        raise RecordError("a link-out removal names no mall product")
    client = client_for(ctx)
    channel_id = mall_setup(ctx, client, catalog=False).channel.channel_id
    product = adapters.find_product(client, product_id=external_id)
    if product is None:
        return
    if not m.is_link_out(product):
        raise RecordError(f"mall product {external_id} is not a link-out product; the hub "
                          "leaves it alone", record=external_id)
    if not m.listing_current(product, channel_id, listed=False):
        adapters.set_product_listing(client, external_id,
                                     m.listing_input(channel_id, listed=False), external_id)
