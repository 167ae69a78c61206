"""Tracking numbers back to the channel an order came from: a round that gets one is marked
unpushed, and the connection's "tracking" job is queued after the commit (jobs/tracking.py
sends every unpushed round of the connection; the scheduler runs it too, so a lost enqueue
only delays the push)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors import UnknownConnector, get_connector
from hub.models import Connection
from hub.models.order import Contract, Order
from hub.models.round import Round
from hub.services import signals

__all__ = ["TRACKING_JOB", "queue_tracking_push"]

TRACKING_JOB = "tracking"
CAPABILITY = "fulfilment.push"


def queue_tracking_push(session: Session, round_: Round) -> None:
    """Arrange that, after this session commits, the round's tracking number reaches the
    channel its order came from. Channels that take no fulfilments are left alone."""
    if not round_.tracking_number:
        return
    round_.tracking_pushed_at = None  # a new or changed number is pushed (again)
    with session.no_autoflush:
        row = session.execute(
            select(Connection.id, Connection.connector)
            .join(Order, Order.connection_id == Connection.id)
            .join(Contract, Contract.order_id == Order.id)
            .where(Contract.id == round_.contract_id)).first()
    if row is None:
        return
    connection_id, connector = row
    try:
        capabilities = get_connector(connector).capabilities
    except UnknownConnector:
        return
    if CAPABILITY in capabilities:
        jobs: set[tuple[str, int]] = session.info.setdefault(signals.JOBS, set())
        jobs.add((TRACKING_JOB, int(connection_id)))
