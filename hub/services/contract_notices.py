"""Telling a platform what an operator changed in one of its subscriptions.

A subscription sold on a partner platform is billed there. When an operator pauses, resumes,
skips, re-dates, cancels, renews or ends it in the hub, the platform is told through its
notifications (the outbox, in the same transaction as the change), so its billing follows.
Changes the platform sent itself are not echoed back. A mall order is not notified: the mall
is told about deliveries through fulfilment, and an operator cancels there by hand."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from hub.models import Connection, Contract, Order, OrderLine, OutboxMessage
from hub.services import notifications
from mappings.partner.events import NOTICE_TYPES


def announce(session: Session, contract: Contract, action: str, *,
             skipped_on: date | None = None,
             now: datetime | None = None) -> OutboxMessage | None:
    """Queue the notice of an operator's change for the platform the order came from, if it
    is a partner platform that takes notifications; None otherwise."""
    order = session.get_one(Order, contract.order_id)
    connection = session.get_one(Connection, order.connection_id)
    if connection.connector != "partner" or not (connection.config or {}).get("outbound_url"):
        return None
    line = session.get_one(OrderLine, contract.order_line_id)
    data: dict[str, Any] = {
        "order_id": order.external_id, "line_id": line.external_line_id,
        "status": contract.status, "cadence": contract.cadence,
        "next_round_on": _day(contract.next_round_on)}
    if action == "skip":
        data["scheduled_on"] = _day(skipped_on)
    if action == "cancel":
        data["cancelled_on"] = _day(contract.cancelled_on)
        data["reason"] = contract.cancel_reason
    return notifications.enqueue(session, connection, NOTICE_TYPES[action], data, now=now)


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()
