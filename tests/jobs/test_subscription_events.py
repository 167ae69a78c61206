"""A platform's own subscription changes arrive as signed webhooks and go through the same
contract lifecycle as the API's: once each, in any batch, after the order that started them."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

from sqlalchemy import select

from hub.db import session_scope
from hub.models import Contract, InboxEntry, Round
from hub.services.rounds import schedule_rounds
from tests.jobs.test_inbox_drain import add_rows, drain, partner, placed  # noqa: F401


def change(kind: str, order_id: str, when: datetime, **data: object) -> bytes:
    return json.dumps({"type": f"subscription.{kind}", "timestamp": when.isoformat(),
                       "data": {"order_id": order_id, **data}}).encode()


def contract_of(session) -> Contract:
    return session.scalars(select(Contract)).one()


def test_pause_resume_skip_and_cancel_from_the_platform(app, partner):  # noqa: F811
    now = datetime.now().astimezone()
    # The order and its pause in one batch: the pause is applied after the order.
    add_rows(app, partner["id"], [placed("S-1"), change("paused", "S-1", now),
                                  change("paused", "S-1", now)])
    report = drain(app, partner["id"], max_attempts=1)
    factory = app.extensions["gudok"].session_factory
    with session_scope(factory) as session:
        assert contract_of(session).status == "paused"
        assert not session.scalars(select(InboxEntry).where(
            InboxEntry.status == "dead")).all(), report
    add_rows(app, partner["id"], [change("resumed", "S-1", now)])
    drain(app, partner["id"], max_attempts=1)
    with session_scope(factory) as session:
        contract = contract_of(session)
        assert contract.status == "active"
        schedule_rounds(session, contract.tenant_id, now.date(), 40)
        first = session.scalars(select(Round).where(Round.contract_id == contract.id)
                                .order_by(Round.number)).first()
        assert first is not None and first.scheduled_on > now.date()
        day = first.scheduled_on
    add_rows(app, partner["id"], [change("skipped", "S-1", now, scheduled_on=day.isoformat()),
                                  change("skipped", "S-1", now, scheduled_on=day.isoformat()),
                                  change("cadence_changed", "S-1", now, cadence="monthly")])
    drain(app, partner["id"], max_attempts=1)
    with session_scope(factory) as session:
        skipped = session.scalars(select(Round).where(Round.status == "skipped")).all()
        assert [r.scheduled_on for r in skipped] == [day]
        assert contract_of(session).cadence == "monthly"
    add_rows(app, partner["id"], [change("cancelled", "S-1", now, reason=" 배송지 변경 ")])
    drain(app, partner["id"], max_attempts=1)
    with session_scope(factory) as session:
        assert (contract_of(session).status, contract_of(session).cancel_reason) == (
            "cancelled", "배송지 변경")
        assert not session.scalars(select(InboxEntry).where(
            InboxEntry.status == "dead")).all()


def test_a_change_the_contract_cannot_take_is_kept_dead_with_its_reason(app, partner):  # noqa: F811
    now = datetime.now().astimezone()
    add_rows(app, partner["id"], [placed("S-2"), change("cancelled", "S-2", now),
                                  change("resumed", "S-2", now),
                                  change("skipped", "S-2", now,
                                         scheduled_on=(date.today() + timedelta(days=400))
                                         .isoformat()),
                                  change("paused", "NO-SUCH-ORDER", now)])
    drain(app, partner["id"], max_attempts=1)
    with session_scope(app.extensions["gudok"].session_factory) as session:
        contract = contract_of(session)
        assert (contract.status, contract.cancel_reason) == ("cancelled", "cancelled on 다온 구독")
        dead = session.scalars(select(InboxEntry).where(InboxEntry.status == "dead")
                               .order_by(InboxEntry.id)).all()
        reasons = [row.last_error or "" for row in dead]
        assert len(dead) == 3, reasons
        assert "resume" in reasons[0] and "cancelled" in reasons[0]
        assert "NO-SUCH-ORDER" in reasons[2]
