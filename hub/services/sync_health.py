"""Each connection's sync health per stream, as the operator sees it: the last run that
finished, and the last failure with its class in hub/errors.py's taxonomy."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.db import utcnow
from hub.errors import ConnectorFailure
from hub.models import Connection, StreamCursor

__all__ = ["classify", "record_failure", "record_success", "stream_row"]

MAX_ERROR_LENGTH = 500


def stream_row(session: Session, connection_id: int, stream: str) -> StreamCursor:
    """The stream's row (its cursor and health), created on first use."""
    query = select(StreamCursor).where(StreamCursor.connection_id == connection_id,
                                       StreamCursor.stream == stream)
    row = session.scalar(query)
    if row is not None:
        return row
    connection = session.get_one(Connection, connection_id)
    try:
        with session.begin_nested():
            row = StreamCursor(tenant_id=connection.tenant_id, connection_id=connection_id,
                               stream=stream)
            session.add(row)
        return row
    except IntegrityError:  # created by another job at the same moment
        return session.scalars(query).one()


def classify(error: BaseException) -> str:
    """The failure's class: a taxonomy kind, or "internal" for a bug or an outage."""
    return str(error.kind) if isinstance(error, ConnectorFailure) else "internal"


def record_success(session: Session, connection_id: int, stream: str,
                   now: datetime | None = None) -> None:
    row = stream_row(session, connection_id, stream)
    row.last_success_at = now or utcnow()
    row.last_error = row.last_error_class = row.last_error_at = None


def record_failure(session: Session, connection_id: int, stream: str, error: BaseException,
                   now: datetime | None = None) -> None:
    row = stream_row(session, connection_id, stream)
    message = getattr(error, "message", None) or f"{type(error).__name__}: {error}"
    fix = getattr(error, "fix", None)
    text = f"{message}. {fix}" if fix else str(message)
    row.last_error = text if len(text) <= MAX_ERROR_LENGTH else text[:MAX_ERROR_LENGTH - 1] + "…"
    row.last_error_class = classify(error)
    row.last_error_at = now or utcnow()
