"""The sweeper: enqueues again whatever the database says is unfinished, so a killed worker or
a flushed or restarted Redis loses nothing (DESIGN invariant 1). Safe to run any time: job ids
are unique while queued and every job is idempotent.

- drain, for every active connection with pending inbox rows no live claim holds;
- deliver, for active connections with due pending outbox rows;
- push, notify and link_outs, for every active connection they apply to (cheap when nothing
  changed: those jobs skip by cursor and digest);
- poll, for connections that can pull orders and have somewhere to pull them from.

A stream whose last run failed for its configuration is left alone for CONFIGURATION_HOLD,
unless the connection changed since: a person must act, and asking the platform again with
the same wrong credentials helps nobody."""

from __future__ import annotations

import logging
import os
import threading
import time
from datetime import datetime, timedelta

from flask import Flask, current_app
from sqlalchemy import or_, select

from connectors import UnknownConnector, get_connector
from hub.db import session_scope, utcnow
from hub.models import (
    Connection,
    Contract,
    InboxEntry,
    Order,
    OutboxMessage,
    Round,
    StreamCursor,
)
from hub.queue import enqueue, redis_client
from jobs.registry import JOBS, jobs_for

__all__ = ["CONFIGURATION_HOLD", "DEFAULT_SWEEP_SECONDS", "kick", "plan", "start_sweeper",
           "sweep", "sweep_periodically"]

CHORES_EVERY = 3600.0  # seconds between runs of the calendar's chores

log = logging.getLogger("gudok.jobs.sweeper")

DEFAULT_SWEEP_SECONDS = 30.0
CONFIGURATION_HOLD = timedelta(minutes=15)
SWEEP_LOCK = "gudok:sweeper"


def sweep(app: Flask | None = None, *, now: datetime | None = None) -> dict[str, int]:
    """Enqueue every job the database says is due; the count queued (or already waiting)
    per job name."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    counts = dict.fromkeys(JOBS, 0)
    for job_name, connection_id in plan(app, now or utcnow()):
        if enqueue(app, job_name, connection_id):
            counts[job_name] += 1
    return counts


def kick(app: Flask, connection_id: int) -> dict[str, int]:
    """One connection's sweep, now rather than at the next one (after a resume or a replay).
    Never raises: the sweeper gets there anyway."""
    counts = dict.fromkeys(JOBS, 0)
    try:
        for job_name, _ in plan(app, utcnow(), connection_id=connection_id):
            if enqueue(app, job_name, connection_id):
                counts[job_name] += 1
    except Exception:  # noqa: BLE001 - called from web requests
        log.warning("connection %s not kicked", connection_id, exc_info=True)
    return counts


def plan(app: Flask, now: datetime, connection_id: int | None = None) -> list[tuple[str, int]]:
    """The (job, connection) pairs a sweep at `now` enqueues, in connection order (one
    connection's only, when given)."""
    with session_scope(app.extensions["gudok"].session_factory) as session:
        query = select(Connection).where(Connection.status == "active").order_by(Connection.id)
        if connection_id is not None:
            query = query.where(Connection.id == connection_id)
        connections = list(session.scalars(query))
        inbox = set(session.scalars(select(InboxEntry.connection_id).where(
            InboxEntry.status == "pending",
            or_(InboxEntry.locked_until.is_(None), InboxEntry.locked_until <= now)).distinct()))
        outbox = set(session.scalars(select(OutboxMessage.connection_id).where(
            OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now).distinct()))
        # Tracking numbers set but not yet pushed to the channel the order came from.
        tracking = set(session.scalars(
            select(Order.connection_id).join(Contract, Contract.order_id == Order.id)
            .join(Round, Round.contract_id == Contract.id)
            .where(Round.tracking_number.is_not(None), Round.tracking_pushed_at.is_(None))
            .distinct()))
        held = {(connection_id, stream) for connection_id, stream, failed_at, changed_at
                in session.execute(
                    select(StreamCursor.connection_id, StreamCursor.stream,
                           StreamCursor.last_error_at, Connection.updated_at)
                    .join(Connection, Connection.id == StreamCursor.connection_id)
                    .where(StreamCursor.last_error_class == "configuration",
                           StreamCursor.last_error_at > now - CONFIGURATION_HOLD))
                if changed_at is None or failed_at is None or changed_at <= failed_at}
        pairs: list[tuple[str, int]] = []
        for connection in connections:
            try:
                capabilities = get_connector(connection.connector).capabilities
            except UnknownConnector:
                log.warning("connection %s: connector %r is not installed", connection.id,
                            connection.connector)
                continue
            for name in jobs_for(connection.connector, capabilities, connection.config or {},
                                 bool(connection.secrets_encrypted)):
                if (name == "drain" and connection.id not in inbox) or (
                        name == "deliver" and connection.id not in outbox):
                    continue
                if (connection.id, JOBS[name].stream) in held:
                    continue
                pairs.append((name, connection.id))
            if connection.id in tracking and "fulfilment.push" in capabilities \
                    and (connection.id, JOBS["tracking"].stream) not in held:
                pairs.append(("tracking", connection.id))
        return pairs


def sweep_periodically(app: Flask, seconds: float, stop: threading.Event) -> None:
    """Sweep now, then every `seconds` until `stop` is set. With Redis, one of the workers
    sweeps per interval (the others find the lock taken). Every CHORES_EVERY the calendar's
    chores run too: rounds scheduled, vouchers past their validity expired."""
    chores_due = 0.0
    while True:
        if _our_turn(app, seconds):
            try:
                counts = sweep(app)
            except Exception:  # noqa: BLE001 - the database may be down: try next time
                log.warning("sweep failed", exc_info=True)
            else:
                queued = {name: count for name, count in counts.items() if count}
                log.info("sweep queued %s", queued or "nothing")
            if time.monotonic() >= chores_due:
                chores_due = time.monotonic() + CHORES_EVERY
                run_chores(app)
        if stop.wait(seconds):
            return


def run_chores(app: Flask) -> None:
    """The calendar's chores, each idempotent: safe on every worker, at any time."""
    from jobs.rounds import schedule_due_rounds
    from jobs.vouchers import expire_all

    with app.app_context():
        for name, chore in (("rounds", schedule_due_rounds), ("vouchers", expire_all)):
            try:
                chore()
            except Exception:  # noqa: BLE001 - the database may be down: try next time
                log.warning("chore %s failed", name, exc_info=True)


def start_sweeper(app: Flask, seconds: float) -> tuple[threading.Thread, threading.Event]:
    """The periodic sweep on a daemon thread; set the event to stop it."""
    stop = threading.Event()
    thread = threading.Thread(target=sweep_periodically, args=(app, seconds, stop),
                              name="gudok-sweeper", daemon=True)
    thread.start()
    return thread, stop


def _our_turn(app: Flask, seconds: float) -> bool:
    redis = redis_client(app)
    if redis is None:
        return True
    try:
        hold_ms = max(500, int(seconds * 1000) - 500)
        return bool(redis.set(SWEEP_LOCK, str(os.getpid()), nx=True, px=hold_ms))
    except Exception:  # noqa: BLE001 - no Redis: sweeping still re-reads the database
        return True
