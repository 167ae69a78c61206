"""The polling path: for platforms without webhooks, or as a safety net behind them, read
each connection's order stream from its stored cursor up to a bound fixed at the start (the
connector reads back a lookback window itself), and put what it finds in the inbox, where the
drain job applies it like any delivery. The new cursor is saved in the transaction that
inserts the rows, so a run killed half-way reads the same changes again, and the inbox's
unique (connection, delivery key) makes that a no-op.

A polled row's event is "polled:<kind>" and its body the canonical event as JSON: it was
mapped when it was read, not when it is drained."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app

from connectors import get_connector
from connectors.base import OrdersPull
from hub.db import session_scope, utcnow
from hub.errors import ConfigurationError, RecordError
from hub.models import Connection
from hub.queue import enqueue
from hub.schemas.canonical import CanonicalEventSchema
from hub.services.sync_health import stream_row
from hub.webhooks.context import close_context, connection_context
from hub.webhooks.inbound import insert_delivery
from jobs.inbox import POLLED

__all__ = ["POLLED", "STREAM", "PollReport", "canonical_event", "poll_orders"]

STREAM = "orders.pull"
MAX_PAGES = 50  # a run's bound; the next run goes on from the cursor
_EVENTS = CanonicalEventSchema()


@dataclass
class PollReport:
    connection_id: int
    read: int = 0
    inserted: int = 0
    skipped: str | None = None


def canonical_event(record: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(delivery key, canonical event) of a polled record: a canonical event already (with
    its delivery key), or an order record, keyed by its id and update time."""
    if "kind" in record:  # mapped and loaded by the connector already
        key = str(record.get("delivery_key") or "")
        if not key:
            raise RecordError("a polled record has no delivery key")
        event = {k: v for k, v in record.items() if k != "delivery_key"}
        return key[:256], dict(_EVENTS.dump(event))
        key = f"poll:{record.get('external_id')}:{record.get('updated_at')}"
        event = {"kind": "order.upserted", "external_id": record.get("external_id"),
                 "occurred_at": record.get("updated_at"), "order": record}
    loaded = _EVENTS.load(event)
    return key[:256], dict(_EVENTS.dump(loaded))


def poll_orders(connection_id: int, *, now: datetime | None = None) -> PollReport:
    """Read the connection's order stream into the inbox; queues the drain when it found
    anything new."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    state = app.extensions["gudok"]
    until = now or utcnow()  # fixed at the start: what commits later is the next run's
    report = PollReport(connection_id)
    with session_scope(state.session_factory) as session:
        connection = session.get(Connection, connection_id)
        if connection is None:
            raise LookupError(f"no connection {connection_id}")
        if connection.status != "active":
            report.skipped = connection.status
            return report
        connector = get_connector(connection.connector)()
        if not isinstance(connector, OrdersPull):
            raise ConfigurationError(f"connector {connection.connector!r} has no order stream",
                                     fix="Poll only connections that can list their orders.")
        ctx = connection_context(connection)
        try:
            for _page in range(MAX_PAGES):
                row = stream_row(session, connection.id, STREAM)
                page = connector.pull_orders(ctx, row.cursor, until)
                for record in page.records:
                    report.read += 1
                    try:
                        key, event = canonical_event(dict(record))
                    except (RecordError, ValueError) as error:
                        ctx.log.warning("polled record skipped: %s", error)
                        continue
                    report.inserted += insert_delivery(session, {
                        "tenant_id": connection.tenant_id, "connection_id": connection.id,
                        "delivery_key": key, "event": (POLLED + event["kind"])[:100],
                        "body": json.dumps(event, ensure_ascii=False).encode("utf-8"),
                        "received_at": utcnow(), "status": "pending", "attempts": 0})
                row.cursor = page.cursor
                session.commit()  # the rows and the cursor that covers them, together
                if not page.has_more:
                    break
        finally:
            close_context(ctx)
    if report.inserted:
        enqueue(app, "drain", connection_id)
    return report
