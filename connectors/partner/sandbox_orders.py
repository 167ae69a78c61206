"""The platform's customers at work: orders placed, cancelled and refunded, and listings
changed, each sent to the hub as a webhook with the data mappings/partner/events.py reads
(listing_id is this platform's product id, plan_code the hub plan's code, unit_price the
fed plan's round price)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from connectors.partner.sandbox_webhooks import Delivery, WebhookSender, iso_seconds


class OrderEvents:
    """Mixed into PartnerSandbox, which provides what is declared here."""

    clock: Callable[[], datetime]
    _lock: threading.RLock
    _run: str
    _boxes: dict[str, dict[str, Any]]
    _orders: dict[str, dict[str, Any]]
    _webhooks: WebhookSender

    def _product_id(self, code: str) -> str:
        raise NotImplementedError

    def product_url(self, product_id: str) -> str:
        raise NotImplementedError

    @property
    def orders(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {order_id: dict(data) for order_id, data in self._orders.items()}

    def send_event(self, event_type: str, data: Mapping[str, Any]) -> Delivery:
        """Make and send any event as is (order events also go to the log)."""
        return self._webhooks.emit(event_type, data)

    def flush(self) -> list[Delivery]:
        """Send the webhooks an out_of_order fault still holds, in reverse order."""
        return self._webhooks.flush()

    def place_order(self, box_code: str, plan_code: str, quantity: int = 1, *,
                    customer_ref: str | None = None) -> str:
        """A customer subscribes to a fed box's plan at its round price; order.placed."""
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise ValueError("quantity is a whole number from 1")
        product_id = self._product_id(box_code)
        with self._lock:
            plan = next((p for p in self._boxes[box_code].get("plans") or []
                         if p.get("code") == plan_code), None)
            if plan is None:
                raise LookupError(f"box {box_code!r} has no plan {plan_code!r} in the feed")
            number = len(self._orders) + 1
            order_id = f"{self._run}-{number:05d}"
            unit_price = int(plan["round_price"])
            data = {"order_id": order_id, "order_number": str(number), "status": "paid",
                    "placed_at": iso_seconds(self.clock()), "currency": "KRW",
                    "total": unit_price * quantity, "refunded": 0,
                    "customer_ref": customer_ref or f"c-{self._run}-{number}",
                    "lines": [{"line_id": "1", "listing_id": product_id,
                               "plan_code": plan_code, "quantity": quantity,
                               "unit_price": unit_price}]}
            self._orders[order_id] = data
        self._webhooks.emit("order.placed", data)
        return order_id

    def _change_order(self, order_id: str, **changes: Any) -> dict[str, Any]:
        with self._lock:
            if order_id not in self._orders:
                raise LookupError(f"no order {order_id!r} on this platform")
            data = {**self._orders[order_id], **changes}
            self._orders[order_id] = data
            return data

    def cancel_order(self, order_id: str) -> int | None:
        """order.cancelled; returns the hub's answer (None while held)."""
        data = self._change_order(order_id, status="cancelled")
        return self._webhooks.emit("order.cancelled", data).status

    def refund(self, order_id: str, amount: int,
               components: Sequence[Mapping[str, Any]] | None = None) -> int | None:
        """order.refunded with the order's refunded total so far (and the refunded
        components, when given, as `components`)."""
        if isinstance(amount, bool) or not isinstance(amount, int) or amount < 1:
            raise ValueError("a refund is whole won, from 1")
        with self._lock:
            order = self.orders.get(order_id)
            if order is None:
                raise LookupError(f"no order {order_id!r} on this platform")
            refunded = int(order["refunded"]) + amount
            if refunded > int(order["total"]):
                raise ValueError("refunds cannot exceed the order's total")
            changes: dict[str, Any] = {"refunded": refunded}
            if components is not None:
                changes["components"] = [dict(component) for component in components]
            data = self._change_order(order_id, **changes)
        return self._webhooks.emit("order.refunded", data).status

    def report_listing_changed(self, box_code: str, status: str = "active") -> int | None:
        """listing.changed for a fed box's product here."""
        product_id = self._product_id(box_code)
        data = {"listing_id": product_id, "box_code": box_code,
                "url": self.product_url(product_id), "status": status}
        return self._webhooks.emit("listing.changed", data).status
