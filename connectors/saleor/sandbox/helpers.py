"""What happens in the mall without the hub: shoppers order, staff move orders along,
merchants add products and stock. Each helper emits the webhooks Saleor would."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from connectors.saleor.sandbox import catalog, orders
from connectors.saleor.sandbox.install import (
    InstalledApp,
    add_webhook,
    create_app,
    events_of_query,
    remove_app,
)
from connectors.saleor.sandbox.install import parse_subscription as _parse
from connectors.saleor.sandbox.net import require_loopback_url
from connectors.saleor.sandbox.schema import SandboxSchema, from_global_id
from connectors.saleor.sandbox.store import Rec, Store


class MallHelpers:
    store: Store
    schema: SandboxSchema

    # -- lookups ------------------------------------------------------------------------

    def _record(self, type_name: str, value: str) -> Rec:
        decoded = from_global_id(value)
        record = None
        if decoded is not None and decoded[0] == type_name:
            record = self.store.get(type_name, decoded[1])
        if record is None:
            record = self.store.by_slug(type_name, value)
        if record is None:
            raise LookupError(f"no {type_name} {value!r}")
        return record

    @property
    def default_channel_id(self) -> str:
        return str(self.store.default_channel["id"])

    @property
    def warehouse_ids(self) -> list[str]:
        return [w["id"] for w in self.store.all("Warehouse")]

    @property
    def category_id(self) -> str:
        return str(self.store.all("Category")[0]["id"])

    def add_channel(self, slug: str, name: str, currency: str = "KRW") -> str:
        with self.store.lock:
            return str(self.store.add_channel(slug, name, currency)["id"])

    # -- apps -----------------------------------------------------------------------------

    def create_app(self, name: str, permissions: Sequence[str],
                   identifier: str | None = None) -> InstalledApp:
        """A local app with a token, as `manage.py create_app` makes (no handshake)."""
        with self.store.lock:
            app, token = create_app(self.store, name=name, permissions=list(permissions),
                                    identifier=identifier)
        return InstalledApp(app["id"], identifier, name, token, tuple(app["_permissions"]), ())

    def add_webhook(self, app_id: str, *, target_url: str, query: str, name: str = "webhook",
                    events: Sequence[str] | None = None, secret: str | None = None) -> str:
        require_loopback_url(target_url)
        document = _parse(query, self.schema)
        spec = {"name": name, "targetUrl": target_url, "query": query, "document": document,
                "asyncEvents": list(events or events_of_query(document, self.schema)),
                "syncEvents": [], "isActive": True}
        with self.store.lock:
            return str(add_webhook(self.store, self._record("App", app_id), spec, secret)["id"])

    def set_webhook_secret(self, app_id: str, secret: str | None) -> None:
        """Legacy HMAC signing for every webhook of the app (None: back to JWS)."""
        with self.store.lock:
            for webhook in self._record("App", app_id)["webhooks"]:
                webhook["secretKey"] = secret

    def uninstall_app(self, app_id: str) -> None:
        with self.store.lock:
            remove_app(self.store, self._record("App", app_id))

    def revoke_tokens(self, app_id: str) -> None:
        with self.store.lock:
            app = self._record("App", app_id)
            app["_tokens"] = []
            app["tokens"] = []

    # -- catalog --------------------------------------------------------------------------

    def create_product(self, name: str, *, variants: Sequence[Mapping[str, Any]] = (),
                       product_type: str = "Mall product", published: bool = True,
                       description: Any = None, metadata: Mapping[str, str] | None = None,
                       channel: str = "default-channel") -> str:
        """A product made in the mall itself. Each variant: sku, name, price,
        stocks {warehouse slug or id: quantity}."""
        with self.store.lock:
            store = self.store
            kind = next((t for t in store.all("ProductType") if t["name"] == product_type),
                        None)
            if kind is None:
                kind = store.new("ProductType", name=product_type,
                                 slug=store.unique_slug("ProductType", product_type),
                                 kind="NORMAL", hasVariants=True, isShippingRequired=True,
                                 isDigital=False, weight=None, taxType=None,
                                 productAttributes=[], variantAttributes=[])
            product = catalog.new_product(
                store, name=name, slug=store.unique_slug("Product", name), product_type=kind,
                category=store.all("Category")[0], description=description)
            product["_metadata"].update(metadata or {})
            target = self._record("Channel", channel)
            catalog.set_product_listing(store, product, target, {
                "isPublished": published, "visibleInListings": published,
                "isAvailableForPurchase": published})
            for spec in variants:
                variant = catalog.new_variant(store, product, sku=spec.get("sku"),
                                              name=spec.get("name", ""))
                if spec.get("price") is not None:
                    catalog.set_variant_listing(store, variant, target,
                                                {"price": Decimal(str(spec["price"]))})
                for warehouse, quantity in (spec.get("stocks") or {}).items():
                    catalog.set_stock(store, variant, self._record("Warehouse", warehouse),
                                      int(quantity))
            store.emit("PRODUCT_CREATED", None, product=product, category=product["category"])
            return str(product["id"])

    def set_stock(self, variant_id: str, warehouse: str, quantity: int) -> None:
        """Mall staff set an absolute quantity (emits PRODUCT_VARIANT_STOCK_UPDATED)."""
        with self.store.lock:
            variant = self._record("ProductVariant", variant_id)
            place = self._record("Warehouse", warehouse)
            stock, before = catalog.set_stock(self.store, variant, place, quantity)
            self.store.touch(variant)
            if before != quantity:
                self.store.emit("PRODUCT_VARIANT_STOCK_UPDATED", None, productVariant=variant,
                                warehouse=place)

    # -- orders ---------------------------------------------------------------------------

    def place_order(self, lines: Sequence[tuple[str, int]], *, channel: str = "default-channel",
                    email: str = "buyer@example.kr", paid: bool = True,
                    shipping_address: Mapping[str, Any] | None = None,
                    metadata: Mapping[str, str] | None = None, note: str = "",
                    check_stock: bool = True, status: str = "UNFULFILLED") -> str:
        """A shopper's checkout: lines of (variant id, quantity); returns the order id."""
        with self.store.lock:
            order = orders.place_order(
                self.store, list(lines), channel_slug=channel, email=email, paid=paid,
                address=dict(shipping_address) if shipping_address else None,
                metadata=dict(metadata or {}), note=note, check_stock=check_stock,
                status=status)
            return str(order["id"])

    def mark_paid(self, order_id: str) -> None:
        with self.store.lock:
            orders.mark_paid(self.store, orders.find_order(self.store, order_id))

    def update_order_status(self, order_id: str, status: str) -> None:
        with self.store.lock:
            orders.set_status(self.store, orders.find_order(self.store, order_id), status)

    def cancel(self, order_id: str) -> None:
        with self.store.lock:
            orders.cancel(self.store, orders.find_order(self.store, order_id))

    def refund(self, order_id: str, amount: Decimal | float | int | None = None) -> None:
        with self.store.lock:
            value = None if amount is None else Decimal(str(amount))
            orders.refund(self.store, orders.find_order(self.store, order_id), value)
