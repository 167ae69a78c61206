"""A channel's own changes to a subscription (pause, resume, skip a round, change cadence,
cancel), applied through the same lifecycle as the API's. Each event is applied alone, after
the order events of its batch, so the contract it names exists when it arrives with them.

Idempotent: a change the contract already shows is "unchanged". A change the contract cannot
take (a skip past its cut-off, a resume of a cancelled contract) is a record error naming it,
kept dead for an operator like any other."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.errors import RecordError
from hub.models import Connection, Contract, Order, OrderLine, Round, Tenant
from hub.services import contract_lifecycle as lifecycle
from hub.services.validation import RecordInvalid

ACTIONS = ("pause", "resume", "skip", "cadence", "cancel")
CADENCES = ("weekly", "biweekly", "monthly")
_ALREADY = {"pause": "paused", "resume": "active", "cancel": "cancelled"}


def apply_subscription_change(session: Session, connection: Connection,
                              event: Mapping[str, Any]) -> str:
    data: Mapping[str, Any] = event.get("data") or {}
    action = str(data.get("action"))
    if action not in ACTIONS:
        raise RecordError(f"data.action: {action[:20]!r} is not one of {', '.join(ACTIONS)}")
    contract = _contract(session, connection, str(event.get("external_id")),
                         data.get("line_id"))
    occurred: datetime = event["occurred_at"]
    zone = ZoneInfo(session.get_one(Tenant, contract.tenant_id).time_zone)
    today = occurred.astimezone(zone).date()
    if _ALREADY.get(action) == contract.status:
        return "unchanged"
    try:
        if action == "pause":
            lifecycle.pause_contract(session, contract, today, now=occurred)
        elif action == "resume":
            lifecycle.resume_contract(session, contract, today, now=occurred)
        elif action == "cancel":
            lifecycle.cancel_contract(session, contract, today, now=occurred,
                                      reason=_reason(data.get("reason"), connection))
        elif action == "cadence":
            cadence = str(data.get("cadence"))
            if cadence not in CADENCES:
                raise RecordError(f"data.cadence: {cadence[:20]!r} is not a cadence")
            if cadence == contract.cadence:
                return "unchanged"
            lifecycle.change_cadence(session, contract, today, cadence=cadence, now=occurred)
        else:
            day = _day(data.get("scheduled_on"))
            if session.scalar(select(Round.id).where(
                    Round.contract_id == contract.id, Round.scheduled_on == day,
                    Round.status == "skipped")) is not None:
                return "unchanged"
            lifecycle.skip_round(session, contract, today, scheduled_on=day, now=occurred)
    except lifecycle.TransitionRefused as error:
        raise RecordError(f"subscription {action}: {error}") from None
    except RecordInvalid as error:
        raise RecordError(f"subscription {action}: {error.errors}") from None
    session.flush()
    return "updated"


def _reason(given: Any, connection: Connection) -> str:
    """The channel's reason as it gave it (cut to the column), else which channel it was."""
    text = given.strip() if isinstance(given, str) else ""
    return text[:500] if text else f"cancelled on {connection.name}"


def _contract(session: Session, connection: Connection, order_id: str,
              line_id: Any) -> Contract:
    """The contract of the order's line (or of its only subscribed line)."""
    query = (select(Contract).join(OrderLine, OrderLine.id == Contract.order_line_id)
             .join(Order, Order.id == OrderLine.order_id)
             .where(Order.connection_id == connection.id, Order.external_id == order_id))
    if line_id is not None:
        query = query.where(OrderLine.external_line_id == str(line_id))
    found = list(session.scalars(query.order_by(Contract.id)))
    if not found:
        raise RecordError(f"external_id: no subscription of order {order_id[:60]!r} here yet")
    if len(found) > 1:
        raise RecordError("data.line_id: the order has several subscriptions; name the line")
    return found[0]


def _day(value: Any) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise RecordError("data.scheduled_on: a date (YYYY-MM-DD) of the round to skip") \
            from None
