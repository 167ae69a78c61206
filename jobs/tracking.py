"""Pushing tracking numbers to the channel each order came from: every round of the
connection's orders with a tracking number not yet pushed goes through the connector's
push_fulfilment, oldest first, and is marked pushed in its own commit, so a failure midway
keeps what was sent and the runner's retry resumes after it. A record error skips the round
(counted, left unpushed); any other failure stops the run and is classified by the runner."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors import get_connector
from connectors.base import FulfilmentPush
from hub.db import session_scope, utcnow
from hub.errors import ConfigurationError, RecordError
from hub.models import Connection
from hub.models.order import Contract, Order, OrderLine
from hub.models.round import Round
from hub.webhooks.context import close_context, connection_context

__all__ = ["TrackingReport", "fulfilment_of", "push_tracking"]

STREAM = "fulfilment.push"


@dataclass
class TrackingReport:
    connection_id: int
    pushed: list[int] = field(default_factory=list)              # round ids
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (round id, why)

    @property
    def outcome(self) -> str:
        return "partial" if self.skipped else "success"


def fulfilment_of(round_: Round, order: Order, line: OrderLine) -> dict[str, Any]:
    """What the connector is told about one shipped round, in the hub's terms."""
    shipped = round_.shipped_at
    return {"order_external_id": order.external_id, "order_number": order.number,
            "round_id": round_.id, "round_number": round_.number,
            "carrier": round_.carrier, "tracking_number": round_.tracking_number,
            "shipped_at": shipped.isoformat() if shipped else None,
            "lines": [{"external_line_id": line.external_line_id,
                       "quantity": round_.quantity}],
            "notify_customer": True}


def push_tracking(connection_id: int, *, limit: int = 500,
                  now: datetime | None = None) -> TrackingReport:
    """Send every unpushed tracking number of one connection's orders; runs in the app
    context (the "tracking" job)."""
    state = current_app.extensions["gudok"]
    report = TrackingReport(connection_id)
    with session_scope(state.session_factory) as session:
        connection = session.get(Connection, connection_id)
        if connection is None:
            raise LookupError(f"no connection {connection_id}")
        if connection.status != "active":
            return report
        connector = get_connector(connection.connector)()
        if not isinstance(connector, FulfilmentPush):
            raise ConfigurationError(
                f"connector {connection.connector!r} takes no fulfilments",
                fix="Push tracking numbers only to connections with fulfilment.push.")
        ctx = connection_context(connection)
        try:
            for round_id in _unpushed(session, connection_id, limit):
                _push_one(session, connector, ctx, round_id, now, report)
        finally:
            close_context(ctx)
    return report


def _unpushed(session: Session, connection_id: int, limit: int) -> list[int]:
    return list(session.scalars(
        select(Round.id)
        .join(Contract, Contract.id == Round.contract_id)
        .join(Order, Order.id == Contract.order_id)
        .where(Order.connection_id == connection_id, Round.tracking_number.is_not(None),
               Round.tracking_pushed_at.is_(None))
        .order_by(Round.id).limit(limit)))


def _push_one(session: Session, connector: FulfilmentPush, ctx: Any, round_id: int,
              now: datetime | None, report: TrackingReport) -> None:
    round_ = session.get_one(Round, round_id)
    session.refresh(round_)  # re-read: the number may have changed since the list was made
    if not round_.tracking_number or round_.tracking_pushed_at is not None:
        return
    contract = session.get_one(Contract, round_.contract_id)
    order = session.get_one(Order, contract.order_id)
    line = session.get_one(OrderLine, contract.order_line_id)
    sent = round_.tracking_number
    try:
        connector.push_fulfilment(ctx, fulfilment_of(round_, order, line))
    except RecordError as error:
        report.skipped.append((round_id, error.message))
        ctx.log.warning("tracking of round %s not pushed: %s", round_id, error.message)
        session.rollback()
        return
    except BaseException:
        session.rollback()
        raise
    session.refresh(round_)
    if round_.tracking_number == sent:  # a number changed meanwhile is pushed next run
        round_.tracking_pushed_at = now or utcnow()
        report.pushed.append(round_id)
    session.commit()
