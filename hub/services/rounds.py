"""The round scheduler (회차 편성): each active contract's deliveries up to a horizon, created
once on the tenant's calendar, within each box's capacity per delivery date, and as far as
the contract's term allows.

Rounds are idempotent by (contract, number). Runs that overlap wait for one another per box
(a transaction-scoped advisory lock on PostgreSQL; SQLite has one writer at a time), and an
insert that still meets the unique key is skipped in its savepoint, for the next run.

A contract whose `next_round_on` is null is ending: it takes no new term and stops after its
last paid round (the term's, or for an open-ended plan the current block of prepaid rounds).
It becomes "ended" once none of its rounds is still to be shipped or delivered."""

from __future__ import annotations

import calendar
import hashlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session

from hub.models import Box, Contract, OrderLine, Plan, Round, Tenant
from hub.services.contracts import first_round_on

log = logging.getLogger("gudok.rounds")

DEFAULT_HORIZON_DAYS = 28
_CADENCE_DAYS = {"weekly": 7, "biweekly": 14}
# Rounds that will go, or went, to the customer: they take capacity and fix the calendar.
DELIVERING = ("scheduled", "shipped", "delivered")
OPEN = ("scheduled", "shipped")  # not delivered yet: the contract is not over


@dataclass(frozen=True)
class RefusedRound:
    contract_id: int
    scheduled_on: date
    reason: str


@dataclass
class ScheduleReport:
    """What one run did, for the job log and the operator."""

    created: int = 0
    refused: list[RefusedRound] = field(default_factory=list)
    ended: int = 0


def next_cadence_date(after: date, cadence: str, anchor_day: int | None = None) -> date:
    """The delivery date one cadence step after `after`. Monthly: the anchor day (by default
    the same day) of the next month, or that month's last day when it is shorter."""
    if cadence in _CADENCE_DAYS:
        return after + timedelta(days=_CADENCE_DAYS[cadence])
    year, month = (after.year + 1, 1) if after.month == 12 else (after.year, after.month + 1)
    day = anchor_day or after.day
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def first_cadence_date_from(last: date, cadence: str, today: date,
                            anchor_day: int | None = None) -> date:
    """The first cadence date on or after `today`, stepping on from `last`."""
    on = last
    while on < today:
        on = next_cadence_date(on, cadence, anchor_day)
    return on


def cutoff_at(scheduled_on: date, tenant: Tenant) -> datetime:
    """Local midnight `order_cutoff_days` before delivery, in the tenant's zone, as UTC."""
    local = datetime.combine(scheduled_on - timedelta(days=tenant.order_cutoff_days), time(0),
                             tzinfo=ZoneInfo(tenant.time_zone))
    return local.astimezone(UTC)


def anchor_day(contract: Contract, zone: ZoneInfo, on: date | None) -> int | None:
    """The day of month monthly rounds keep to, so Jan 31 -> Feb 28 -> Mar 31: the day the
    order was placed when `on` follows it, else `on`'s own day."""
    if contract.cadence != "monthly" or on is None:
        return None
    placed = contract.order.placed_at.astimezone(zone).date().day
    return placed if on.day == min(placed, calendar.monthrange(on.year, on.month)[1]) \
        else on.day


def lock_box_rounds(session: Session, box_id: int) -> None:
    """Serialise work on one box's rounds until the transaction ends (PostgreSQL)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    key = int.from_bytes(hashlib.sha256(f"box-rounds:{box_id}".encode()).digest()[:8], "big",
                         signed=True)
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def lock_contract(session: Session, contract_id: int, box_id: int) -> Contract:
    """The contract re-read under its box's lock and its own row lock: later reads see what
    an overlapping run committed."""
    lock_box_rounds(session, box_id)
    return session.execute(select(Contract).where(Contract.id == contract_id)
                           .with_for_update().execution_options(populate_existing=True)
                           ).scalar_one()


def last_delivering(session: Session, contract_id: int) -> Round | None:
    """The latest round that goes to the customer: the calendar continues after it."""
    return session.scalar(select(Round).where(Round.contract_id == contract_id,
                                              Round.status.in_(DELIVERING))
                          .order_by(Round.scheduled_on.desc(), Round.number.desc()).limit(1))


def open_boxes(line: OrderLine) -> int:
    return max(0, line.quantity - line.cancelled_quantity - line.refunded_quantity)


def final_sequence(contract: Contract, plan: Plan, highest: int) -> int | None:
    """The last paid round to schedule, or None while the contract runs on (renewing)."""
    ending = contract.next_round_on is None
    if contract.term_rounds is not None:
        if plan.at_term_end == "renew" and not ending:
            return None
        return contract.term_rounds * (contract.renewals + 1)
    if not ending:
        return None
    block = contract.prepaid_rounds
    return max(block, -(-highest // block) * block)


def close_if_finished(session: Session, contract: Contract) -> bool:
    """End an active contract that has no further round to make and none left to deliver."""
    if contract.status != "active":
        return False
    plan = session.get_one(Plan, contract.plan_id)
    highest = _highest(session, contract.id, Round.sequence)
    final = final_sequence(contract, plan, highest)
    if final is None or highest < final:
        return False
    still_open = session.scalar(select(func.count()).select_from(Round).where(
        Round.contract_id == contract.id, Round.status.in_(OPEN)))
    if still_open:
        return False
    contract.status = "ended"
    contract.next_round_on = None
    return True


def schedule_rounds(session: Session, tenant_id: int, today: date,
                    horizon_days: int = DEFAULT_HORIZON_DAYS, *,
                    contract_id: int | None = None) -> ScheduleReport:
    """Create the tenant's rounds due by today + horizon (one contract's when given) and end
    the contracts that are over."""
    tenant = session.get_one(Tenant, tenant_id)
    query = select(Contract.id, Contract.box_id).where(
        Contract.tenant_id == tenant_id, Contract.status == "active")
    if contract_id is not None:
        query = query.where(Contract.id == contract_id)
    report = ScheduleReport()
    for one_id, box_id in session.execute(query.order_by(Contract.box_id, Contract.id)).all():
        contract = lock_contract(session, one_id, box_id)
        if contract.status != "active":
            continue
        _schedule_contract(session, tenant, contract, today, horizon_days, report)
        if close_if_finished(session, contract):
            report.ended += 1
    session.flush()
    return report


def _highest(session: Session, contract_id: int, column: InstrumentedAttribute[Any]) -> int:
    return int(session.scalar(select(func.max(column))
                              .where(Round.contract_id == contract_id)) or 0)


def _booked(session: Session, box_id: int, on: date) -> int:
    """Boxes of this box already going out on this date."""
    return int(session.scalar(
        select(func.coalesce(func.sum(Round.quantity), 0)).select_from(Round)
        .join(Contract, Contract.id == Round.contract_id)
        .where(Contract.box_id == box_id, Round.scheduled_on == on,
               Round.status.notin_(("skipped", "cancelled")))) or 0)


def continue_on(session: Session, contract: Contract, zone: ZoneInfo, today: date) -> date:
    """The first cadence date on or after today, continuing after the contract's last round
    that goes out (or from its next or first date when it has none)."""
    last = last_delivering(session, contract.id)
    if last is not None:
        base = next_cadence_date(last.scheduled_on, contract.cadence,
                                 anchor_day(contract, zone, last.scheduled_on))
    else:
        base = contract.next_round_on or first_round_on(contract.order.placed_at,
                                                        contract.cadence, zone)
    return first_cadence_date_from(base, contract.cadence, today, anchor_day(contract, zone, base))


def _start(session: Session, contract: Contract, zone: ZoneInfo, today: date) -> date:
    """Where the calendar continues: next_round_on, never on or before a round that goes out
    already (an order update may have put next_round_on back to the first date). An ending
    contract has none and continues after its last round, from today on."""
    start = contract.next_round_on
    if start is None:
        return continue_on(session, contract, zone, today)
    last = last_delivering(session, contract.id)
    if last is not None and start <= last.scheduled_on:
        start = next_cadence_date(last.scheduled_on, contract.cadence,
                                  anchor_day(contract, zone, start))
    return start


def _schedule_contract(session: Session, tenant: Tenant, contract: Contract, today: date,
                       horizon_days: int, report: ScheduleReport) -> None:
    quantity = open_boxes(contract.order_line)
    if quantity == 0:
        return
    zone = ZoneInfo(tenant.time_zone)
    plan = session.get_one(Plan, contract.plan_id)
    box = session.get_one(Box, contract.box_id)
    ending = contract.next_round_on is None
    number = _highest(session, contract.id, Round.number)
    sequence = _highest(session, contract.id, Round.sequence)
    on = _start(session, contract, zone, today)
    horizon_end = today + timedelta(days=horizon_days)
    anchor = anchor_day(contract, zone, on)
    while on <= horizon_end:
        final = final_sequence(contract, plan, sequence)
        if final is not None and sequence + 1 > final:
            contract.next_round_on = None
            return
        booked = _booked(session, box.id, on)
        if booked + quantity > box.capacity_per_round:
            reason = (f"box {box.code} has {max(0, box.capacity_per_round - booked)} of "
                      f"{box.capacity_per_round} boxes left on {on.isoformat()}; "
                      f"the round needs {quantity}")
            report.refused.append(RefusedRound(contract.id, on, reason))
            log.warning("round of contract %s on %s refused: %s", contract.id, on, reason)
            break
        if not _insert(session, tenant, contract, number + 1, sequence + 1, on, quantity):
            return  # an overlapping run made it: leave the rest to the next run
        number += 1
        sequence += 1
        if contract.term_rounds is not None and \
                sequence > contract.term_rounds * (contract.renewals + 1):
            contract.renewals += 1  # the first round of the next term is on the calendar
        report.created += 1
        on = next_cadence_date(on, contract.cadence, anchor)
    final = final_sequence(contract, plan, sequence)
    if final is not None and sequence >= final:
        contract.next_round_on = None  # its last paid round is on the calendar
    elif not ending:
        contract.next_round_on = on


def _insert(session: Session, tenant: Tenant, contract: Contract, number: int, sequence: int,
            on: date, quantity: int) -> bool:
    try:
        with session.begin_nested():
            session.add(Round(tenant_id=contract.tenant_id, contract_id=contract.id,
                              number=number, sequence=sequence, scheduled_on=on,
                              cutoff_at=cutoff_at(on, tenant), quantity=quantity,
                              status="scheduled"))
    except IntegrityError:
        log.info("round %s of contract %s exists already; skipped", number, contract.id)
        return False
    return True
