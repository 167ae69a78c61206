"""The round scheduler and the contract lifecycle: rounds made once on the tenant's calendar,
monthly dates kept to the order's day, cut-offs at Seoul midnight stored in UTC, capacity per
delivery date, terms renewed or ended, and pause, resume, skip, cadence, cancel, end, renew
keeping every paid round."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from hub.db import session_scope
from hub.models import Box, Contract, OrderLine, Plan, Round
from hub.services import contract_lifecycle as lifecycle
from hub.services.rounds import ScheduleReport, next_cadence_date, schedule_rounds
from hub.services.validation import Conflict, RecordInvalid
from jobs.rounds import schedule_due_rounds
from tests.factories import create_catalog
from tests.services.test_orders import apply, order_event, partner_connection

# Orders are placed 2026-11-30 00:30 in Seoul: the first monthly round is on 2026-12-30.
NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
TODAY = date(2026, 12, 1)


@pytest.fixture
def shop(app: Flask, operator: Any, tenants: dict[str, int]) -> dict[str, Any]:
    return {**create_catalog(operator), "partner": partner_connection(operator),
            "tenant_id": tenants["hanbit"]}


def subscribe(app: Flask, shop: dict[str, Any], external_id: str = "DAON-1",
              quantity: int = 2, **changes: Any) -> int:
    """A paid order of `quantity` boxes a round; its contract's id, with `changes` set."""
    apply(app, shop["partner"], order_event("order.upserted", "paid", 1,
                                            external_id=external_id, quantity=quantity))
    with session(app) as db:
        contract = db.scalars(select(Contract).join(OrderLine).where(
            OrderLine.external_line_id == "1").order_by(Contract.id.desc())).first()
        assert contract is not None and contract.status == "active"
        for key, value in changes.items():
            setattr(contract, key, value)
        return contract.id


def session(app: Flask) -> Any:
    return session_scope(app.extensions["gudok"].session_factory)


def run(app: Flask, shop: dict[str, Any], today: date = TODAY,
        horizon_days: int = 28) -> ScheduleReport:
    with session(app) as db:
        return schedule_rounds(db, shop["tenant_id"], today, horizon_days)


def rounds(app: Flask, contract_id: int) -> list[tuple[int, int | None, date, str]]:
    """(number, sequence, date, status) of every round of the contract, by number."""
    with session(app) as db:
        return [(r.number, r.sequence, r.scheduled_on, r.status) for r in db.scalars(
            select(Round).where(Round.contract_id == contract_id).order_by(Round.number))]


def contract_state(app: Flask, contract_id: int) -> tuple[str, date | None, int, str]:
    with session(app) as db:
        c = db.get_one(Contract, contract_id)
        return c.status, c.next_round_on, c.renewals, c.cadence


def change(app: Flask, contract_id: int, action: Callable[..., Contract], today: date = TODAY,
           **arguments: Any) -> None:
    with session(app) as db:
        action(db, db.get_one(Contract, contract_id), today, now=NOW, **arguments)


def set_row(app: Flask, model: Any, row_id: int, **values: Any) -> None:
    with session(app) as db:
        row = db.get_one(model, row_id)
        for key, value in values.items():
            setattr(row, key, value)


def test_rounds_are_created_once_up_to_the_horizon_on_the_order_day(app, shop):
    contract = subscribe(app, shop)
    assert run(app, shop).created == 0  # the first round, 12-30, is beyond 12-29
    report = run(app, shop, date(2026, 12, 20), horizon_days=60)
    assert (report.created, report.refused, report.ended) == (2, [], 0)
    assert run(app, shop, date(2026, 12, 20), horizon_days=60).created == 0
    assert rounds(app, contract) == [(1, 1, date(2026, 12, 30), "scheduled"),
                                     (2, 2, date(2027, 1, 30), "scheduled")]
    assert contract_state(app, contract)[1] == date(2027, 2, 28)  # clamped: February
    run(app, shop, date(2027, 2, 1), horizon_days=60)
    assert [r[2] for r in rounds(app, contract)][2:] == [date(2027, 2, 28), date(2027, 3, 30)]
    with session(app) as db:
        assert {r.quantity for r in db.scalars(select(Round))} == {2}


def test_monthly_rounds_keep_their_day_through_a_short_month():
    assert next_cadence_date(date(2027, 1, 31), "monthly") == date(2027, 2, 28)
    assert next_cadence_date(date(2028, 1, 31), "monthly") == date(2028, 2, 29)
    assert next_cadence_date(date(2027, 2, 28), "monthly", 31) == date(2027, 3, 31)
    assert next_cadence_date(date(2026, 12, 31), "biweekly") == date(2027, 1, 14)


def test_a_round_on_the_31st_is_followed_by_the_last_of_february(app, shop):
    contract = subscribe(app, shop, next_round_on=date(2027, 1, 31))
    run(app, shop, date(2027, 1, 10), horizon_days=90)
    assert [r[2] for r in rounds(app, contract)] == [date(2027, 1, 31), date(2027, 2, 28),
                                                     date(2027, 3, 31)]


def test_the_cut_off_is_midnight_in_seoul_stored_in_utc(app, shop):
    subscribe(app, shop)
    run(app, shop, date(2026, 12, 20))
    with session(app) as db:
        [first] = db.scalars(select(Round))
        # Two days before 2026-12-30, at 00:00 in Seoul, is 15:00 UTC the day before.
        assert first.cutoff_at == datetime(2026, 12, 27, 15, 0, tzinfo=UTC)
        assert first.cutoff_at.utcoffset() is not None and first.cutoff_at.utcoffset() == \
            datetime(2026, 1, 1, tzinfo=UTC).utcoffset()


def test_weekly_rounds_continue_numbers_and_only_active_contracts_get_rounds(app, shop):
    weekly = subscribe(app, shop, cadence="weekly", next_round_on=date(2026, 12, 3))
    paused = subscribe(app, shop, "DAON-2", status="paused", next_round_on=date(2026, 12, 3))
    run(app, shop)
    assert [r[:3] for r in rounds(app, weekly)] == [
        (n, n, date(2026, 12, 3 + 7 * (n - 1))) for n in range(1, 5)]
    assert contract_state(app, weekly)[1] == date(2026, 12, 31)
    assert rounds(app, paused) == []
    run(app, shop, date(2026, 12, 8))
    assert [r[:2] for r in rounds(app, weekly)] == [(n, n) for n in range(1, 6)]


def test_boxes_cancelled_or_refunded_are_not_delivered(app, shop):
    contract = subscribe(app, shop, quantity=3)
    with session(app) as db:
        line = db.get_one(Contract, contract).order_line
        line.cancelled_quantity, line.refunded_quantity = 1, 1
    run(app, shop, date(2026, 12, 20))
    with session(app) as db:
        assert [r.quantity for r in db.scalars(select(Round))] == [1]


def test_rounds_beyond_the_capacity_of_a_date_are_refused_and_retried(app, shop, caplog):
    set_row(app, Box, shop["box"]["id"], capacity_per_round=3)
    first = subscribe(app, shop)
    second = subscribe(app, shop, "DAON-2")
    report = run(app, shop, date(2026, 12, 20))
    assert report.created == 1
    [refused] = report.refused
    assert (refused.contract_id, refused.scheduled_on) == (second, date(2026, 12, 30))
    assert "1 of 3 boxes left" in refused.reason and "refused" in caplog.text
    assert len(rounds(app, first)) == 1 and rounds(app, second) == []
    assert contract_state(app, second)[1] == date(2026, 12, 30)
    assert [r.contract_id for r in run(app, shop, date(2026, 12, 20)).refused] == [second]
    set_row(app, Box, shop["box"]["id"], capacity_per_round=4)
    assert run(app, shop, date(2026, 12, 20)).created == 1
    assert rounds(app, second) == [(1, 1, date(2026, 12, 30), "scheduled")]


def test_a_term_renews_by_itself_when_the_plan_says_so(app, shop):
    contract = subscribe(app, shop, cadence="weekly", term_rounds=2, prepaid_rounds=2,
                         next_round_on=date(2026, 12, 3))
    run(app, shop, horizon_days=35)
    assert [r[1] for r in rounds(app, contract)] == [1, 2, 3, 4, 5]
    assert contract_state(app, contract)[2] == 2  # rounds 3 and 5 started terms 2 and 3


def test_a_term_ends_when_the_plan_says_so_once_its_rounds_are_delivered(app, shop):
    set_row(app, Plan, shop["plan"]["id"], at_term_end="end")
    contract = subscribe(app, shop, cadence="weekly", term_rounds=2, prepaid_rounds=2,
                         next_round_on=date(2026, 12, 3))
    report = run(app, shop, horizon_days=35)
    assert (report.created, report.ended) == (2, 0)
    assert contract_state(app, contract)[:2] == ("active", None)
    with session(app) as db:
        for row in db.scalars(select(Round)):
            row.status, row.delivered_at = "delivered", NOW
    assert run(app, shop, date(2026, 12, 20), horizon_days=35).ended == 1
    assert contract_state(app, contract)[0] == "ended" and len(rounds(app, contract)) == 2
    change(app, contract, lifecycle.renew_contract, date(2026, 12, 20))
    assert contract_state(app, contract)[:3] == ("active", None, 1)  # the new term is made
    assert [r[1:3] for r in rounds(app, contract)][2:] == [(3, date(2026, 12, 24)),
                                                           (4, date(2026, 12, 31))]


def test_two_runs_at_once_create_every_round_once(app, shop):
    contracts = [subscribe(app, shop, f"DAON-{n}", cadence="weekly",
                           next_round_on=date(2026, 12, 3)) for n in range(1, 4)]
    barrier = threading.Barrier(2)
    reports: list[ScheduleReport] = []
    errors: list[BaseException] = []

    def one_run() -> None:
        try:
            with app.app_context():
                barrier.wait()
                reports.append(run(app, shop))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=one_run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == [] and len(reports) == 2
    assert sum(r.created for r in reports) == 12
    for contract in contracts:
        assert [r[0] for r in rounds(app, contract)] == [1, 2, 3, 4]


def test_the_job_schedules_every_tenant_on_its_own_calendar(app, shop):
    contract = subscribe(app, shop)
    with app.app_context():
        result = schedule_due_rounds(horizon_days=400)
        assert result["created"] == len(rounds(app, contract)) > 0
        assert schedule_due_rounds(shop["tenant_id"], horizon_days=400)["created"] == 0
    assert result["tenants"] == 2 and result["refused"] == []


def test_pause_withdraws_rounds_before_cut_off_and_resume_continues(app, shop):
    contract = subscribe(app, shop, cadence="weekly", next_round_on=date(2026, 11, 26))
    run(app, shop, date(2026, 11, 20))  # 11-26 ... 12-17; cut-off of 12-03 is 11-30 15:00Z
    change(app, contract, lifecycle.pause_contract)
    assert [r[2] for r in rounds(app, contract)] == [date(2026, 11, 26), date(2026, 12, 3)]
    with pytest.raises(Conflict, match="paused"):
        change(app, contract, lifecycle.skip_round, round_id=1)
    assert run(app, shop, date(2026, 12, 20)).created == 0
    change(app, contract, lifecycle.resume_contract, date(2026, 12, 20))
    assert contract_state(app, contract)[0] == "active"
    assert [r[:3] for r in rounds(app, contract)][2:] == [
        (3, 3, date(2026, 12, 24)), (4, 4, date(2026, 12, 31)), (5, 5, date(2027, 1, 7)),
        (6, 6, date(2027, 1, 14))]
    with pytest.raises(Conflict, match="Cannot resume this active"):
        change(app, contract, lifecycle.resume_contract)


def test_a_skipped_round_moves_the_paid_rounds_and_adds_one_at_the_end(app, shop):
    contract = subscribe(app, shop, cadence="weekly", next_round_on=date(2026, 12, 3))
    run(app, shop, horizon_days=20)  # 12-03, 12-10, 12-17
    with session(app) as db:
        second = db.scalars(select(Round.id).where(Round.number == 2)).one()
    change(app, contract, lifecycle.skip_round, round_id=second, horizon_days=23)
    assert rounds(app, contract) == [(1, 1, date(2026, 12, 3), "scheduled"),
                                     (2, None, date(2026, 12, 10), "skipped"),
                                     (3, 2, date(2026, 12, 17), "scheduled"),
                                     (4, 3, date(2026, 12, 24), "scheduled")]
    change(app, contract, lifecycle.skip_round, scheduled_on=date(2026, 12, 24),
           horizon_days=30)
    assert rounds(app, contract)[-1] == (5, 3, date(2026, 12, 31), "scheduled")
    with pytest.raises(Conflict, match="skipped"):
        change(app, contract, lifecycle.skip_round, round_id=second)
    with pytest.raises(RecordInvalid):
        change(app, contract, lifecycle.skip_round, scheduled_on=date(2027, 5, 5))
    with pytest.raises(Conflict, match="cut-off"):  # 12-03's cut-off: 11-30 15:00 UTC
        change(app, contract, lifecycle.skip_round, scheduled_on=date(2026, 12, 3))


def test_a_new_cadence_remakes_rounds_before_cut_off_and_keeps_skips(app, shop):
    contract = subscribe(app, shop, cadence="weekly", next_round_on=date(2026, 12, 3))
    run(app, shop)  # 12-03 (past cut-off), 12-10, 12-17, 12-24
    with session(app) as db:
        third = db.scalars(select(Round.id).where(Round.number == 3)).one()
    change(app, contract, lifecycle.skip_round, round_id=third)
    change(app, contract, lifecycle.change_cadence, cadence="biweekly")
    assert contract_state(app, contract)[3] == "biweekly"
    assert rounds(app, contract) == [(1, 1, date(2026, 12, 3), "scheduled"),
                                     (3, None, date(2026, 12, 17), "skipped"),
                                     (4, 2, date(2026, 12, 10), "scheduled"),
                                     (5, 3, date(2026, 12, 24), "scheduled")]
    assert contract_state(app, contract)[1] == date(2027, 1, 7)


def test_cancel_cancels_rounds_before_cut_off_and_refuses_further_changes(app, shop):
    contract = subscribe(app, shop, cadence="weekly", next_round_on=date(2026, 12, 3))
    run(app, shop)
    with session(app) as db:
        cancelled = lifecycle.cancel_contract(db, db.get_one(Contract, contract), TODAY,
                                              now=NOW)
        assert (cancelled.status, cancelled.cancelled_on) == ("cancelled", TODAY)
    assert [r[3] for r in rounds(app, contract)] == ["scheduled"] + ["cancelled"] * 3
    for action in (lifecycle.pause_contract, lifecycle.cancel_contract, lifecycle.end_contract,
                   lifecycle.renew_contract):
        with pytest.raises(Conflict, match="cancelled contract"):
            change(app, contract, action)
    assert run(app, shop, date(2026, 12, 20)).created == 0


def test_end_stops_after_the_term_and_a_renewing_contract_cannot_be_renewed(app, shop):
    contract = subscribe(app, shop, cadence="weekly", term_rounds=3, prepaid_rounds=3,
                         next_round_on=date(2026, 12, 3))
    with pytest.raises(Conflict, match="renews by itself"):
        change(app, contract, lifecycle.renew_contract)
    run(app, shop, horizon_days=7)  # 12-03 only
    change(app, contract, lifecycle.end_contract, horizon_days=60)
    assert [r[1] for r in rounds(app, contract)] == [1, 2, 3]
    assert contract_state(app, contract)[:2] == ("active", None)
    run(app, shop, date(2026, 12, 30), horizon_days=60)
    assert len(rounds(app, contract)) == 3
