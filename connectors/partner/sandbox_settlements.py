"""The partner sandbox's money and shipping side: the settlement report it pays the hub by
(built from its own orders: gross, its fee, payout) with a knob to misreport one order, and
the fulfilments the hub told it about (its `order.fulfilled` notifications)."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from connectors.partner.sandbox_server import Notification

DEFAULT_FEE_BP = 1100  # the platform keeps 11% of what it sold


class SettlementDesk:
    """Mixed into PartnerSandbox, which provides what is declared here."""

    _lock: threading.RLock
    _orders: dict[str, dict[str, Any]]
    fee_bp: int = DEFAULT_FEE_BP

    @property
    def notifications(self) -> list[Notification]:
        raise NotImplementedError

    @property
    def fulfilments(self) -> list[Notification]:
        """The hub's `order.fulfilled` notifications, once per webhook-id."""
        return [n for n in self.notifications if n.type == "order.fulfilled"]

    def _misreports(self) -> dict[str, int]:
        with self._lock:
            found: dict[str, int] | None = getattr(self, "_misreported", None)
            if found is None:
                found = {}
                self._misreported = found
            return found

    def misreport_settlement(self, order_id: str, by: int) -> None:
        """Fault knob: the report states this order's payout off by `by` won (0 ends it)."""
        if isinstance(by, bool) or not isinstance(by, int):
            raise ValueError("a misreport is whole won")
        with self._lock:
            if order_id not in self._orders:
                raise LookupError(f"no order {order_id!r} on this platform")
            if by:
                self._misreports()[order_id] = by
            else:
                self._misreports().pop(order_id, None)

    def settlement_report(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """One line per order placed in [start, end), not cancelled, oldest first: what the
        customer paid net of refunds, the platform's fee (floored), and the payout."""
        with self._lock:
            orders = [dict(order) for order in self._orders.values()]
            misreports = dict(self._misreports())
        lines = []
        for order in sorted(orders, key=lambda o: (o["placed_at"], o["order_id"])):
            placed = datetime.fromisoformat(str(order["placed_at"]).replace("Z", "+00:00"))
            if order.get("status") == "cancelled" or not start <= placed < end:
                continue
            gross = int(order["total"]) - int(order.get("refunded") or 0)
            fee = gross * self.fee_bp // 10000
            payout = gross - fee + misreports.get(order["order_id"], 0)
            lines.append({"order_id": order["order_id"], "placed_at": order["placed_at"],
                          "gross": gross, "fee": fee, "payout": payout})
        return lines
