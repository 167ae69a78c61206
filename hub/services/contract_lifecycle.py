"""What an operator changes on a running subscription: pause, resume, skip a round, change
the cadence, cancel, renew, end at term end.

A round past its cut-off is already being packed: every change leaves it as it is and takes
effect from the next round on. Rounds before their cut-off are not money yet, so a change
may delete or re-create them. Each function locks the contract as the scheduler does, changes
it, and lets the scheduler make the rounds that follow; money (refunds, clawbacks) is not
computed here."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.orm import Session

from hub.db import utcnow
from hub.models import Contract, Plan, Round, Tenant
from hub.services.rounds import (
    DEFAULT_HORIZON_DAYS,
    continue_on,
    lock_contract,
    schedule_rounds,
)
from hub.services.validation import Conflict, RecordInvalid


class TransitionRefused(Conflict):
    """The contract's status (or a round's cut-off) does not allow this change now."""


def upcoming_rounds(session: Session, contract_id: int) -> list[Round]:
    """The contract's rounds still to be shipped, by number."""
    return list(session.scalars(select(Round).where(Round.contract_id == contract_id,
                                                    Round.status == "scheduled")
                                .order_by(Round.number)))


def pause_contract(session: Session, contract: Contract, today: date, *,
                   now: datetime | None = None) -> Contract:
    """active -> paused; its rounds before cut-off are withdrawn, those past it still go."""
    contract = _locked(session, contract, "pause", ("active",))
    contract.status = "paused"
    withdrawn = list(session.scalars(select(Round.scheduled_on)
                                     .where(*_changeable(contract.id, now or utcnow()))))
    if withdrawn and contract.next_round_on is not None:
        contract.next_round_on = min(withdrawn)  # the calendar's next date is free again
    session.execute(delete(Round).where(*_changeable(contract.id, now or utcnow()))
                    .execution_options(synchronize_session="fetch"))
    return contract


def resume_contract(session: Session, contract: Contract, today: date, *,
                    now: datetime | None = None,
                    horizon_days: int = DEFAULT_HORIZON_DAYS) -> Contract:
    """paused -> active, the calendar continuing from the first cadence date on or after
    today; its rounds are scheduled at once."""
    contract = _locked(session, contract, "resume", ("paused",))
    contract.status = "active"
    if contract.next_round_on is not None:  # an ending contract keeps ending
        contract.next_round_on = continue_on(session, contract, _zone(session, contract), today)
    return _rescheduled(session, contract, today, horizon_days)


def skip_round(session: Session, contract: Contract, today: date, *,
               round_id: int | None = None, scheduled_on: date | None = None,
               now: datetime | None = None,
               horizon_days: int = DEFAULT_HORIZON_DAYS) -> Contract:
    """Skip one scheduled round before its cut-off: the paid rounds after it move up one slot
    and one more is added at the end, so every paid round is still delivered."""
    contract = _locked(session, contract, "skip a round of", ("active",))
    query = select(Round).where(Round.contract_id == contract.id)
    if round_id is not None:
        query, path = query.where(Round.id == round_id), "round_id"
    else:
        query, path = query.where(Round.scheduled_on == scheduled_on), "scheduled_on"
    found = list(session.scalars(query.order_by(Round.number)))
    skipped = next((r for r in found if r.status == "scheduled"), found[0] if found else None)
    if skipped is None:
        raise RecordInvalid.at(path, "No round of this contract by that.")
    if skipped.status != "scheduled":
        raise TransitionRefused(f"Round {skipped.number} is {skipped.status}; only a scheduled "
                                "round can be skipped.")
    if skipped.cutoff_at <= (now or utcnow()):
        raise TransitionRefused(f"Round {skipped.number} passed its cut-off at "
                                f"{skipped.cutoff_at.isoformat()}; it can no longer be "
                                "skipped.")
    paid = skipped.sequence
    skipped.status, skipped.sequence = "skipped", None
    if paid is not None:
        session.execute(update(Round)
                        .where(Round.contract_id == contract.id, Round.sequence > paid)
                        .values(sequence=Round.sequence - 1)
                        .execution_options(synchronize_session="fetch"))
    return _rescheduled(session, contract, today, horizon_days)


def change_cadence(session: Session, contract: Contract, today: date, *, cadence: str,
                   now: datetime | None = None,
                   horizon_days: int = DEFAULT_HORIZON_DAYS) -> Contract:
    """Deliver at another cadence: rounds before cut-off are made again from the first of
    them on; rounds past cut-off and skipped rounds are kept."""
    contract = _locked(session, contract, "change the cadence of", ("active", "paused"))
    if contract.cadence == cadence:
        return contract
    changeable = list(session.scalars(select(Round).where(*_changeable(contract.id,
                                                                       now or utcnow()))
                                      .order_by(Round.scheduled_on)))
    contract.cadence = cadence
    if changeable:
        if contract.next_round_on is not None:
            contract.next_round_on = changeable[0].scheduled_on
        for row in changeable:
            session.delete(row)
        session.flush()
    if contract.status != "active":
        return contract
    return _rescheduled(session, contract, today, horizon_days)


def cancel_contract(session: Session, contract: Contract, today: date, *,
                    now: datetime | None = None, reason: str | None = None) -> Contract:
    """Cancel from today: rounds before cut-off are cancelled, those past it still go."""
    contract = _locked(session, contract, "cancel", ("active", "paused"))
    contract.status = "cancelled"
    contract.cancelled_on = today
    contract.cancel_reason = reason
    session.execute(update(Round).where(*_changeable(contract.id, now or utcnow()))
                    .values(status="cancelled")
                    .execution_options(synchronize_session="fetch"))
    return contract


def end_contract(session: Session, contract: Contract, today: date, *,
                 now: datetime | None = None,
                 horizon_days: int = DEFAULT_HORIZON_DAYS) -> Contract:
    """Take no further term: the contract ends once its last paid round of this term (for an
    open-ended plan, of this block of prepaid rounds) is delivered."""
    contract = _locked(session, contract, "end", ("active", "paused"))
    contract.next_round_on = None
    if contract.status != "active":
        return contract
    return _rescheduled(session, contract, today, horizon_days)


def renew_contract(session: Session, contract: Contract, today: date, *,
                   now: datetime | None = None,
                   horizon_days: int = DEFAULT_HORIZON_DAYS) -> Contract:
    """Start another term after this one: for an ended contract, or one set to end at its
    term end (by its plan or by an operator). A contract that renews by itself is refused."""
    contract = _locked(session, contract, "renew", ("active", "paused", "ended"))
    plan = session.get_one(Plan, contract.plan_id)
    ending = contract.next_round_on is None or (
        contract.term_rounds is not None and plan.at_term_end == "end")
    if contract.status != "ended" and not ending:
        raise TransitionRefused(f"This {contract.status} contract renews by itself at its "
                                "term end; there is nothing to renew.")
    contract.renewals += 1
    if contract.status == "ended":
        contract.status = "active"
    if contract.next_round_on is None:
        contract.next_round_on = continue_on(session, contract, _zone(session, contract), today)
    if contract.status != "active":
        return contract
    return _rescheduled(session, contract, today, horizon_days)


def _locked(session: Session, contract: Contract, action: str,
            allowed: tuple[str, ...]) -> Contract:
    """The contract under lock, if its status allows the action; else a 409's reason."""
    contract = lock_contract(session, contract.id, contract.box_id)
    if contract.status not in allowed:
        raise TransitionRefused(f"Cannot {action} this {contract.status} contract (only "
                                f"when {' or '.join(allowed)}).")
    return contract


def _changeable(contract_id: int, now: datetime) -> tuple[ColumnElement[bool], ...]:
    """Scheduled rounds still before their cut-off."""
    return (Round.contract_id == contract_id, Round.status == "scheduled",
            Round.cutoff_at > now)


def _zone(session: Session, contract: Contract) -> ZoneInfo:
    return ZoneInfo(session.get_one(Tenant, contract.tenant_id).time_zone)


def _rescheduled(session: Session, contract: Contract, today: date,
                 horizon_days: int) -> Contract:
    session.flush()
    schedule_rounds(session, contract.tenant_id, today, horizon_days, contract_id=contract.id)
    return contract
