"""Enqueueing: one job per (job, connection) while it waits, on RQ and on the embedded queue;
a running job gets one follow-up; a Redis that does not answer never fails the caller."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from flask import Flask, current_app
from rq import Queue
from rq.job import Job, JobStatus

from hub.errors import RateLimited, TransientError
from hub.queue import (
    FOLLOW_UP,
    QUEUE_KEY,
    REDIS_KEY,
    RETRY_INTERVALS,
    EmbeddedQueue,
    drain_embedded,
    embedded_queue,
    enqueue,
)
from jobs import registry
from tests.jobs.test_runner import health, make_connection
from tests.jobs.test_runner import redis_app as redis_app  # noqa: F401 - fixtures
from tests.jobs.test_runner import rq_redis as rq_redis  # noqa: F401


@pytest.fixture
def embedded(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[EmbeddedQueue]:
    """A fresh embedded queue for the test app (no Redis), its thread not started."""
    monkeypatch.setitem(app.extensions, QUEUE_KEY, None)
    queue = embedded_queue(app)
    yield queue
    queue.stop()


def test_enqueueing_twice_queues_one_rq_job_with_its_retry_policy(
        redis_app: Flask, rq_redis: redis.Redis) -> None:
    assert enqueue(redis_app, "drain", 7)
    assert enqueue(redis_app, "drain", 7)
    assert enqueue(redis_app, "push", 7)
    orders = Queue("orders", connection=rq_redis)
    assert orders.job_ids == [registry.job_id("drain", 7)]
    assert Queue("stock", connection=rq_redis).job_ids == [registry.job_id("push", 7)]
    job = orders.jobs[0]
    assert (job.func_name, job.args) == ("jobs.runner.run_job", ("drain", 7))
    assert job.retries_left == len(RETRY_INTERVALS) and job.retry_intervals == [10, 30, 60,
                                                                               300, 900]


def test_a_delayed_enqueue_is_scheduled_once(redis_app: Flask, rq_redis: redis.Redis) -> None:
    assert enqueue(redis_app, "deliver", 3, delay=120)
    assert enqueue(redis_app, "deliver", 3)  # already waiting: not queued again
    job = Job.fetch(registry.job_id("deliver", 3), connection=rq_redis)
    assert job.get_status() == JobStatus.SCHEDULED
    assert Queue("catalog", connection=rq_redis).count == 0


def test_a_running_job_gets_one_follow_up(redis_app: Flask, rq_redis: redis.Redis) -> None:
    enqueue(redis_app, "drain", 7)
    orders = Queue("orders", connection=rq_redis)
    running = orders.jobs[0]
    orders.remove(running)  # as a worker takes it
    running.set_status(JobStatus.STARTED)
    for _ in range(3):
        assert enqueue(redis_app, "drain", 7)
    assert orders.job_ids == [registry.job_id("drain", 7) + FOLLOW_UP]


def test_a_job_taken_by_a_worker_killed_before_it_started_gets_a_follow_up(
        redis_app: Flask, rq_redis: redis.Redis) -> None:
    """Killed between taking the job and starting it, the worker leaves it "queued" in no
    queue; RQ fails it only at a later maintenance run. Until then the next enqueue must not
    count it as waiting."""
    key = registry.job_id("drain", 7)
    enqueue(redis_app, "drain", 7)
    orders = Queue("orders", connection=rq_redis)
    assert rq_redis.lmove(orders.key, orders.intermediate_queue_key) == key.encode()
    assert Job.fetch(key, connection=rq_redis).get_status() == JobStatus.QUEUED
    for _ in range(3):
        assert enqueue(redis_app, "drain", 7)
    assert orders.job_ids == [key + FOLLOW_UP]


def test_redis_not_answering_answers_false_and_never_raises(
        app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    state = app.extensions["gudok"]
    monkeypatch.setattr(state, "settings", dataclasses.replace(
        state.settings, redis_url="redis://127.0.0.1:1/0"))
    monkeypatch.setitem(app.extensions, REDIS_KEY, None)
    assert enqueue(app, "drain", 7) is False


def test_an_unknown_job_is_a_programming_error(app: Flask) -> None:
    with pytest.raises(ValueError, match="unknown job"):
        enqueue(app, "resync_everything", 7)


def test_the_embedded_queue_runs_a_job_enqueued_twice_once_in_the_app_context(
        app: Flask, embedded: EmbeddedQueue) -> None:
    connection_id = make_connection(app)
    seen: list[tuple[int, Any]] = []

    def drain(cid: int) -> None:
        seen.append((cid, current_app._get_current_object()))  # type: ignore[attr-defined]

    with registry.substitute("drain", drain):
        assert enqueue(app, "drain", connection_id) and enqueue(app, "drain", connection_id)
        assert embedded.pending() == [registry.job_id("drain", connection_id)]
        assert drain_embedded(app, timeout=10)
    assert seen == [(connection_id, app)]
    assert embedded.pending() == []
    row = health(app, connection_id, "inbox")
    assert row is not None and row.last_success_at is not None


def test_the_embedded_queue_takes_orders_before_catalog(
        app: Flask, embedded: EmbeddedQueue) -> None:
    connection_id = make_connection(app)
    order: list[str] = []
    with registry.substitute("deliver", lambda cid: order.append("deliver")), \
            registry.substitute("drain", lambda cid: order.append("drain")):
        enqueue(app, "deliver", connection_id)
        enqueue(app, "drain", connection_id)
        assert drain_embedded(app, timeout=10)
    assert order == ["drain", "deliver"]


def test_the_embedded_queue_retries_transient_failures_and_waits_out_rate_limits(
        app: Flask, embedded: EmbeddedQueue) -> None:
    connection_id = make_connection(app)

    def fail(error: Exception) -> Any:
        def job(cid: int) -> None:
            raise error
        return job

    with registry.substitute("drain", fail(TransientError("503"))), \
            registry.substitute("deliver", fail(RateLimited("429", wait_seconds=300))):
        enqueue(app, "drain", connection_id)
        enqueue(app, "deliver", connection_id)
        assert drain_embedded(app, timeout=10)  # both now wait for later
    retried = embedded.waiting("drain", connection_id)
    waiting = embedded.waiting("deliver", connection_id)
    assert retried is not None and (retried.attempts, retried.reschedules) == (1, 0)
    assert waiting is not None and (waiting.attempts, waiting.reschedules) == (0, 1)
    assert [outcome.status for outcome in embedded.outcomes] == ["retry", "rescheduled"]


def test_the_embedded_queue_thread_runs_jobs_in_the_background(
        app: Flask, embedded: EmbeddedQueue) -> None:
    connection_id = make_connection(app)
    threads: list[int] = []
    embedded.start()
    with registry.substitute("drain", lambda cid: threads.append(threading.get_ident())):
        enqueue(app, "drain", connection_id)
        assert drain_embedded(app, timeout=10)
    assert len(threads) == 1 and threads[0] != threading.get_ident()
