"""Pushing a box listing to the mall: one product of the subscription product type, a
variant per plan with its channel price, hub ids and links in metadata, stock per variant.
Every step reads first and writes only what differs, so a re-run changes nothing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from connectors.base import SyncContext
from connectors.saleor import adapters
from connectors.saleor.client import SaleorClient
from connectors.saleor.config import option
from hub.errors import ConfigurationError, RecordError
from mappings.saleor import catalog as m
from mappings.saleor.money import money

SETUP_KEY = "saleor.setup"


@dataclass(frozen=True)
class MallSetup:
    channel: adapters.MallChannel
    product_type_id: str | None
    category_id: str | None


def client_for(ctx: SyncContext) -> SaleorClient:
    token = ctx.config.get("app_token")
    if not token:
        raise ConfigurationError(
            "The hub is not installed in the mall yet (no app token).",
            fix=f"Install the app in the mall from the hub's manifest URL "
                f"/saleor/{ctx.connection.id}/manifest.")
    return SaleorClient(ctx.http, str(ctx.config["api_url"]), str(token), log=ctx.log)


def mall_setup(ctx: SyncContext, client: SaleorClient, *, catalog: bool) -> MallSetup:
    """Channel, warehouse, product type and category: looked up once per job."""
    cached: MallSetup | None = ctx.extra.get(SETUP_KEY)
    if cached is not None and (cached.product_type_id or not catalog):
        return cached
    channel = cached.channel if cached else adapters.channel_context(
        client, str(option(ctx.config, "channel_slug")),
        option(ctx.config, "warehouse_slug"))
    type_id = category_id = None
    if catalog:
        type_name = str(option(ctx.config, "product_type_name"))
        type_id = adapters.ensure_product_type(client, type_name)
        slug = option(ctx.config, "category_slug")
        if slug:
            category_id = adapters.ensure_category(client, str(slug), type_name)
    setup = MallSetup(channel, type_id, category_id)
    ctx.extra[SETUP_KEY] = setup
    return setup


def locate_product(client: SaleorClient, listing: Mapping[str, Any]) -> dict[str, Any] | None:
    """The box's product: by the binding's id, else by the hub's reference, else by slug.
    A product found but marked as another box's is a RecordError, never overwritten."""
    record = f"box {listing['box_id']}"
    candidates = (("product_id", listing.get("external_id")),
                  ("reference", m.product_reference(listing)),
                  ("slug", m.product_slug(listing)))
    for key, value in candidates:
        if not value:
            continue
        product = adapters.find_product(client, **{key: str(value)})
        if product is None:
            continue
        marked = m.metadata_dict(product.get("metadata")).get(m.BOX_ID)
        if marked != str(listing["box_id"]) and (marked is not None or key == "slug"):
            raise RecordError(f"mall product {product['id']} (found by {key}) belongs to "
                              f"{'box ' + marked if marked else 'the mall, not the hub'}",
                              record=record)
        return product
    return None


def _ours(values: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in values.items() if k.startswith(m.PREFIX)}


def price_matches(variant: Mapping[str, Any], channel_id: str, wanted: int) -> bool:
    price = m.variant_channel_price(variant, channel_id)
    try:
        return price is not None and money(price, "price") == wanted
    except RecordError:
        return False


def push_box(ctx: SyncContext, raw_listing: Mapping[str, Any]) -> dict[str, Any]:
    listing = m.load_listing(raw_listing)
    record = f"box {listing['box_id']}"
    client = client_for(ctx)
    setup = mall_setup(ctx, client, catalog=True)
    channel_id = setup.channel.channel_id
    product = locate_product(client, listing)
    if product is None:
        assert setup.product_type_id is not None
        product = adapters.create_product(
            client, m.product_create_input(listing, setup.product_type_id, setup.category_id),
            record)
    elif m.product_needs_update(product, listing, setup.category_id):
        adapters.update_product(client, product["id"],
                                m.product_fields(listing, setup.category_id), record)
    product_id = str(product["id"])
    wanted_meta = m.product_metadata(listing)
    if _ours(m.metadata_dict(product.get("metadata"))) != wanted_meta:
        adapters.update_metadata(client, product_id, m.metadata_input(wanted_meta), record)
    if not m.product_listing_current(product, listing, channel_id):
        adapters.set_product_listing(client, product_id,
                                     m.product_listing_input(listing, channel_id), record)
    variants = _sync_variants(client, product, listing, channel_id, record)
    url = storefront_url(ctx, str(product.get("slug") or m.product_slug(listing)))
    return {"external_id": product_id, "variants": variants, "url": url}


def storefront_url(ctx: SyncContext, slug: str) -> str | None:
    """The product's page in the mall's storefront, when the connection names a template."""
    template = option(ctx.config, "storefront_url_template")
    return str(template).replace("{slug}", slug) if template else None


def _sync_variants(client: SaleorClient, product: Mapping[str, Any],
                   listing: Mapping[str, Any], channel_id: str,
                   record: str) -> dict[int, str]:
    """Plans as variants: update the ones that exist, create the missing ones in one call,
    delete the hub's variants whose plan is gone; the mall's own variants are left alone."""
    existing = adapters.product_variants(product)
    by_key: dict[str, dict[str, Any]] = {}
    for known in existing:
        plan_id = m.metadata_dict(known.get("metadata")).get(m.PLAN_ID)
        for key in (known["id"], known.get("externalReference"),
                    f"plan:{plan_id}" if plan_id else None):
            if key:
                by_key.setdefault(str(key), known)
    result: dict[int, str] = {}
    missing: list[dict[str, Any]] = []
    for plan in listing["plans"]:
        keys = (plan.get("external_id"), m.variant_reference(listing, plan),
                f"plan:{plan['plan_id']}")
        variant = next((by_key[k] for k in keys if k and k in by_key), None)
        if variant is None:
            missing.append(plan)
            continue
        variant_id = str(variant["id"])
        result[plan["plan_id"]] = variant_id
        if m.variant_needs_update(variant, listing, plan):
            adapters.update_variant(client, variant_id, m.variant_update_input(listing, plan),
                                    record)
        wanted_meta = m.variant_metadata(listing, plan)
        if _ours(m.metadata_dict(variant.get("metadata"))) != wanted_meta:
            adapters.update_metadata(client, variant_id, m.metadata_input(wanted_meta),
                                     record)
        if not price_matches(variant, channel_id, m.variant_price(plan)):
            adapters.set_variant_listing(client, variant_id,
                                         m.variant_listing_input(plan, channel_id), record)
    if missing:
        created = adapters.create_variants(
            client, str(product["id"]),
            [m.variant_create_input(listing, plan, channel_id) for plan in missing], record)
        for plan, new in zip(missing, created, strict=True):
            result[plan["plan_id"]] = str(new["id"])
    kept = set(result.values())
    for old in existing:
        ours = m.metadata_dict(old.get("metadata")).get(m.PLAN_ID)
        if ours and str(old["id"]) not in kept:
            adapters.delete_variant(client, str(old["id"]), record)
    return result


def push_availability(ctx: SyncContext, raw_listing: Mapping[str, Any]) -> None:
    """Absolute stock: every plan's variant gets the box's availability in the warehouse."""
    listing = m.load_listing(raw_listing)
    record = f"box {listing['box_id']}"
    client = client_for(ctx)
    setup = mall_setup(ctx, client, catalog=False)
    warehouse_id = setup.channel.warehouse_id
    product = locate_product(client, listing)
    if product is None:
        raise RecordError("the box is not in the mall yet; push its listing first",
                          record=record)
    by_plan = {m.metadata_dict(v.get("metadata")).get(m.PLAN_ID): v
               for v in adapters.product_variants(product)}
    by_plan.pop(None, None)
    quantity = int(listing["available"])
    for plan in listing["plans"]:
        variant = by_plan.get(str(plan["plan_id"]))
        if variant is None:
            raise RecordError(f"plan {plan['plan_id']} has no variant in the mall yet; push "
                              "the box's listing first", record=record)
        current = [s.get("quantity") for s in variant.get("stocks") or []
                   if isinstance(s, Mapping) and isinstance(s.get("warehouse"), Mapping)
                   and s["warehouse"].get("id") == warehouse_id]
        if current != [quantity]:
            adapters.set_stock(client, str(variant["id"]), warehouse_id, quantity, record)
