"""The sweeper re-queues whatever the database says is unfinished: after Redis is flushed the
pending inbox rows still get drained, and running it again queues nothing twice."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
import redis
from flask import Flask
from rq import Queue
from sqlalchemy import select, update

from hub.db import session_scope, utcnow
from hub.errors import ConfigurationError
from hub.models import Connection, InboxEntry, OutboxMessage, Round, Voucher
from hub.queue import QUEUE_KEY, embedded_queue
from hub.services.sync_health import record_failure
from jobs import registry
from jobs.sweeper import CONFIGURATION_HOLD, kick, plan, run_chores, sweep
from tests.jobs.test_runner import make_connection, work_burst
from tests.jobs.test_runner import redis_app as redis_app  # noqa: F401 - fixtures
from tests.jobs.test_runner import rq_redis as rq_redis  # noqa: F401
from tests.services.settlement_world import add_order, build_world, deliver, kst


def add_inbox(app: Flask, connection_id: int, count: int = 1, *,
              locked_for: timedelta | None = None, status: str = "pending") -> None:
    with session_scope(app.extensions["gudok"].session_factory) as session:
        tenant_id = session.get_one(Connection, connection_id).tenant_id
        for _ in range(count):
            number = session.scalar(select(InboxEntry.id).order_by(InboxEntry.id.desc())) or 0
            session.add(InboxEntry(
                tenant_id=tenant_id, connection_id=connection_id, status=status,
                delivery_key=f"d-{connection_id}-{number + 1}", event="order.created",
                body=b"{}", locked_until=utcnow() + locked_for if locked_for else None))
            session.flush()


def add_outbox(app: Flask, connection_id: int, due_in: timedelta) -> None:
    with session_scope(app.extensions["gudok"].session_factory) as session:
        tenant_id = session.get_one(Connection, connection_id).tenant_id
        session.add(OutboxMessage(
            tenant_id=tenant_id, connection_id=connection_id, webhook_id=f"msg_{connection_id}",
            event_type="box.updated", payload="{}", next_attempt_at=utcnow() + due_in))


def pending_inbox(app: Flask, connection_id: int) -> int:
    with session_scope(app.extensions["gudok"].session_factory) as session:
        return len(session.scalars(select(InboxEntry.id).where(
            InboxEntry.connection_id == connection_id,
            InboxEntry.status == "pending")).all())


def mark_done(app: Flask) -> Any:
    """A stand-in drain: applies (marks done) every pending row of the connection."""
    def drain(connection_id: int) -> None:
        with session_scope(app.extensions["gudok"].session_factory) as session:
            session.execute(update(InboxEntry).where(
                InboxEntry.connection_id == connection_id, InboxEntry.status == "pending")
                .values(status="done"))
    return drain


def test_after_redis_is_flushed_the_sweep_queues_the_drain_again(
        redis_app: Flask, rq_redis: redis.Redis) -> None:
    connection_id = make_connection(redis_app)
    add_inbox(redis_app, connection_id, 3)
    assert sweep(redis_app)["drain"] == 1
    rq_redis.flushdb()  # Redis lost everything: the queued drain is gone
    assert Queue("orders", connection=rq_redis).count == 0
    counts = sweep(redis_app)
    assert counts["drain"] == 1
    assert sweep(redis_app) == counts  # safe to run again: still one job per id
    assert Queue("orders", connection=rq_redis).job_ids == [registry.job_id("drain",
                                                                            connection_id)]
    with registry.substitute("drain", mark_done(redis_app)), \
            registry.substitute("notify", lambda cid: None):
        work_burst(rq_redis)
    assert pending_inbox(redis_app, connection_id) == 0
    assert sweep(redis_app)["drain"] == 0  # nothing left to drain


def test_the_sweep_plans_each_connection_s_jobs(app: Flask) -> None:
    partner = make_connection(app)
    polled = make_connection(app, config={"events_url": "https://p.example/events",
                                          "outbound_url": "https://p.example/hook"})
    claimed = make_connection(app)
    paused = make_connection(app, status="paused")
    mall = make_connection(app, connector="saleor")
    add_inbox(app, partner, 2)
    add_inbox(app, polled, 1, locked_for=-timedelta(minutes=1))  # a dead worker's claim
    add_inbox(app, claimed, 1, locked_for=timedelta(minutes=5))  # a live claim
    add_inbox(app, paused, 1)
    add_inbox(app, mall, 1, status="dead")
    add_outbox(app, partner, due_in=-timedelta(seconds=1))
    add_outbox(app, polled, due_in=timedelta(hours=1))
    assert sorted(plan(app, utcnow())) == sorted([
        ("drain", partner), ("notify", partner), ("deliver", partner),
        ("drain", polled), ("poll", polled), ("notify", polled),
        ("notify", claimed),
        ("push", mall), ("link_outs", mall),
    ])


def test_a_configuration_failure_holds_its_stream_until_the_connection_changes(
        app: Flask) -> None:
    mall = make_connection(app, connector="saleor")
    failed_at = utcnow() + timedelta(seconds=1)
    with session_scope(app.extensions["gudok"].session_factory) as session:
        record_failure(session, mall, "push.catalog",
                       ConfigurationError("401", fix="Reinstall the app."), now=failed_at)
    soon = failed_at + timedelta(minutes=1)
    assert ("push", mall) not in plan(app, soon)
    assert ("link_outs", mall) in plan(app, soon)  # other streams go on
    assert ("push", mall) in plan(app, failed_at + CONFIGURATION_HOLD + timedelta(seconds=1))
    with session_scope(app.extensions["gudok"].session_factory) as session:
        session.execute(update(Connection).where(Connection.id == mall).values(
            updated_at=failed_at + timedelta(seconds=30)))
    assert ("push", mall) in plan(app, soon)  # the operator changed it: try again


def test_kick_queues_one_connection_s_jobs_on_the_embedded_queue(
        app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.extensions, QUEUE_KEY, None)
    one, other = make_connection(app), make_connection(app)
    add_inbox(app, one, 1)
    add_inbox(app, other, 1)
    counts = kick(app, one)
    assert {name: count for name, count in counts.items() if count} == {"drain": 1, "notify": 1}
    assert embedded_queue(app).pending() == sorted([registry.job_id("drain", one),
                                                    registry.job_id("notify", one)])


def test_the_calendars_chores_schedule_rounds_and_expire_vouchers(app, tenants):
    """What every worker runs hourly beside its sweeps: idempotent, so any worker may."""
    factory = app.extensions["gudok"].session_factory
    with session_scope(factory) as session:
        world = build_world(session, tenants["hanbit"], voucher=True)
        add_order(session, world, "M1", world.mall, kst(2026, 10, 1), 104000)
        delivered = deliver(session, world, "M1", 1, kst(2026, 10, 8))
        session.add(Voucher(tenant_id=world.tenant.id, round_id=delivered.id,
                            item_id=world.items[2].id, merchant_id=world.merchants[2].id,
                            unit=1, code="GV-CH0RE5EXP1RE", valid_until=date(2026, 10, 9),
                            status="issued"))
        contract = world.lines["M1"].contract
        contract.next_round_on = date.today() + timedelta(days=3)
    run_chores(app)
    run_chores(app)
    with session_scope(factory) as session:
        scheduled = session.scalars(select(Round.scheduled_on).where(
            Round.status == "scheduled")).all()
        assert scheduled and min(scheduled) == date.today() + timedelta(days=3)
        assert len(scheduled) == len(set(scheduled))  # twice: each round once
        assert session.scalar(select(Voucher.status)) == "expired"


def test_a_tracking_number_not_yet_pushed_is_swept_to_its_channel(app, tenants):
    """The tracking job is queued for a channel while one of its rounds has a number the
    channel has not been sent, and no more once it was."""
    factory = app.extensions["gudok"].session_factory
    with session_scope(factory) as session:
        world = build_world(session, tenants["hanbit"])
        world.platform.status = "active"
        add_order(session, world, "P1", world.platform, kst(2026, 10, 1), 104000)
        shipped = deliver(session, world, "P1", 1, kst(2026, 10, 8))
        shipped.carrier, shipped.tracking_number = "우체국택배", "6000000001"
        platform, mall = world.platform.id, world.mall.id
    assert ("tracking", platform) in plan(app, utcnow())
    assert ("tracking", mall) not in plan(app, utcnow())
    with session_scope(factory) as session:
        session.execute(update(Round).values(tracking_pushed_at=utcnow()))
    assert ("tracking", platform) not in plan(app, utcnow())
