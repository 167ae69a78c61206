"""A connection's sync health, as the operator API and `gudok sync status` show it."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from hub.db import utcnow
from hub.models import CatalogChange, Connection, InboxEntry, OutboxMessage, StreamCursor
from hub.services.partner_feed import decode_cursor

__all__ = ["circuit", "connection_health", "retry_dead"]

log = logging.getLogger("gudok.sync")


def _seconds_since(moment: datetime | None, now: datetime) -> int | None:
    """Whole seconds: a lag is read by a person, not computed with."""
    return int((now - moment).total_seconds()) if moment is not None else None


def _changes_waiting(session: Session, row: StreamCursor) -> int | None:
    """Changes after a catalog stream's watermark that it has not delivered yet."""
    if not row.cursor or not row.stream.endswith("catalog"):
        return None
    try:
        cursor = decode_cursor(row.cursor)
    except ValueError:
        return None
    ids = select(CatalogChange.id).where(
        CatalogChange.tenant_id == row.tenant_id, CatalogChange.id > cursor.watermark,
        (CatalogChange.connection_id.is_(None))
        | (CatalogChange.connection_id == row.connection_id))
    waiting = set(session.scalars(ids)) - set(cursor.delivered)
    return len(waiting)


def circuit(settings: Any, connection_id: int, redis: Any = None) -> dict[str, Any]:
    """The connection's circuit breaker as the workers share it (through Redis when set)."""
    from connectors.http import client_for

    try:
        client = client_for(settings, connection_id, redis=redis)
        try:
            state = client.breaker_state()
        finally:
            client.close()
    except Exception as error:  # the view must answer even when Redis does not
        log.warning("circuit of connection %s unknown: %s", connection_id, error)
        return {"state": "unknown", "consecutive_failures": None}
    return {"state": state.state, "consecutive_failures": state.consecutive_failures}


def connection_health(session: Session, connection: Connection, settings: Any,
                      redis: Any = None, now: datetime | None = None) -> dict[str, Any]:
    now = now or utcnow()
    inbox: dict[str, int] = dict(session.execute(select(InboxEntry.status, func.count()).where(
        InboxEntry.connection_id == connection.id, InboxEntry.status != "done")
        .group_by(InboxEntry.status)).all())
    oldest_inbox = session.scalar(select(func.min(InboxEntry.received_at)).where(
        InboxEntry.connection_id == connection.id, InboxEntry.status == "pending"))
    outbox: dict[str, int] = dict(session.execute(select(OutboxMessage.status, func.count()).where(
        OutboxMessage.connection_id == connection.id, OutboxMessage.status != "delivered")
        .group_by(OutboxMessage.status)).all())
    oldest_outbox = session.scalar(select(func.min(OutboxMessage.created_at)).where(
        OutboxMessage.connection_id == connection.id, OutboxMessage.status == "pending"))
    streams = []
    last_error: dict[str, Any] | None = None
    for row in session.scalars(select(StreamCursor).where(
            StreamCursor.connection_id == connection.id).order_by(StreamCursor.stream)):
        streams.append({
            "stream": row.stream, "last_success_at": row.last_success_at,
            "lag_seconds": _seconds_since(row.last_success_at, now),
            "changes_waiting": _changes_waiting(session, row),
            "last_error": row.last_error, "last_error_class": row.last_error_class,
            "last_error_at": row.last_error_at})
        if row.last_error_at is not None and (
                last_error is None or row.last_error_at > last_error["at"]):
            last_error = {"stream": row.stream, "message": row.last_error,
                          "class": row.last_error_class, "at": row.last_error_at}
    dead_row = session.scalar(select(InboxEntry).where(
        InboxEntry.connection_id == connection.id, InboxEntry.status == "dead")
        .order_by(InboxEntry.id.desc()).limit(1))
    if dead_row is not None and last_error is None:
        last_error = {"stream": "inbox", "message": dead_row.last_error, "class": "record",
                      "at": dead_row.processed_at or dead_row.received_at}
    return {
        "connection_id": connection.id, "connector": connection.connector,
        "name": connection.name, "status": connection.status,
        "circuit": circuit(settings, connection.id, redis),
        "inbox": {"pending": int(inbox.get("pending", 0)), "dead": int(inbox.get("dead", 0)),
                  "lag_seconds": _seconds_since(oldest_inbox, now)},
        "outbox": {"pending": int(outbox.get("pending", 0)),
                   "dead": int(outbox.get("dead", 0)),
                   "lag_seconds": _seconds_since(oldest_outbox, now)},
        "streams": streams, "last_error": last_error,
    }


def retry_dead(session: Session, connection_id: int, *, inbox: bool = True,
               outbox: bool = True, now: datetime | None = None) -> dict[str, int]:
    """Dead rows back to pending with their attempts reset: an operator's replay."""
    now = now or utcnow()
    counts = {"inbox": 0, "outbox": 0}
    if inbox:
        result: Any = session.execute(update(InboxEntry).where(
            InboxEntry.connection_id == connection_id, InboxEntry.status == "dead").values(
                status="pending", attempts=0, locked_until=None))
        counts["inbox"] = int(result.rowcount or 0)
    if outbox:
        result = session.execute(update(OutboxMessage).where(
            OutboxMessage.connection_id == connection_id, OutboxMessage.status == "dead")
            .values(status="pending", attempts=0, next_attempt_at=now))
        counts["outbox"] = int(result.rowcount or 0)
    return counts
