"""Draining a connection's inbox: verified deliveries become canonical events, applied
through hub/services/orders.py in batches (DESIGN invariant 3).

A run makes one pass over the connection's pending rows in id order. Each batch is claimed
in a short transaction (`FOR UPDATE SKIP LOCKED` on PostgreSQL, the single writer on
SQLite) that sets a lease on the rows, so two runs never take the same row; then it is
parsed and applied in one transaction. The batch is applied in memory under one SAVEPOINT
and written once (hub/services/order_state.py); if any row fails, the batch is applied again
with one SAVEPOINT per row, so a poison row costs its batch a second pass instead of
blocking it. A failed row counts an attempt, keeps its error and is free for the next run;
after `max_attempts` it is dead until an operator replays it. A configuration error stops
the run and leaves its rows pending, uncounted: a person must act first. A paused
connection is still drained (pausing stops the hub's notifications, not its intake); a
disabled one is not."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from connectors import UnknownConnector, get_connector
from connectors.base import InboundDelivery, OrdersWebhook, SyncContext
from hub.db import session_scope, utcnow
from hub.errors import ConfigurationError, ConnectorFailure
from hub.models import Connection, InboxEntry
from hub.services.orders import OrderLookups, apply_event
from hub.webhooks.context import close_context, connection_context

POLLED = "polled:"  # a polled row's event: its body is a canonical event (jobs/polling.py)

__all__ = ["CLAIM_LEASE", "DrainReport", "drain_inbox", "replay_dead"]

log = logging.getLogger("gudok.jobs.inbox")

# Longer than a batch can take: a worker killed mid-batch leaves its rows to the next run
# once the lease has passed.
CLAIM_LEASE = timedelta(minutes=10)
MAX_ERROR_LENGTH = 300
_APPLIED = frozenset({"created", "updated"})


@dataclass
class DrainReport:
    """What one run did, for the job log and the operator."""

    connection_id: int
    applied: int = 0     # rows that changed something
    unchanged: int = 0   # rows already applied, stale or about nothing the hub keeps
    failed: int = 0      # rows that failed and will be tried again
    dead: int = 0        # rows that failed their last attempt this run
    stopped: str | None = None  # a person must act (configuration); rows left pending
    skipped: str | None = None  # why nothing was read (a disabled connection)

    @property
    def outcome(self) -> str:
        if self.stopped or self.skipped:
            return "failed"
        return "partial" if self.failed or self.dead else "success"


@dataclass
class _Batch:
    """One claimed batch as it goes: each row's outcome, failure, or release (a stop)."""

    rows: Sequence[Any]  # (id, delivery_key, event, body, received_at, attempts)
    events: dict[int, list[dict[str, Any]]]
    outcomes: dict[int, str]
    failures: dict[int, BaseException]
    stopped_at: int | None = None  # rows from this id on are given back untouched
    stop: ConfigurationError | None = None


def drain_inbox(connection_id: int, *, batch: int = 500, max_attempts: int = 5,
                now: datetime | None = None) -> DrainReport:
    """Apply the connection's pending inbox rows; runs in the app context."""
    state = current_app.extensions["gudok"]
    factory: sessionmaker[Session] = state.session_factory
    report = DrainReport(connection_id)
    with session_scope(factory) as session:
        connection = session.get(Connection, connection_id)
        if connection is None:
            raise LookupError(f"no connection {connection_id}")
        if connection.status == "disabled":
            report.skipped = "disabled"
            return report
        try:
            connector: Any = get_connector(connection.connector)()
        except UnknownConnector:
            connector = None
        if not isinstance(connector, OrdersWebhook):
            report.stopped = (f"connector {connection.connector!r} cannot read the deliveries "
                              "in this inbox: point the connection at a connector that can")
            return report
        ctx = connection_context(connection)
    try:
        after = 0
        while report.stopped is None:
            moment = now or utcnow()
            lease = moment + CLAIM_LEASE
            ids = _claim(factory, connection_id, after, batch, moment, lease)
            if not ids:
                break
            after = ids[-1]
            try:
                _drain_batch(factory, connector, ctx, ids, lease, moment, max_attempts, report)
            except BaseException:
                _release(factory, ids, lease)  # nothing was decided about them
                raise
    finally:
        close_context(ctx)
    return report


def replay_dead(session: Session, connection_id: int, ids: Iterable[int] | None = None) -> int:
    """Give dead rows (all of the connection's, or these) back to the drain, attempts reset;
    the caller commits and enqueues a drain. Returns how many came back."""
    statement = update(InboxEntry).where(InboxEntry.connection_id == connection_id,
                                         InboxEntry.status == "dead")
    if ids is not None:
        statement = statement.where(InboxEntry.id.in_(sorted(set(ids))))
    result = session.execute(statement.values(status="pending", attempts=0, locked_until=None)
                             .execution_options(synchronize_session=False))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _claim(factory: sessionmaker[Session], connection_id: int, after: int, limit: int,
           now: datetime, lease: datetime) -> list[int]:
    """Lease the next pending rows after `after`; rows another run holds are skipped."""
    with session_scope(factory) as session:
        ids = list(session.scalars(
            select(InboxEntry.id)
            .where(InboxEntry.connection_id == connection_id, InboxEntry.status == "pending",
                   or_(InboxEntry.locked_until.is_(None), InboxEntry.locked_until <= now),
                   InboxEntry.id > after)
            .order_by(InboxEntry.id).limit(limit).with_for_update(skip_locked=True)))
        if ids:
            session.execute(update(InboxEntry).where(InboxEntry.id.in_(ids))
                            .values(locked_until=lease)
                            .execution_options(synchronize_session=False))
        return ids


def _release(factory: sessionmaker[Session], ids: list[int], lease: datetime) -> None:
    """Give a batch's rows back at once, so a retry of the job need not wait out the lease."""
    try:
        with session_scope(factory) as session:
            session.execute(update(InboxEntry).where(
                InboxEntry.id.in_(ids), InboxEntry.status == "pending",
                InboxEntry.locked_until == lease).values(locked_until=None)
                .execution_options(synchronize_session=False))
    except Exception:  # noqa: BLE001 - the database may be what failed: the lease will pass
        log.warning("inbox rows %s..%s not released", ids[0], ids[-1], exc_info=True)


def _drain_batch(factory: sessionmaker[Session], connector: Any, ctx: SyncContext,
                 ids: list[int], lease: datetime, now: datetime, max_attempts: int,
                 report: DrainReport) -> None:
    with session_scope(factory) as session:
        # Still ours: a run that outlived its lease finds its rows taken and leaves them.
        rows = session.execute(
            select(InboxEntry.id, InboxEntry.delivery_key, InboxEntry.event, InboxEntry.body,
                   InboxEntry.received_at, InboxEntry.attempts)
            .where(InboxEntry.id.in_(ids), InboxEntry.status == "pending",
                   InboxEntry.locked_until == lease)
            .order_by(InboxEntry.id).with_for_update()).all()
        work = _Batch(rows, {}, {}, {})
        _parse(connector, ctx, work)
        connection = session.get_one(Connection, ctx.connection.id)
        lookups = OrderLookups(session, connection)
        _apply(session, connection, lookups, work)
        lookups.finish()
        _record(session, work, now, max_attempts, report)


def _parse(connector: Any, ctx: SyncContext, work: _Batch) -> None:
    for row in work.rows:
        delivery = InboundDelivery(row.delivery_key, row.event, bytes(row.body),
                                   row.received_at)
        try:
            if row.event.startswith(POLLED):  # mapped when it was read (jobs/polling.py)
                work.events[row.id] = [json.loads(bytes(row.body))]
                continue
            work.events[row.id] = list(connector.parse_webhook(ctx, delivery))
        except ConfigurationError as error:
            _stop(work, row.id, error)
            return
        except Exception as error:  # noqa: BLE001 - a poison row must not stop the batch
            work.failures[row.id] = error


def _stop(work: _Batch, row_id: int, error: ConfigurationError) -> None:
    work.stopped_at, work.stop = row_id, error
    for later in [i for i in work.events if i >= row_id]:
        del work.events[later]
    for later in [i for i in work.failures if i >= row_id]:
        del work.failures[later]


def _apply(session: Session, connection: Connection, lookups: OrderLookups,
           work: _Batch) -> None:
    """The batch's order events together; then a channel's subscription changes, one row at
    a time, so the contracts they name are written first."""
    later = sorted(row_id for row_id, events in work.events.items()
                   if any(event.get("kind") == "subscription.changed" for event in events))
    if not later:
        _apply_orders(session, connection, lookups, work)
        return
    everything = work.events
    work.events = {row_id: events for row_id, events in everything.items()
                   if row_id not in later}
    try:
        if work.events:
            _apply_orders(session, connection, lookups, work)
    finally:  # a stop gave back the rows from its id on, these included
        work.events = {row_id: events for row_id, events in everything.items()
                       if work.stopped_at is None or row_id < work.stopped_at}
    for row_id in later:
        if work.stopped_at is not None and row_id >= work.stopped_at:
            return
        try:
            with session.begin_nested():
                work.outcomes[row_id] = _apply_row(session, connection, lookups,
                                                   everything[row_id])
                session.flush()
        except ConfigurationError as error:
            _stop(work, row_id, error)
            return
        except Exception as error:  # noqa: BLE001 - this row is the poison
            work.failures[row_id] = error


def _apply_orders(session: Session, connection: Connection, lookups: OrderLookups,
                  work: _Batch) -> None:
    lookups.preload(event for events in work.events.values() for event in events)
    try:
        with session.begin_nested():
            outcomes = {row_id: _apply_row(session, connection, lookups, events)
                        for row_id, events in work.events.items()}
            lookups.write()
            session.flush()
        work.outcomes.update(outcomes)
        return
    except Exception:  # noqa: BLE001 - some row failed: find it, one SAVEPOINT per row
        lookups.reset()
        lookups.touched_versions.clear()
    pending = sorted(work.events)
    stale = True
    for index, row_id in enumerate(pending):
        if stale:  # what was read before a rollback may be gone: read the rest again
            lookups.preload(e for later in pending[index:] for e in work.events[later])
            stale = False
        for retry in (False, True):
            try:
                with session.begin_nested():
                    outcome = _apply_row(session, connection, lookups, work.events[row_id])
                    lookups.write()
                    session.flush()
                work.outcomes[row_id] = outcome
                break
            except ConfigurationError as error:
                _stop(work, row_id, error)
                return
            except IntegrityError as error:
                # Another run inserted the same order meanwhile: read it and apply again.
                lookups.reset()
                lookups.preload(work.events[row_id])
                stale = True
                if retry:
                    work.failures[row_id] = error
            except Exception as error:  # noqa: BLE001 - this row is the poison
                lookups.reset()
                stale = True
                work.failures[row_id] = error
                break


def _apply_row(session: Session, connection: Connection, lookups: OrderLookups,
               events: list[dict[str, Any]]) -> str:
    outcomes = [apply_event(session, connection, event, lookups=lookups) for event in events]
    return "applied" if _APPLIED.intersection(outcomes) else "unchanged"


def _record(session: Session, work: _Batch, now: datetime, max_attempts: int,
            report: DrainReport) -> None:
    done = sorted(work.outcomes)
    if done:
        session.execute(update(InboxEntry).where(InboxEntry.id.in_(done))
                        .values(status="done", processed_at=now, locked_until=None,
                                last_error=None)
                        .execution_options(synchronize_session=False))
    report.applied += sum(1 for outcome in work.outcomes.values() if outcome == "applied")
    report.unchanged += sum(1 for outcome in work.outcomes.values() if outcome != "applied")
    for row in work.rows:
        error = work.failures.get(row.id)
        if error is None:
            continue
        attempts = row.attempts + 1
        dead = attempts >= max_attempts
        session.execute(update(InboxEntry).where(InboxEntry.id == row.id).values(
            attempts=attempts, last_error=_describe(error), locked_until=None,
            status="dead" if dead else "pending").execution_options(synchronize_session=False))
        log.warning("inbox row %s (%s) failed, attempt %s%s: %s", row.id, row.delivery_key,
                    attempts, ", now dead" if dead else "", _describe(error))
        report.dead += dead
        report.failed += not dead
    if work.stop is not None and work.stopped_at is not None:
        session.execute(update(InboxEntry).where(
            InboxEntry.id.in_([r.id for r in work.rows if r.id >= work.stopped_at]))
            .values(locked_until=None).execution_options(synchronize_session=False))
        report.stopped = _short(f"{work.stop.message}. {work.stop.fix}")


def _describe(error: BaseException) -> str:
    """Short: the failure's class and message, never a stack trace or an SQL statement."""
    if isinstance(error, ConnectorFailure):
        return _short(f"{type(error).__name__}: {error.message}")
    if isinstance(error, DBAPIError) and error.orig is not None:
        first = str(error.orig).strip().splitlines()[0] if str(error.orig).strip() else ""
        return _short(f"{type(error.orig).__name__}: {first}")
    return _short(f"{type(error).__name__}: {error}")


def _short(text: str) -> str:
    return text if len(text) <= MAX_ERROR_LENGTH else text[:MAX_ERROR_LENGTH - 1] + "…"
