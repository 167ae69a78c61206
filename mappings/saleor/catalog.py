"""A box listing as a Saleor product of the subscription product type (its plans as
variants, hub ids in metadata), and a mall product back as a catalog import record."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from typing import Any

from marshmallow import ValidationError

from hub.errors import RecordError
from hub.models.box import BOX_CATEGORIES
from hub.models.plan import CADENCES
from hub.schemas.canonical import BoxListingSchema
from hub.schemas.catalog import PushBoxSchema, PushPlanSchema
from mappings.saleor.money import money

PREFIX = "gudok."
BOX_ID, TENANT, BOX_CODE, BOX_VERSION, LINKS, CATEGORY = (
    "gudok.box_id", "gudok.tenant", "gudok.box_code", "gudok.box_version", "gudok.links",
    "gudok.category")
PLAN_ID, PLAN_CODE, CADENCE, PREPAID_ROUNDS, TERM_ROUNDS, ROUND_PRICE = (
    "gudok.plan_id", "gudok.plan_code", "gudok.cadence", "gudok.prepaid_rounds",
    "gudok.term_rounds", "gudok.round_price")
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_TAG = re.compile(r"<[^>]*>")


def load_listing(listing: Mapping[str, Any]) -> dict[str, Any]:
    """The canonical box listing, validated; a bad one is a RecordError naming its fields."""
    try:
        return dict(BoxListingSchema().load(dict(listing)))
    except ValidationError as error:
        raise RecordError(f"box listing is invalid: {error.messages}",
                          record=str(listing.get("box_id"))) from None


def metadata_dict(items: Any) -> dict[str, str]:
    """Saleor's [{key, value}] metadata as a dict; malformed entries are ignored."""
    if not isinstance(items, list):
        return {}
    return {str(item["key"]): str(item.get("value") or "") for item in items
            if isinstance(item, Mapping) and isinstance(item.get("key"), str)}


def metadata_input(values: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"key": key, "value": value} for key, value in sorted(values.items())]


def product_slug(listing: Mapping[str, Any]) -> str:
    """Deterministic, so a product created before its binding was stored is found again."""
    code = re.sub(r"[^a-z0-9_-]+", "-", str(listing["code"]).lower()).strip("-")
    return f"gudok-{listing['tenant_id']}-{code}"


def product_reference(listing: Mapping[str, Any]) -> str:
    return f"gudok:{listing['tenant_id']}:box:{listing['box_id']}"


def variant_reference(listing: Mapping[str, Any], plan: Mapping[str, Any]) -> str:
    return f"gudok:{listing['tenant_id']}:plan:{plan['plan_id']}"


def variant_sku(listing: Mapping[str, Any], plan: Mapping[str, Any]) -> str:
    return f"gudok-{listing['tenant_id']}-{plan['code']}"


def variant_price(plan: Mapping[str, Any]) -> int:
    """What a customer pays at checkout for a plan: every prepaid round at the round price."""
    return int(plan["round_price"]) * int(plan["prepaid_rounds"])


def description_json(text: str | None) -> str | None:
    """Plain text as the EditorJS document Saleor stores (JSONString): one block a paragraph."""
    if not text:
        return None
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    blocks = [{"type": "paragraph",
               "data": {"text": html.escape(p, quote=False).replace("\n", "<br>")}}
              for p in paragraphs]
    return json.dumps({"blocks": blocks}, ensure_ascii=False)


def description_text(value: Any) -> str | None:
    """The plain text of an EditorJS description; anything unreadable counts as none."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    blocks = value.get("blocks") if isinstance(value, dict) else None
    if not isinstance(blocks, list):
        return None
    parts = []
    for block in blocks:
        data = block.get("data") if isinstance(block, dict) else None
        text = data.get("text") if isinstance(data, dict) else None
        if isinstance(text, str):
            text = html.unescape(_TAG.sub("", text.replace("<br>", "\n"))).strip()
            if text:
                parts.append(text)
    return "\n\n".join(parts)[:20000] or None


def product_metadata(listing: Mapping[str, Any]) -> dict[str, str]:
    links = sorted(({"platform": link["platform"], "url": link["url"]}
                    for link in listing.get("links") or [] if link.get("url")),
                   key=lambda link: (link["platform"], link["url"]))
    return {BOX_ID: str(listing["box_id"]), TENANT: str(listing["tenant_id"]),
            BOX_CODE: str(listing["code"]), BOX_VERSION: str(listing["box_version"]),
            CATEGORY: str(listing["category"]),
            LINKS: json.dumps(links, ensure_ascii=False, separators=(",", ":"))}


def variant_metadata(listing: Mapping[str, Any], plan: Mapping[str, Any]) -> dict[str, str]:
    term = plan.get("term_rounds")
    return {BOX_ID: str(listing["box_id"]), PLAN_ID: str(plan["plan_id"]),
            PLAN_CODE: str(plan["code"]), CADENCE: str(plan["cadence"]),
            PREPAID_ROUNDS: str(plan["prepaid_rounds"]),
            TERM_ROUNDS: "" if term is None else str(term),
            ROUND_PRICE: str(plan["round_price"])}


def product_fields(listing: Mapping[str, Any], category_id: str | None) -> dict[str, Any]:
    """The fields productCreate and productUpdate share (ProductInput)."""
    fields: dict[str, Any] = {
        "name": listing["title"], "slug": product_slug(listing),
        "description": description_json(listing.get("description")),
        "externalReference": product_reference(listing),
    }
    if category_id:
        fields["category"] = category_id
    return fields


def product_create_input(listing: Mapping[str, Any], product_type_id: str,
                         category_id: str | None) -> dict[str, Any]:
    """ProductCreateInput; the hub's ids go in with it, so no product is ever unmarked."""
    return {**product_fields(listing, category_id), "productType": product_type_id,
            "metadata": metadata_input(product_metadata(listing))}


def product_needs_update(current: Mapping[str, Any], listing: Mapping[str, Any],
                         category_id: str | None) -> bool:
    wanted = product_fields(listing, category_id)
    now = {"name": current.get("name"), "slug": current.get("slug"),
           "externalReference": current.get("externalReference")}
    if category_id:
        now["category"] = (current.get("category") or {}).get("id")
    if any(now[key] != wanted[key] for key in now):
        return True
    return description_text(current.get("description")) != \
        description_text(wanted["description"])


def product_listing_input(listing: Mapping[str, Any], channel_id: str) -> dict[str, Any]:
    """ProductChannelListingUpdateInput: active boxes sell, paused ones show but do not.
    Variants join the channel through their own price listings."""
    status = listing["status"]
    visible = status in ("active", "paused")
    return {"updateChannels": [{"channelId": channel_id, "isPublished": visible,
                                "visibleInListings": visible,
                                "isAvailableForPurchase": status == "active"}]}


def product_listing_current(product: Mapping[str, Any], listing: Mapping[str, Any],
                            channel_id: str) -> bool:
    """Whether the product's channel listing already is what the box's status asks for."""
    wanted = product_listing_input(listing, channel_id)["updateChannels"][0]
    for entry in product.get("channelListings") or []:
        channel = entry.get("channel") if isinstance(entry, Mapping) else None
        if isinstance(channel, Mapping) and channel.get("id") == channel_id:
            return all(entry.get(key) == wanted[key] for key in
                       ("isPublished", "visibleInListings", "isAvailableForPurchase"))
    return False


def variant_create_input(listing: Mapping[str, Any], plan: Mapping[str, Any],
                         channel_id: str) -> dict[str, Any]:
    """ProductVariantBulkCreateInput; the subscription type has no variant attributes."""
    return {**variant_update_input(listing, plan), "attributes": [],
            "trackInventory": True,
            "metadata": metadata_input(variant_metadata(listing, plan)),
            "channelListings": [{"channelId": channel_id, "price": variant_price(plan)}]}


def variant_update_input(listing: Mapping[str, Any], plan: Mapping[str, Any]) -> dict[str, Any]:
    return {"sku": variant_sku(listing, plan), "name": plan["name"],
            "externalReference": variant_reference(listing, plan)}


def variant_needs_update(current: Mapping[str, Any], listing: Mapping[str, Any],
                         plan: Mapping[str, Any]) -> bool:
    wanted = variant_update_input(listing, plan)
    return any(current.get(key) != value for key, value in wanted.items())


def variant_listing_input(plan: Mapping[str, Any], channel_id: str) -> list[dict[str, Any]]:
    return [{"channelId": channel_id, "price": variant_price(plan)}]


def variant_channel_price(variant: Mapping[str, Any], channel: str) -> Any:
    """The variant's price object in a channel (matched by id or slug), if it has one."""
    for entry in variant.get("channelListings") or []:
        ch = entry.get("channel") if isinstance(entry, Mapping) else None
        if isinstance(ch, Mapping) and channel in (ch.get("id"), ch.get("slug")):
            return entry.get("price")
    return None


def import_record(product: Mapping[str, Any], *, channel_slug: str) -> dict[str, Any]:
    """A mall product as the catalog push records it maps to (PushBox and PushPlan), so a
    mall that is the catalog's origin imports through the same rules as a REST push."""
    product_id = str(product.get("id") or "")
    if not product_id:
        raise RecordError("a mall product has no id")
    meta = metadata_dict(product.get("metadata"))
    code = meta.get(BOX_CODE) or str(product.get("slug") or "")
    if not _CODE.match(code):
        raise RecordError(f"product slug {code[:80]!r} cannot be a box code: set metadata "
                          f"{BOX_CODE} to letters, digits, '.', '_' or '-' (at most 64)",
                          record=product_id)
    box: dict[str, Any] = {
        "code": code, "title": str(product.get("name") or code)[:200],
        "description": description_text(product.get("description")),
        "images": [m["url"] for m in product.get("media") or []
                   if isinstance(m, Mapping) and str(m.get("url", "")).startswith(
                       ("http://", "https://"))][:20],
        "category": meta.get(CATEGORY) if meta.get(CATEGORY) in BOX_CATEGORIES else "mixed",
        "status": _import_status(product, channel_slug),
    }
    plans, variant_ids = [], {}
    for node in _variants(product):
        plan = _import_plan(node, code, channel_slug, product_id)
        plans.append(plan)
        variant_ids[plan["code"]] = str(node["id"])
    try:
        loaded_box = PushBoxSchema().load(box)
        loaded_plans = [PushPlanSchema().load(plan) for plan in plans]
    except ValidationError as error:
        raise RecordError(f"mall product does not make a valid box: {error.messages}",
                          record=product_id) from None
    return {"external_id": product_id, "updated_at": product.get("updatedAt"),
            "box": loaded_box, "plans": loaded_plans, "variants": variant_ids,
            "box_id": _int_or_none(meta.get(BOX_ID))}


def _variants(product: Mapping[str, Any]) -> list[dict[str, Any]]:
    connection = product.get("productVariants")
    edges = connection.get("edges") if isinstance(connection, Mapping) else None
    return [edge["node"] for edge in edges or []
            if isinstance(edge, Mapping) and isinstance(edge.get("node"), dict)
            and edge["node"].get("id")]


def _import_status(product: Mapping[str, Any], channel_slug: str) -> str:
    for entry in product.get("channelListings") or []:
        channel = entry.get("channel") if isinstance(entry, Mapping) else None
        if isinstance(channel, Mapping) and channel.get("slug") == channel_slug:
            if not entry.get("isPublished"):
                return "draft"
            return "active" if entry.get("isAvailableForPurchase") else "paused"
    return "draft"


def _import_plan(variant: Mapping[str, Any], box_code: str, channel_slug: str,
                 product_id: str) -> dict[str, Any]:
    meta = metadata_dict(variant.get("metadata"))
    variant_id = str(variant["id"])
    code = meta.get(PLAN_CODE) or str(variant.get("sku") or "")
    if not _CODE.match(code):
        raise RecordError(f"variant {variant_id}: its SKU cannot be a plan code; set metadata "
                          f"{PLAN_CODE}", record=product_id)
    cadence = meta.get(CADENCE)
    if cadence not in CADENCES:
        raise RecordError(f"variant {variant_id}: metadata {CADENCE} must be one of "
                          f"{', '.join(CADENCES)}", record=product_id)
    prepaid = _int_or_none(meta.get(PREPAID_ROUNDS)) or 1
    price = variant_channel_price(variant, channel_slug)
    if price is None:
        raise RecordError(f"variant {variant_id}: no price in channel {channel_slug}",
                          record=product_id)
    total = money(price, f"variant {variant_id} price", record=product_id)
    if prepaid < 1 or total % prepaid:
        raise RecordError(f"variant {variant_id}: price {total} KRW is not {prepaid} whole "
                          "rounds", record=product_id)
    plan: dict[str, Any] = {"box_code": box_code, "code": code,
                            "name": str(variant.get("name") or code)[:200],
                            "cadence": cadence, "prepaid_rounds": prepaid,
                            "round_price": total // prepaid}
    term = _int_or_none(meta.get(TERM_ROUNDS))
    if term is not None:
        plan["term_rounds"] = term
    return plan


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
