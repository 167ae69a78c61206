"""Query and object-field resolvers attached to the real schema.

Fields not listed here use graphql-core's default resolver, which reads the record dict;
a field the sandbox does not hold resolves to null."""

from __future__ import annotations

from typing import Any

from graphql import (
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
)

from connectors.saleor.sandbox.context import ctx, node_or_none
from connectors.saleor.sandbox.listing import (
    check_supported,
    combine_where,
    connection,
    in_range,
    matches_filter_input,
    metadata_matches,
    one_filter,
    pk_key,
    pks,
    sorted_connection,
    text_search,
)
from connectors.saleor.sandbox.products import q_product, q_product_variant, q_products
from connectors.saleor.sandbox.schema import PermissionDenied
from connectors.saleor.sandbox.store import Rec

ORDER_SORT = {"NUMBER": "_number", "CREATION_DATE": "created", "CREATED_AT": "created",
              "LAST_MODIFIED_AT": "updatedAt", "CUSTOMER": "userEmail",
              "PAYMENT": "paymentStatus", "FULFILLMENT_STATUS": "status", "STATUS": "status"}


# -- Query -----------------------------------------------------------------------------------

def q_shop(_root: Any, info: GraphQLResolveInfo) -> Rec:
    return ctx(info).store.shop


def q_app(_root: Any, info: GraphQLResolveInfo, id: str | None = None) -> Rec | None:
    c = ctx(info)
    if id is None:
        return c.app
    record = node_or_none(c.store, id, ("App",))
    if record is not c.app:
        c.require("MANAGE_APPS")
    return record


def q_channels(_root: Any, info: GraphQLResolveInfo) -> list[Rec]:
    return ctx(info).store.all("Channel")


def q_channel(_root: Any, info: GraphQLResolveInfo, id: str | None = None,
              slug: str | None = None) -> Rec | None:
    store = ctx(info).store
    return store.by_slug("Channel", slug) if slug else node_or_none(store, id, ("Channel",))


def _simple_list(info: GraphQLResolveInfo, type_name: str, name: str,
                 args: dict[str, Any]) -> Rec:
    store = ctx(info).store
    given = args.get("filter") or {}
    check_supported(given, {"search", "ids", "slugs", "kind"}, name)
    wanted = pks(given.get("ids"), type_name) if given.get("ids") else None
    items = [r for r in store.all(type_name)
             if text_search(given.get("search"), r.get("name"), r.get("slug"))
             and (wanted is None or r["pk"] in wanted)
             and (not given.get("slugs") or r.get("slug") in given["slugs"])
             and (not given.get("kind") or r.get("kind") == given["kind"])]
    return sorted_connection(items, args, name, {"NAME": "name"}, ("slug", False))


def q_warehouses(_root: Any, info: GraphQLResolveInfo, **args: Any) -> Rec:
    return _simple_list(info, "Warehouse", "warehouses", args)


def q_product_types(_root: Any, info: GraphQLResolveInfo, **args: Any) -> Rec:
    return _simple_list(info, "ProductType", "productTypes", args)


def q_categories(_root: Any, info: GraphQLResolveInfo, **args: Any) -> Rec:
    return _simple_list(info, "Category", "categories", args)


STATUS_FILTER = {"UNFULFILLED": {"UNFULFILLED"}, "UNCONFIRMED": {"UNCONFIRMED"},
                 "PARTIALLY_FULFILLED": {"PARTIALLY_FULFILLED"}, "FULFILLED": {"FULFILLED"},
                 "CANCELED": {"CANCELED"}}


def _status_filter(order: Rec, wanted: list[str]) -> bool:
    for value in wanted:
        if value == "READY_TO_FULFILL":
            if order["status"] in ("UNFULFILLED", "PARTIALLY_FULFILLED") and order["isPaid"]:
                return True
        elif value == "READY_TO_CAPTURE":
            if order["paymentStatus"] == "NOT_CHARGED" and order["status"] != "CANCELED":
                return True
        elif order["status"] in STATUS_FILTER.get(value, set()):
            return True
    return False


def _order_filter(order: Rec, given: dict[str, Any]) -> bool:
    if given.get("ids") and order["pk"] not in pks(given["ids"], "Order"):
        return False
    if given.get("channels") and order["channel"]["pk"] not in pks(given["channels"], "Channel"):
        return False
    if given.get("status") and not _status_filter(order, given["status"]):
        return False
    skus = [line.get("productSku") for line in order["lines"]]
    return (in_range(order["updatedAt"], given.get("updatedAt"))
            and in_range(order["created"], given.get("created"))
            and (not given.get("paymentStatus") or order["paymentStatus"] in given["paymentStatus"])
            and (not given.get("chargeStatus") or order["chargeStatus"] in given["chargeStatus"])
            and (not given.get("numbers") or order["number"] in given["numbers"])
            and text_search(given.get("customer"), order.get("userEmail"))
            and metadata_matches(order, given.get("metadata"))
            and text_search(given.get("search"), order["number"], order.get("userEmail"), *skus))


def _order_where(order: Rec, where: dict[str, Any]) -> bool:
    return ((not where.get("ids") or order["id"] in where["ids"])
            and matches_filter_input(order["_number"], where.get("number"))
            and in_range(order["updatedAt"], where.get("updatedAt"))
            and in_range(order["created"], where.get("createdAt"))
            and matches_filter_input(order["status"], where.get("status"))
            and matches_filter_input(order["chargeStatus"], where.get("chargeStatus"))
            and matches_filter_input(order.get("userEmail"), where.get("userEmail"))
            and matches_filter_input(order["channel"]["id"], where.get("channelId"))
            and metadata_matches(order, where.get("metadata")))


def q_orders(_root: Any, info: GraphQLResolveInfo, **args: Any) -> Rec:
    c = ctx(info)
    one_filter(args)
    given = args.get("filter") or {}
    check_supported(given, {"ids", "channels", "status", "updatedAt", "created", "paymentStatus",
                            "chargeStatus", "numbers", "customer", "metadata", "search"},
                    "orders.filter")
    check_supported(args.get("where"), {"ids", "number", "updatedAt", "createdAt", "status",
                                        "chargeStatus", "userEmail", "channelId", "metadata",
                                        "AND", "OR"}, "orders.where")
    channel = args.get("channel")
    items = [o for o in c.store.all("Order")
             if o["status"] != "DRAFT" and (channel is None or o["channel"]["slug"] == channel)
             and _order_filter(o, given) and combine_where(o, args.get("where"), _order_where)
             and text_search(args.get("search"), o["number"], o.get("userEmail"))]
    return sorted_connection(items, args, "orders", ORDER_SORT, ("_number", True))


def q_order(_root: Any, info: GraphQLResolveInfo, id: str | None = None,
            externalReference: str | None = None) -> Rec | None:
    store = ctx(info).store
    if externalReference:
        return next((o for o in store.all("Order")
                     if o.get("externalReference") == externalReference), None)
    return node_or_none(store, id, ("Order",))


# -- object fields ---------------------------------------------------------------------------

def _metadata(key: str) -> Any:
    def resolve(root: Rec, info: GraphQLResolveInfo) -> list[Rec]:
        if key == "_privateMetadata" and not ctx(info).can_manage(root):
            raise PermissionDenied(("MANAGE_PRODUCTS", "MANAGE_ORDERS"), path_level=True)
        return [{"key": k, "value": v} for k, v in root.get(key, {}).items()]
    return resolve


def _metafield(key: str) -> Any:
    def resolve(root: Rec, info: GraphQLResolveInfo, **args: Any) -> Any:
        if key == "_privateMetadata" and not ctx(info).can_manage(root):
            raise PermissionDenied(("MANAGE_PRODUCTS", "MANAGE_ORDERS"), path_level=True)
        values: dict[str, str] = root.get(key, {})
        if info.field_name.endswith("s"):
            keys = args.get("keys")
            return {k: v for k, v in values.items() if keys is None or k in keys}
        return values.get(args["key"])
    return resolve


def _quantity_available(root: Rec, _info: GraphQLResolveInfo, **_: Any) -> int:
    return sum(max(s["quantity"] - s["quantityAllocated"], 0) for s in root["stocks"])


def _line_variant(root: Rec, info: GraphQLResolveInfo) -> Rec | None:
    variant = root.get("variant")
    return variant if ctx(info).store.exists(variant) else None


def _product_variants(root: Rec, _info: GraphQLResolveInfo, **args: Any) -> Rec:
    check_supported(args.get("filter"), set(), "productVariants.filter")
    check_supported(args.get("where"), set(), "productVariants.where")
    return connection(root["variants"], args, "productVariants", [pk_key])


def _app_permissions(root: Rec, _info: GraphQLResolveInfo) -> list[Rec]:
    return [{"code": p, "name": p.replace("_", " ").capitalize() + "."}
            for p in root["_permissions"]]


def _event_root(root: Rec, info: GraphQLResolveInfo) -> Rec | None:
    if info.field_name == "event":
        return root
    wanted = info.field_name[0].upper() + info.field_name[1:]
    return root if root.get("__typename") == wanted else None


SIMPLE: dict[tuple[str, str], Any] = {
    ("Query", "shop"): q_shop, ("Query", "app"): q_app, ("Query", "channels"): q_channels,
    ("Query", "channel"): q_channel, ("Query", "warehouses"): q_warehouses,
    ("Query", "productTypes"): q_product_types, ("Query", "categories"): q_categories,
    ("Query", "products"): q_products, ("Query", "product"): q_product,
    ("Query", "productVariant"): q_product_variant, ("Query", "orders"): q_orders,
    ("Query", "order"): q_order,
    ("ProductVariant", "quantityAvailable"): _quantity_available,
    ("OrderLine", "variant"): _line_variant, ("App", "permissions"): _app_permissions,
    ("Product", "productVariants"): _product_variants,
    ("Product", "defaultVariant"): lambda root, _info: (root["variants"] or [None])[0],
    ("OrderLine", "quantityToFulfill"):
        lambda root, _info: root["quantity"] - root["quantityFulfilled"],
}


def install_resolvers(schema: GraphQLSchema) -> None:
    from connectors.saleor.sandbox.mutations import mutation_resolvers

    for type_ in schema.type_map.values():
        if not isinstance(type_, GraphQLObjectType | GraphQLInterfaceType):
            continue
        fields = type_.fields
        for name, key in (("metadata", "_metadata"), ("privateMetadata", "_privateMetadata")):
            if name in fields:
                fields[name].resolve = _metadata(key)
        for name, key in (("metafield", "_metadata"), ("metafields", "_metadata"),
                          ("privateMetafield", "_privateMetadata"),
                          ("privateMetafields", "_privateMetadata")):
            if name in fields:
                fields[name].resolve = _metafield(key)
    for (type_name, field_name), resolver in SIMPLE.items():
        owner = schema.type_map[type_name]
        assert isinstance(owner, GraphQLObjectType)
        owner.fields[field_name].resolve = resolver
    for field_name, resolver in mutation_resolvers().items():
        assert schema.mutation_type is not None
        schema.mutation_type.fields[field_name].resolve = resolver
    if schema.subscription_type is not None:
        for field in schema.subscription_type.fields.values():
            field.resolve = _event_root
