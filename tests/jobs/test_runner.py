"""A real RQ worker runs the sync jobs inside the app context, and hub/errors.py's taxonomy
decides what RQ does next: rate limits and an open circuit wait without using an attempt,
transient failures are retried with backoff, configuration and record errors are not."""

from __future__ import annotations

import dataclasses
import os
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import redis
from flask import Flask, current_app
from rq import Queue, SimpleWorker
from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry, ScheduledJobRegistry
from sqlalchemy import select

from connectors.http.limits import RedisCircuitBreaker, local_breaker
from hub.crypto import SecretError
from hub.db import session_scope
from hub.errors import ConfigurationError, RateLimited, RecordError, TransientError
from hub.models import Connection, StreamCursor, Tenant
from hub.queue import QUEUE_KEY, QUEUES, REDIS_KEY, enqueue
from jobs import registry, runner
from jobs.notifications import DeliveryReport
from tests.conftest import REDIS_URL, make_tenant


@pytest.fixture
def rq_redis() -> Iterator[redis.Redis]:
    """Redis db 15, emptied before and after: what RQ keeps there belongs to the test."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as error:
        pytest.exit(f"Redis is not answering at {REDIS_URL}: {error}", returncode=3)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def redis_app(app: Flask, rq_redis: redis.Redis, monkeypatch: pytest.MonkeyPatch) -> Flask:
    """The test app with GUDOK_REDIS_URL set, as the worker runs it."""
    state = app.extensions["gudok"]
    monkeypatch.setattr(state, "settings",
                        dataclasses.replace(state.settings, redis_url=REDIS_URL))
    monkeypatch.setitem(app.extensions, REDIS_KEY, None)
    monkeypatch.setitem(app.extensions, QUEUE_KEY, None)
    monkeypatch.setattr(runner, "_app", app)  # the worker's app, forgotten after the test
    monkeypatch.setattr(runner, "_app_pid", os.getpid())
    return app


def make_connection(app: Flask, connector: str = "partner", status: str = "active",
                    config: dict[str, Any] | None = None, tenant: str = "hanbit") -> int:
    tenant_id = _tenant(app, tenant)
    with session_scope(app.extensions["gudok"].session_factory) as session:
        connection = Connection(tenant_id=tenant_id, connector=connector,
                                name=f"{connector} {time.monotonic_ns()}", status=status,
                                config=config or {})
        session.add(connection)
        session.flush()
        return connection.id


def _tenant(app: Flask, code: str) -> int:
    with session_scope(app.extensions["gudok"].session_factory) as session:
        found = session.scalar(select(Tenant.id).where(Tenant.code == code))
    return found if found is not None else make_tenant(app, code)


def health(app: Flask, connection_id: int, stream: str) -> StreamCursor | None:
    with session_scope(app.extensions["gudok"].session_factory) as session:
        return session.scalar(select(StreamCursor).where(
            StreamCursor.connection_id == connection_id, StreamCursor.stream == stream))


class BurstWorker(SimpleWorker):
    """RQ's SimpleWorker without its command channel, whose listener thread a burst does not
    need (stopping it can take a second)."""

    def subscribe(self) -> None:
        pass


def work_burst(connection: redis.Redis) -> None:
    """One RQ worker over every queue until they are empty (signal handlers restored)."""
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        worker = BurstWorker([Queue(name, connection=connection) for name in QUEUES],
                              connection=connection)
        worker.work(burst=True, logging_level="WARNING")
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)


@dataclass
class Calls:
    seen: list[int] = dataclasses.field(default_factory=list)

    def job(self, outcome: Callable[[], Any] | BaseException | None = None) -> Callable[[int], Any]:
        def stand_in(connection_id: int) -> Any:
            self.seen.append(connection_id)
            assert current_app.extensions["gudok"].session_factory is not None
            if isinstance(outcome, BaseException):
                raise outcome
            return outcome() if outcome is not None else None
        return stand_in


def test_a_worker_runs_the_job_in_the_app_context_and_records_health(
        redis_app: Flask, rq_redis: redis.Redis) -> None:
    connection_id = make_connection(redis_app)
    calls = Calls()
    with registry.substitute("drain", calls.job()):
        assert enqueue(redis_app, "drain", connection_id)
        work_burst(rq_redis)
    assert calls.seen == [connection_id]
    row = health(redis_app, connection_id, "inbox")
    assert row is not None and row.last_success_at is not None and row.last_error is None
    # Nothing is left over in Redis.
    assert not Job.exists(registry.job_id("drain", connection_id), connection=rq_redis)


def _job(connection: redis.Redis, name: str, connection_id: int) -> Job:
    return Job.fetch(registry.job_id(name, connection_id), connection=connection)


def test_rate_limited_reschedules_after_the_wait_without_using_an_attempt(
        redis_app: Flask, rq_redis: redis.Redis) -> None:
    connection_id = make_connection(redis_app)
    calls = Calls()
    with registry.substitute("deliver", calls.job(RateLimited("429 from the platform",
                                                              wait_seconds=42))):
        enqueue(redis_app, "deliver", connection_id)
        before = time.time()
        work_burst(rq_redis)
        after = time.time()
    job = _job(rq_redis, "deliver", connection_id)
    assert calls.seen == [connection_id]
    assert job.get_status() == JobStatus.SCHEDULED
    assert job.retries_left == 5  # every attempt still there
    at = ScheduledJobRegistry("catalog", connection=rq_redis).get_scheduled_time(job)
    assert before + 41 <= at.timestamp() <= after + 43
    row = health(redis_app, connection_id, "notifications")
    assert row is not None and row.last_error_class == "rate_limited"


def test_a_transient_failure_is_retried_with_backoff_using_an_attempt(
        redis_app: Flask, rq_redis: redis.Redis) -> None:
    connection_id = make_connection(redis_app)
    with registry.substitute("drain", Calls().job(TransientError("503 from the platform"))):
        enqueue(redis_app, "drain", connection_id)
        before = time.time()
        work_burst(rq_redis)
    job = _job(rq_redis, "drain", connection_id)
    assert job.get_status() == JobStatus.SCHEDULED
    assert job.retries_left == 4
    at = ScheduledJobRegistry("orders", connection=rq_redis).get_scheduled_time(job)
    assert at.timestamp() >= before + 9  # the first interval, 10 s
    row = health(redis_app, connection_id, "inbox")
    assert row is not None and row.last_error_class == "transient"


@pytest.mark.parametrize("error", [
    ConfigurationError("401 from the platform", fix="Set a valid events_token."),
    RecordError("the payload has no order id", record="o-1"),
], ids=["configuration", "record"])
def test_configuration_and_record_errors_fail_without_retry(
        redis_app: Flask, rq_redis: redis.Redis, error: Exception) -> None:
    connection_id = make_connection(redis_app)
    calls = Calls()
    with registry.substitute("drain", calls.job(error)):
        enqueue(redis_app, "drain", connection_id)
        work_burst(rq_redis)
        job = _job(rq_redis, "drain", connection_id)
        assert job.get_status() == JobStatus.FAILED
        assert job.id in FailedJobRegistry("orders", connection=rq_redis).get_job_ids()
        row = health(redis_app, connection_id, "inbox")
        assert row is not None and row.last_error_class == str(error.kind)  # type: ignore
        assert calls.seen == [connection_id]  # one try, no retry scheduled
        # A failed job does not block the next enqueue: it is replaced by a fresh one.
        assert enqueue(redis_app, "drain", connection_id)
        fresh = _job(rq_redis, "drain", connection_id)
        assert fresh.get_status() == JobStatus.QUEUED and fresh.retries_left == 5
    if isinstance(error, ConfigurationError):
        assert row.last_error is not None and "Set a valid events_token." in row.last_error


def test_a_paused_or_disabled_connection_is_a_no_op_success(
        redis_app: Flask, rq_redis: redis.Redis) -> None:
    connections = [make_connection(redis_app, status=status) for status in ("paused", "disabled")]
    calls = Calls()
    with registry.substitute("push", calls.job()):
        for connection_id in connections:
            enqueue(redis_app, "push", connection_id)
        work_burst(rq_redis)
    assert calls.seen == []
    for connection_id in connections:
        assert not Job.exists(registry.job_id("push", connection_id), connection=rq_redis)
        assert health(redis_app, connection_id, "push.catalog") is None


@pytest.mark.parametrize("store", ["redis", "in-process"])
def test_an_open_circuit_reschedules_after_its_cool_down_without_an_attempt(
        redis_app: Flask, rq_redis: redis.Redis, store: str) -> None:
    connection_id = make_connection(redis_app, connector="saleor")
    settings = redis_app.extensions["gudok"].settings
    breaker: Any = (RedisCircuitBreaker(rq_redis, str(connection_id),
                                        settings.http_breaker_failures, 300.0)
                    if store == "redis" else local_breaker(str(connection_id),
                                                          settings.http_breaker_failures, 300.0))
    opened = time.time()
    for _ in range(settings.http_breaker_failures):
        breaker.record_failure(opened)
    calls = Calls()
    try:
        with registry.substitute("push", calls.job()):
            enqueue(redis_app, "push", connection_id)
            work_burst(rq_redis)
    finally:
        breaker.record_success()
    job = _job(rq_redis, "push", connection_id)
    assert calls.seen == []  # the platform is not called while its circuit is open
    assert job.get_status() == JobStatus.SCHEDULED and job.retries_left == 5
    at = ScheduledJobRegistry("stock", connection=rq_redis).get_scheduled_time(job)
    expected = opened + settings.http_breaker_cooldown_seconds
    assert expected - 1 <= at.timestamp() <= expected + 2


def _stopped() -> DeliveryReport:
    return DeliveryReport(0, stopped="the connection has no outbound_url: set it")


OUTCOMES: list[tuple[Any, str, str | None]] = [
    (None, "success", None),
    (RateLimited("slow down", wait_seconds=5), "rescheduled", "rate_limited"),
    (TransientError("timeout"), "retry", "transient"),
    (RuntimeError("a bug"), "retry", "internal"),
    (ConfigurationError("no token", fix="Install the app."), "failed", "configuration"),
    (RecordError("bad record"), "failed", "record"),
    (_stopped, "failed", "configuration"),
    (SecretError("secret cannot be decrypted"), "failed", "configuration"),
    (None, "success", None),  # a success clears the last error
]


def test_execute_classifies_every_outcome_and_records_it(app: Flask) -> None:
    connection_id = make_connection(app)
    for outcome, status, error_class in OUTCOMES:
        with registry.substitute("deliver", Calls().job(outcome)):
            result = runner.execute(app, "deliver", connection_id)
        assert (result.status, result.error_class) == (status, error_class), outcome
        row = health(app, connection_id, "notifications")
        assert row is not None and row.last_error_class == error_class
        if status == "success":
            assert row.last_error is None and row.last_success_at is not None


def test_a_job_whose_module_is_missing_is_a_configuration_failure(
        app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    connection_id = make_connection(app, config={"events_url": "https://p.example/events"})
    monkeypatch.setitem(registry.JOBS, "poll", dataclasses.replace(
        registry.JOBS["poll"], target="jobs.no_such_module:poll_orders"))
    result = runner.execute(app, "poll", connection_id)
    assert (result.status, result.error_class) == ("failed", "configuration")
    row = health(app, connection_id, "orders.pull")
    assert row is not None and row.last_error is not None
    assert "jobs.no_such_module" in row.last_error
