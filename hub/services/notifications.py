"""Outbound notifications to partner platforms: queued in the outbox with the change that
causes them (DESIGN invariant 1), delivered later by jobs/notifications.py on this schedule."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from hub.db import utcnow
from hub.models import Connection, OutboxMessage

__all__ = ["DEFAULT_PAUSE_AFTER", "RETRY_SCHEDULE", "enqueue", "envelope_body", "retry_delay"]

# The wait after each counted failure; after the last one the notification is dead. The first
# try is immediate, so a message gets len(RETRY_SCHEDULE) + 1 tries over 27 h 35 min 10 s:
# longer than a day, so a platform down for a day still receives everything.
RETRY_SCHEDULE: tuple[timedelta, ...] = (
    timedelta(seconds=10), timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30),
    timedelta(hours=2), timedelta(hours=5), timedelta(hours=10), timedelta(hours=10),
)
# A notification failing this many times in a row, with nothing else delivered to the
# connection meanwhile, pauses the connection so an operator sees it.
DEFAULT_PAUSE_AFTER = 8
MAX_EVENT_TYPE_LENGTH = 100


def retry_delay(attempts: int) -> timedelta | None:
    """The wait after the attempts-th counted failure, or None: the schedule ran out."""
    if attempts < 1:
        raise ValueError("attempts counts failures, from 1")
    return RETRY_SCHEDULE[attempts - 1] if attempts <= len(RETRY_SCHEDULE) else None


def new_webhook_id() -> str:
    """Standard Webhooks' id: fixed at enqueue, the platform's de-duplication key."""
    return "msg_" + secrets.token_urlsafe(18)


def envelope_body(event_type: str, data: dict[str, Any], now: datetime) -> str:
    """The specification's envelope as compact JSON; serialized once, sent as is every try."""
    timestamp = now.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return json.dumps({"type": event_type, "timestamp": timestamp, "data": data},
                      ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def enqueue(session: Session, connection: Connection, event_type: str, data: dict[str, Any],
            *, now: datetime | None = None) -> OutboxMessage:
    """Queue one notification in the caller's transaction: it commits with the change it
    announces or not at all. Nothing is sent here."""
    if not event_type or len(event_type) > MAX_EVENT_TYPE_LENGTH:
        raise ValueError(f"an event type has 1 to {MAX_EVENT_TYPE_LENGTH} characters")
    if not isinstance(data, dict):
        raise TypeError("a notification's data is a JSON object")
    now = now or utcnow()
    message = OutboxMessage(
        tenant_id=connection.tenant_id, connection_id=connection.id,
        webhook_id=new_webhook_id(), event_type=event_type,
        payload=envelope_body(event_type, data, now), status="pending", attempts=0,
        next_attempt_at=now, created_at=now)
    session.add(message)
    session.flush()
    return message
