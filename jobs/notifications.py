"""Delivering the outbox to partner platforms: Standard Webhooks, at least once.

One run drains a connection's due notifications (DESIGN invariant 3), one claimed row at a
time: the claim moves the row's next_attempt_at past a lease in a short transaction
(`FOR UPDATE SKIP LOCKED` on PostgreSQL, the single writer on SQLite), so two workers never
send the same notification at once and no transaction stays open during the HTTP call. The
transport tries once; the outbox does the retrying, by hub/errors.py's taxonomy and
hub/services/notifications.py's schedule, with the same webhook-id every try."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from connectors.base import ConnectionInfo, SyncContext, redacting_logger
from connectors.partner import PartnerConnector
from hub.db import session_scope, utcnow
from hub.errors import ConfigurationError, ConnectorFailure, RateLimited, RecordError
from hub.models import Connection, OutboxMessage
from hub.services import audit
from hub.services.connections import full_config
from hub.services.notifications import DEFAULT_PAUSE_AFTER, retry_delay
from hub.webhooks.context import TRANSPORT_FACTORY

__all__ = ["CLAIM_LEASE", "DeliveryReport", "deliver_due"]

log = logging.getLogger("gudok.jobs.notifications")

# Longer than one send can take (bounded connect and read timeouts): a claim outlives its
# send, and a worker that died mid-send leaves the row due again afterwards.
CLAIM_LEASE = timedelta(minutes=15)
# Rate-limit waits up to this are slept in the transport; longer ones reschedule the row.
INLINE_RATE_LIMIT_WAIT = 2.0
MAX_ERROR_LENGTH = 300
ACTOR = "job:notifications"


@dataclass
class DeliveryReport:
    """What one run did, for the job log and the operator."""

    connection_id: int
    delivered: int = 0
    rescheduled: int = 0
    dead: int = 0
    paused: bool = False            # the connection is paused: nothing was or will be sent
    stopped: str | None = None      # a person must act (configuration); messages left pending

    @property
    def outcome(self) -> str:
        if self.paused or self.stopped:
            return "failed"
        return "partial" if self.rescheduled or self.dead else "success"


@dataclass(frozen=True)
class _Claim:
    id: int
    webhook_id: str
    body: bytes
    due_at: datetime


def deliver_due(connection_id: int, *, now: datetime | None = None, limit: int = 100,
                pause_after: int = DEFAULT_PAUSE_AFTER) -> DeliveryReport:
    """Send up to `limit` due notifications of one connection; runs in the app context."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    state = app.extensions["gudok"]
    factory: sessionmaker[Session] = state.session_factory
    now = now or utcnow()
    report = DeliveryReport(connection_id)
    with session_scope(factory) as session:
        connection = session.get(Connection, connection_id)
        if connection is None:
            raise LookupError(f"no connection {connection_id}")
        if connection.status != "active":
            report.paused = True
            return report
        config = full_config(state.secrets, connection)
        info = ConnectionInfo(connection.id, connection.tenant_id, connection.connector,
                              connection.name)
    if not config.get("outbound_url") or not config.get("outbound_secret"):
        report.stopped = ("the connection has no outbound_url or outbound_secret: set both "
                          "to send the platform its notifications")
        return report
    transport = _transport(app, connection_id)
    secrets = [str(config[name]) for name in PartnerConnector.secret_fields() if config.get(name)]
    ctx = SyncContext(connection=info, config=config, http=transport,
                      log=redacting_logger(f"partner.{connection_id}", secrets))
    try:
        for _ in range(limit):
            if _circuit_open(transport):
                break  # the transport's breaker: the platform is down, try again later
            claim = _claim(factory, connection_id, now)
            if claim is None:
                break
            try:
                PartnerConnector().send_notification(ctx, claim.webhook_id, claim.body, now)
            except ConnectorFailure as failure:
                if not _record_failure(factory, claim, failure, now, report, pause_after):
                    break
            except BaseException:
                _release(factory, claim)
                raise
            else:
                _record_delivery(factory, claim, now)
                report.delivered += 1
    finally:
        if hasattr(transport, "close"):
            transport.close()
    return report


def _transport(app: Flask, connection_id: int) -> Any:
    """The connection's transport, trying each send once: retries belong to the outbox."""
    factory: Callable[[int], Any] | None = app.extensions.get(TRANSPORT_FACTORY)
    if factory is not None:
        return factory(connection_id)
    from connectors.http import client_for
    from hub.queue import redis_client

    return client_for(app.extensions["gudok"].settings, connection_id, max_attempts=1,
                      max_rate_limit_wait=INLINE_RATE_LIMIT_WAIT, redis=redis_client(app))


def _circuit_open(transport: Any) -> bool:
    state = getattr(transport, "breaker_state", None)
    return state is not None and state().state == "open"


def _claim(factory: sessionmaker[Session], connection_id: int, now: datetime) -> _Claim | None:
    """Take the next due row for one lease; a row another worker holds is skipped."""
    with session_scope(factory) as session:
        message = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.connection_id == connection_id,
                   OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(1).with_for_update(skip_locked=True)).first()
        if message is None:
            return None
        claim = _Claim(message.id, message.webhook_id, message.payload.encode("utf-8"),
                       message.next_attempt_at)
        message.next_attempt_at = now + CLAIM_LEASE
        return claim


def _record_delivery(factory: sessionmaker[Session], claim: _Claim, now: datetime) -> None:
    with session_scope(factory) as session:
        message = session.get_one(OutboxMessage, claim.id)
        message.status, message.delivered_at, message.next_attempt_at = "delivered", now, now
        message.last_error, message.last_status = None, None


def _release(factory: sessionmaker[Session], claim: _Claim) -> None:
    """Give a claimed row back as it was: nothing was decided about it."""
    with session_scope(factory) as session:
        session.get_one(OutboxMessage, claim.id).next_attempt_at = claim.due_at


def _record_failure(factory: sessionmaker[Session], claim: _Claim, failure: ConnectorFailure,
                    now: datetime, report: DeliveryReport, pause_after: int) -> bool:
    """Apply the taxonomy to one failed try; False when the run must stop for the connection."""
    with session_scope(factory) as session:
        message = session.get_one(OutboxMessage, claim.id)
        message.last_status = failure.status
        message.last_error = _short(failure.message)
        if isinstance(failure, ConfigurationError):
            message.next_attempt_at = claim.due_at  # not the message's fault: not counted
            report.stopped = _short(f"{failure.message}. {failure.fix}")
            return False
        if isinstance(failure, RateLimited):
            until = now + timedelta(seconds=failure.wait_seconds)
            message.next_attempt_at = until
            report.rescheduled += 1
            _defer_due(session, message.connection_id, now, until)
            return False  # the platform asked for quiet: nothing more this run
        message.attempts += 1
        if isinstance(failure, RecordError) and failure.status == 410:
            message.next_attempt_at = now  # due again once an operator re-enables
            message.last_error = ("410 Gone: the platform disabled this endpoint; the "
                                  "connection is paused until an operator resumes it")
            _pause(session, message.connection_id, "410 Gone")
            report.paused = True
            return False
        delay = retry_delay(message.attempts)
        if delay is None:
            message.status = "dead"
            report.dead += 1
        else:
            message.next_attempt_at = now + delay
            report.rescheduled += 1
        if message.attempts >= pause_after and not _delivered_since(session, message):
            _pause(session, message.connection_id, f"{message.attempts} failures in a row")
            report.paused = True
            return False
        return True


def _defer_due(session: Session, connection_id: int, now: datetime, until: datetime) -> None:
    """Honour Retry-After for the whole endpoint: every other due row waits as long."""
    session.execute(update(OutboxMessage).where(
        OutboxMessage.connection_id == connection_id, OutboxMessage.status == "pending",
        OutboxMessage.next_attempt_at <= now).values(next_attempt_at=until))


def _delivered_since(session: Session, message: OutboxMessage) -> bool:
    """Whether the platform accepted anything since this message was queued: if it did, the
    failures are this message's own, not a sign the endpoint is down."""
    return bool(session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.connection_id == message.connection_id,
        OutboxMessage.delivered_at >= message.created_at)))


def _pause(session: Session, connection_id: int, why: str) -> None:
    """Pause the connection so the operator sees it (its status is in the API); audited."""
    connection = session.get_one(Connection, connection_id)
    before = audit.snapshot(connection)
    connection.status = "paused"
    session.flush()
    audit.record(session, actor=ACTOR, action="pause", entity_type="connection",
                 entity_id=connection.id, tenant_id=connection.tenant_id, before=before,
                 after=audit.snapshot(connection))
    log.warning("connection %s paused: notifications failing (%s)", connection_id, why)


def _short(text: str) -> str:
    """A failure's message is host/path only (the transport never quotes queries or keys)."""
    return text if len(text) <= MAX_ERROR_LENGTH else text[:MAX_ERROR_LENGTH - 1] + "…"
