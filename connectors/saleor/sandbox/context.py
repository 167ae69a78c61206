"""Who is asking: the request context, permission checks and Saleor-shaped errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo

from connectors.saleor.sandbox.schema import PermissionDenied, Rule, from_global_id
from connectors.saleor.sandbox.store import Rec, Store

ROOT_TYPES = ("Query", "Mutation", "Subscription")
# Which permission lets an app touch (and read private metadata of) a record of a type.
MANAGE_BY_TYPE = {
    "Product": ("MANAGE_PRODUCTS",), "ProductVariant": ("MANAGE_PRODUCTS",),
    "Category": ("MANAGE_PRODUCTS",), "Warehouse": ("MANAGE_PRODUCTS",),
    "ProductType": ("MANAGE_PRODUCT_TYPES_AND_ATTRIBUTES",),
    "Order": ("MANAGE_ORDERS",), "OrderLine": ("MANAGE_ORDERS",),
    "Fulfillment": ("MANAGE_ORDERS",), "Channel": ("MANAGE_CHANNELS",),
    "App": ("MANAGE_APPS",), "Shop": ("MANAGE_SETTINGS",),
}


@dataclass
class Context:
    store: Store
    app: Rec | None = None
    superuser: bool = False
    permissions: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def for_app(cls, store: Store, app: Rec | None) -> Context:
        if app is None or not app.get("isActive"):
            return cls(store)
        return cls(store, app=app, permissions=frozenset(app["_permissions"]))

    def has(self, *permissions: str) -> bool:
        return self.superuser or any(p in self.permissions for p in permissions)

    def require(self, *permissions: str) -> None:
        if not self.has(*permissions):
            raise PermissionDenied(permissions)

    def owns(self, record: Any) -> bool:
        if self.app is None or not isinstance(record, dict):
            return False
        return record is self.app or record.get("app") is self.app

    def can_manage(self, record: Rec) -> bool:
        if record["__typename"] == "App" and self.owns(record):
            return True
        return self.has(*MANAGE_BY_TYPE.get(record["__typename"], ("MANAGE_SETTINGS",)))


def ctx(info: GraphQLResolveInfo) -> Context:
    context = info.context
    assert isinstance(context, Context)
    return context


def _satisfied(context: Context, permission: str, root: Any) -> bool:
    if context.superuser:
        return True
    if permission == "AUTHENTICATED_APP":
        return context.app is not None
    if permission == "OWNER":
        return context.owns(root)
    return permission in context.permissions


class PermissionMiddleware:
    """Applies the SDL's "Requires ... permissions" rules to every resolved field."""

    def __init__(self, rules: dict[tuple[str, str], Rule]) -> None:
        self.rules = rules

    def resolve(self, next_: Any, root: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
        rule = self.rules.get((info.parent_type.name, info.field_name))
        if rule is not None:
            context = ctx(info)
            checks = [_satisfied(context, p, root) for p in rule.permissions]
            if not (all(checks) if rule.all_required else any(checks)):
                raise PermissionDenied(rule.permissions,
                                       path_level=info.parent_type.name not in ROOT_TYPES)
        return next_(root, info, **args)


class MutationErrors(Exception):
    """Errors shown in a mutation payload's `errors` (Saleor's ValidationError)."""

    def __init__(self, errors: list[Rec]) -> None:
        super().__init__("; ".join(str(e.get("message")) for e in errors))
        self.errors = errors


def error(field_name: str | None, code: str, message: str, **extra: Any) -> Rec:
    return {"field": field_name, "code": code, "message": message, **extra}


def fail(field_name: str | None, code: str, message: str, **extra: Any) -> MutationErrors:
    return MutationErrors([error(field_name, code, message, **extra)])


def payload(legacy: str, errors: list[Rec], **data: Any) -> Rec:
    return {"errors": errors, legacy: errors, **data}


def node_or_error(store: Store, value: Any, types: tuple[str, ...], field_name: str) -> Rec:
    """The record a global id names, or a Saleor-like validation error."""
    if not isinstance(value, str) or (decoded := from_global_id(value)) is None:
        raise fail(field_name, "GRAPHQL_ERROR", f"Couldn't resolve id: {value}.")
    type_name, pk = decoded
    if type_name not in types:
        raise fail(field_name, "GRAPHQL_ERROR", f"Must receive a {types[0]} id.")
    record = store.get(type_name, pk)
    if record is None:
        raise fail(field_name, "NOT_FOUND", f"Couldn't resolve to a node: {value}")
    return record


def node_or_none(store: Store, value: Any, types: tuple[str, ...]) -> Rec | None:
    if not isinstance(value, str) or (decoded := from_global_id(value)) is None:
        return None
    type_name, pk = decoded
    return store.get(type_name, pk) if type_name in types else None


def format_error(err: GraphQLError) -> Rec:
    """A GraphQL error as Saleor shows it: extensions.exception.code is the exception class."""
    formatted: Rec = dict(err.formatted)
    original = err.original_error
    code = type(original).__name__ if original is not None else "GraphQLError"
    extensions: Rec = dict(formatted.get("extensions") or {})
    extensions["exception"] = {"code": code}
    if isinstance(original, PermissionDenied):
        extensions["code"] = "PERMISSION_DENIED"
    formatted["extensions"] = extensions
    return formatted
