"""Catalog and metadata mutations, with Saleor's errors in the payload for bad input.

Permissions come from the SDL (see PermissionMiddleware) except for the metadata
mutations, where Saleor checks the permission of the type of the object they touch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLResolveInfo

from connectors.saleor.sandbox import catalog
from connectors.saleor.sandbox.context import (
    MANAGE_BY_TYPE,
    Context,
    MutationErrors,
    ctx,
    error,
    fail,
    node_or_error,
    payload,
)
from connectors.saleor.sandbox.schema import PermissionDenied, from_global_id
from connectors.saleor.sandbox.store import Rec

Mutation = Callable[..., Rec]


def mutation(legacy: str, empty: dict[str, Any]) -> Callable[[Mutation], Any]:
    """Runs `fn(context, **args)` and shapes its result or errors as a Saleor payload."""
    def decorate(fn: Mutation) -> Any:
        def resolve(_root: Any, info: GraphQLResolveInfo, **args: Any) -> Rec:
            context = ctx(info)
            with context.store.lock:
                try:
                    result = fn(context, **args)
                except MutationErrors as errors:
                    return payload(legacy, errors.errors, **empty)
            out = payload(legacy, [])
            out.update(result)
            return out
        return resolve
    return decorate


def by_ref(c: Context, type_name: str, id_: str | None, **refs: str | None) -> Rec:
    if id_ is not None:
        return node_or_error(c.store, id_, (type_name,), "id")
    for key, value in refs.items():
        if value is None:
            continue
        found = next((r for r in c.store.all(type_name) if r.get(key) == value), None)
        if found is None:
            raise fail(key, "NOT_FOUND", f"Couldn't resolve to a node: {value}")
        return found
    raise fail("id", "GRAPHQL_ERROR", "At least one of arguments is required: 'id', "
               f"{', '.join(repr(k) for k in refs)}.")


def _slug(c: Context, type_name: str, data: dict[str, Any], name: str,
          record: Rec | None = None) -> str:
    if "slug" not in data or data["slug"] is None:
        return record["slug"] if record else c.store.unique_slug(type_name, name)
    slug = data["slug"].strip()
    if not slug:
        raise fail("slug", "REQUIRED", "Slug value cannot be blank.")
    if any(r.get("slug") == slug and r is not record for r in c.store.all(type_name)):
        label = "Product type" if type_name == "ProductType" else type_name
        raise fail("slug", "UNIQUE", f"{label} with this Slug already exists.")
    return slug


def _name(data: dict[str, Any], record: Rec | None) -> str:
    if "name" not in data and record is not None:
        return str(record["name"])
    name = (data.get("name") or "").strip()
    if not name:
        raise fail("name", "REQUIRED", "This field cannot be blank.")
    return name


def no_attributes(values: list[Any] | None, field_name: str = "attributes") -> None:
    if values:
        raise fail(field_name, "NOT_FOUND",
                   "The sandbox has no attributes; pass an empty list.")


@mutation("productErrors", {"productType": None})
def product_type_create(c: Context, input: dict[str, Any]) -> Rec:
    name = _name(input, None)
    slug = _slug(c, "ProductType", input, name)
    no_attributes(input.get("productAttributes"), "productAttributes")
    no_attributes(input.get("variantAttributes"), "variantAttributes")
    record = c.store.new(
        "ProductType", name=name, slug=slug, kind=input.get("kind") or "NORMAL",
        hasVariants=input.get("hasVariants", True) is not False,
        isShippingRequired=input.get("isShippingRequired", True) is not False,
        isDigital=bool(input.get("isDigital")), weight=None, taxType=None,
        productAttributes=[], variantAttributes=[])
    return {"productType": record}


@mutation("productErrors", {"category": None})
def category_create(c: Context, input: dict[str, Any],
                    parent: str | None = None) -> Rec:
    name = _name(input, None)
    slug = _slug(c, "Category", input, name)
    above = node_or_error(c.store, parent, ("Category",), "parent") if parent else None
    description = input.get("description")
    if description is not None and not isinstance(description, dict):
        raise fail("description", "INVALID", "Description must be an EditorJS object.")
    seo = input.get("seo") or {}
    category = c.store.new("Category", name=name, slug=slug, description=description,
                           descriptionJson=description, parent=above,
                           level=0 if above is None else above["level"] + 1,
                           seoTitle=seo.get("title"), seoDescription=seo.get("description"))
    catalog.apply_metadata(category, input.get("metadata"))
    catalog.apply_metadata(category, input.get("privateMetadata"), private=True)
    return {"category": category}


def _product_fields(c: Context, data: dict[str, Any], record: Rec | None) -> Rec:
    no_attributes(data.get("attributes"))
    errors = catalog.metadata_errors(data.get("metadata"), "metadata")
    errors += catalog.metadata_errors(data.get("privateMetadata"), "privateMetadata")
    if errors:
        raise MutationErrors(errors)
    name = _name(data, record)
    fields: Rec = {"name": name, "slug": _slug(c, "Product", data, name, record)}
    if "category" in data:
        category = data["category"]
        fields["category"] = (None if category is None else
                              node_or_error(c.store, category, ("Category",), "category"))
    if "description" in data:
        description = data["description"]
        if description is not None and not isinstance(description, dict):
            raise fail("description", "INVALID", "Description must be an EditorJS object.")
        fields["description"] = fields["descriptionJson"] = description
    reference = data.get("externalReference")
    if reference is not None:
        if any(p.get("externalReference") == reference and p is not record
               for p in c.store.all("Product")):
            raise fail("externalReference", "UNIQUE",
                       "Product with this External reference already exists.")
        fields["externalReference"] = reference
    for key in ("chargeTaxes", "rating", "weight"):
        if data.get(key) is not None:
            fields[key] = data[key]
    seo = data.get("seo") or {}
    fields.update({k: seo[s] for k, s in (("seoTitle", "title"), ("seoDescription",
                                                                   "description")) if s in seo})
    return fields


@mutation("productErrors", {"product": None})
def product_create(c: Context, input: dict[str, Any]) -> Rec:
    product_type = node_or_error(c.store, input.get("productType"), ("ProductType",),
                                 "productType")
    fields = _product_fields(c, input, None)
    product = catalog.new_product(c.store, product_type=product_type, **fields)
    catalog.apply_metadata(product, input.get("metadata"))
    catalog.apply_metadata(product, input.get("privateMetadata"), private=True)
    c.store.emit("PRODUCT_CREATED", c.app, product=product, category=product["category"])
    return {"product": product}


@mutation("productErrors", {"product": None})
def product_update(c: Context, input: dict[str, Any], id: str | None = None,
                   externalReference: str | None = None) -> Rec:
    product = by_ref(c, "Product", id, externalReference=externalReference)
    product.update(_product_fields(c, input, product))
    catalog.apply_metadata(product, input.get("metadata"))
    catalog.apply_metadata(product, input.get("privateMetadata"), private=True)
    c.store.touch(product)
    c.store.emit("PRODUCT_UPDATED", c.app, product=product, category=product["category"])
    return {"product": product}


@mutation("productErrors", {"product": None})
def product_delete(c: Context, id: str | None = None,
                   externalReference: str | None = None) -> Rec:
    product = by_ref(c, "Product", id, externalReference=externalReference)
    variants = catalog.delete_product(c.store, product)
    for variant in variants:
        c.store.emit("PRODUCT_VARIANT_DELETED", c.app, productVariant=variant)
    c.store.emit("PRODUCT_DELETED", c.app, product=product, category=product["category"])
    return {"product": product}


def channel_listing_errors(c: Context, product: Rec, listings: list[Rec], field_name: str,
                            **extra: Any) -> tuple[list[Rec], list[tuple[Rec, Rec]]]:
    errors: list[Rec] = []
    resolved: list[tuple[Rec, Rec]] = []
    seen: set[str] = set()
    for data in listings:
        try:
            channel = node_or_error(c.store, data["channelId"], ("Channel",), field_name)
        except MutationErrors as failed:
            errors += [{**e, **extra} for e in failed.errors]
            continue
        if channel["pk"] in seen:
            errors.append(error(field_name, "DUPLICATED_INPUT_ITEM",
                                "Duplicated channel ID.", channels=[channel["id"]], **extra))
        seen.add(channel["pk"])
        if catalog.listing_in(product, channel) is None:
            errors.append(error(field_name, "PRODUCT_NOT_ASSIGNED_TO_CHANNEL",
                                f"Product not available in channels: {channel['slug']}.",
                                channels=[channel["id"]], **extra))
        price_problem = catalog.price_error(data.get("price"), channel["currencyCode"], "price",
                                            channels=[channel["id"]], **extra)
        if price_problem is not None:
            errors.append(price_problem)
        resolved.append((channel, data))
    return errors, resolved


def stock_errors(c: Context, stocks: list[Rec], field_name: str,
                  indexed: bool = False) -> tuple[list[Rec], list[tuple[Rec, int]]]:
    errors: list[Rec] = []
    resolved: list[tuple[Rec, int]] = []
    seen: set[str] = set()
    for index, data in enumerate(stocks):
        extra = {"index": index} if indexed else {}
        try:
            warehouse = node_or_error(c.store, data["warehouse"], ("Warehouse",), field_name)
        except MutationErrors as failed:
            errors += [{**e, **extra} for e in failed.errors]
            continue
        if warehouse["pk"] in seen:
            errors.append(error(field_name, "DUPLICATED_INPUT_ITEM",
                                "Duplicated warehouse ID.", **extra))
        seen.add(warehouse["pk"])
        if data["quantity"] < 0:
            errors.append(error("quantity", "INVALID",
                                "Quantity must be a non-negative number.", **extra))
        resolved.append((warehouse, data["quantity"]))
    return errors, resolved


def emit_stock(c: Context, stock: Rec, before: int) -> None:
    if before == stock["quantity"]:
        return
    variant, warehouse = stock["productVariant"], stock["warehouse"]
    c.store.emit("PRODUCT_VARIANT_STOCK_UPDATED", c.app, productVariant=variant,
                 warehouse=warehouse)
    if before > 0 >= stock["quantity"]:
        c.store.emit("PRODUCT_VARIANT_OUT_OF_STOCK", c.app, productVariant=variant,
                     warehouse=warehouse)
    elif before <= 0 < stock["quantity"]:
        c.store.emit("PRODUCT_VARIANT_BACK_IN_STOCK", c.app, productVariant=variant,
                     warehouse=warehouse)


def _metadata_update(private: bool, delete: bool) -> Mutation:
    def run(c: Context, id: str, input: list[Rec] | None = None,
            keys: list[str] | None = None) -> Rec:
        decoded = from_global_id(id) if isinstance(id, str) else None
        if decoded is None:
            raise fail("id", "GRAPHQL_ERROR", f"Couldn't resolve id: {id}.")
        record = c.store.get(*decoded)
        if record is None or "_metadata" not in record:
            raise fail("id", "NOT_FOUND", f"Couldn't resolve to a node: {id}")
        if not c.can_manage(record):
            raise PermissionDenied(MANAGE_BY_TYPE.get(record["__typename"], ("MANAGE_APPS",)))
        target = record["_privateMetadata" if private else "_metadata"]
        if delete:
            for key in keys or ():
                target.pop(key, None)
        else:
            errors = catalog.metadata_errors(input, "input")
            if errors:
                raise MutationErrors(errors)
            catalog.apply_metadata(record, input, private)
        if "updatedAt" in record:
            c.store.touch(record)
        _emit_metadata_events(c, record)
        return {"item": record}
    return run


def _emit_metadata_events(c: Context, record: Rec) -> None:
    kind = record["__typename"]
    if kind == "Product":
        for event in ("PRODUCT_UPDATED", "PRODUCT_METADATA_UPDATED"):
            c.store.emit(event, c.app, product=record, category=record["category"])
    elif kind == "ProductVariant":
        for event in ("PRODUCT_VARIANT_UPDATED", "PRODUCT_VARIANT_METADATA_UPDATED"):
            c.store.emit(event, c.app, productVariant=record)
    elif kind == "Order":
        for event in ("ORDER_UPDATED", "ORDER_METADATA_UPDATED"):
            c.store.emit(event, c.app, order=record)


def mutation_resolvers() -> dict[str, Any]:
    """Every mutation the sandbox implements, by field name."""
    from connectors.saleor.sandbox import orders, variants

    registry: dict[str, Any] = {
        "productTypeCreate": product_type_create, "categoryCreate": category_create,
        "productCreate": product_create,
        "productUpdate": product_update, "productDelete": product_delete,
        "orderFulfill": orders.order_fulfill, "orderNoteAdd": orders.order_note_add,
    }
    registry.update(variants.VARIANT_MUTATIONS)
    for name, private, delete in (("updateMetadata", False, False),
                                  ("deleteMetadata", False, True),
                                  ("updatePrivateMetadata", True, False),
                                  ("deletePrivateMetadata", True, True)):
        registry[name] = mutation("metadataErrors", {"item": None})(
            _metadata_update(private, delete))
    return registry
