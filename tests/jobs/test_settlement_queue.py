"""A settlement run asked for through the API is a job on RQ's `settlement` queue: queued
once per (tenant, period, close), run by a worker, its statements then closed."""

from __future__ import annotations

from rq import Queue
from sqlalchemy import select

from hub.db import session_scope
from hub.models import Round, SettlementPeriod
from tests.jobs.test_runner import redis_app as redis_app  # noqa: F401 - fixtures
from tests.jobs.test_runner import rq_redis as rq_redis  # noqa: F401
from tests.jobs.test_runner import work_burst
from tests.services.settlement_world import one_delivered_round


def test_a_run_is_queued_once_and_a_worker_closes_the_period(redis_app, rq_redis,  # noqa: F811
                                                             tenants, operator):
    with session_scope(redis_app.extensions["gudok"].session_factory) as session:
        one_delivered_round(session, tenants["hanbit"])
    body = {"period": "2026-10", "close": True}
    first = operator.post("/api/v1/statements/runs", json=body)
    again = operator.post("/api/v1/statements/runs", json=body)
    assert first.status_code == again.status_code == 202, first.get_json()
    assert first.get_json() == again.get_json() == {
        "queued": True, "job_id": f"settle-{tenants['hanbit']}-2026-10-close"}
    assert Queue("settlement", connection=rq_redis).count == 1
    work_burst(rq_redis)
    with session_scope(redis_app.extensions["gudok"].session_factory) as session:
        assert session.scalar(select(Round.posted_at)) is not None
        assert session.scalar(select(SettlementPeriod.status).where(
            SettlementPeriod.key == "2026-10")) == "closed"
    statements = operator.get("/api/v1/statements?period=2026-10").get_json()["data"]
    assert len(statements) == 3 and {s["status"] for s in statements} == {"closed"}

