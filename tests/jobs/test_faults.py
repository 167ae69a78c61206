"""Faults the sync engine must survive (DESIGN invariants 1-3): a worker killed in the middle
of a drain and a Redis flushed while deliveries arrive lose nothing; the same job run twice
at once has one effect."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
import redis
import requests
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from connectors.partner.signing import headers_for, new_secret
from hub.db import session_scope, utcnow
from hub.demo_mall import serving
from hub.models import Connection, InboxEntry, Order, OutboxMessage
from hub.queue import QUEUE_KEY, REDIS_KEY
from jobs.inbox import CLAIM_LEASE, DrainReport, drain_inbox
from jobs.partner import NotifyReport, notify_catalog_changes
from jobs.sweeper import sweep
from tests.api.test_partner_feed import add_box, offer
from tests.conftest import TEST_KEY, ApiClient
from tests.factories import create_catalog
from tests.jobs.fault_support import (
    GUDOK,
    ROOT,
    Delivery,
    order_deliveries,
    order_tables,
    worker_env,
)

FAULT_REDIS_URL = "redis://127.0.0.1:6379/12"
PAUSE_AFTER_ROWS = 300  # the worker stops dead mid-batch once it has drained this many rows
T = TypeVar("T")


@pytest.fixture
def fault_redis() -> Iterator[redis.Redis]:
    """Redis db 12, emptied before and after: what RQ keeps there belongs to the test."""
    client = redis.Redis.from_url(FAULT_REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as error:
        pytest.exit(f"Redis is not answering at {FAULT_REDIS_URL}: {error}", returncode=3)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def queued_app(app: Flask, fault_redis: redis.Redis, monkeypatch: pytest.MonkeyPatch) -> Flask:
    """The test app with GUDOK_REDIS_URL at db 12: webhooks queue their drains on RQ."""
    state = app.extensions["gudok"]
    monkeypatch.setattr(state, "settings",
                        dataclasses.replace(state.settings, redis_url=FAULT_REDIS_URL))
    monkeypatch.setitem(app.extensions, REDIS_KEY, None)
    monkeypatch.setitem(app.extensions, QUEUE_KEY, None)
    return app


def partner_connection(operator: ApiClient, name: str, **config: Any) -> tuple[int, str]:
    secret = new_secret()
    created = operator.post("/api/v1/connections", json={
        "connector": "partner", "name": name,
        "config": {"platform_name": name, "inbound_secret": secret, **config}})
    assert created.status_code == 201, created.get_json()
    return int(created.get_json()["id"]), secret


def inbox_statuses(app: Flask, connection_id: int) -> dict[str, int]:
    with session_scope(app.extensions["gudok"].session_factory) as session:
        return dict(session.execute(
            select(InboxEntry.status, func.count()).where(
                InboxEntry.connection_id == connection_id).group_by(InboxEntry.status)).all())


def leased_pending(app: Flask, connection_id: int) -> int:
    """Pending rows a claim still holds at this moment."""
    with session_scope(app.extensions["gudok"].session_factory) as session:
        return int(session.scalar(select(func.count()).select_from(InboxEntry).where(
            InboxEntry.connection_id == connection_id, InboxEntry.status == "pending",
            InboxEntry.locked_until > utcnow())) or 0)


def order_count(app: Flask, connection_id: int) -> int:
    with session_scope(app.extensions["gudok"].session_factory) as session:
        return int(session.scalar(select(func.count()).select_from(Order).where(
            Order.connection_id == connection_id)) or 0)


def wait_for(condition: Callable[[], bool], seconds: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, \
            f"not within {seconds} s: {what}\n{log.read_text(errors='replace')[-3000:]}"
        time.sleep(0.02)


class Poster:
    """Signed partner webhooks POSTed to the served hub, eight at a time."""

    def __init__(self, url: str, secret: str) -> None:
        self.url, self.secret = url, secret
        self.statuses: list[int] = []
        self._local = threading.local()

    def _post(self, delivery: Delivery) -> int:
        http = getattr(self._local, "http", None)
        if http is None:
            http = self._local.http = requests.Session()
            http.trust_env = False
        headers = headers_for(self.secret, delivery.webhook_id, delivery.body, time.time())
        return http.post(self.url, data=delivery.body, headers=headers, timeout=60).status_code

    def send(self, deliveries: list[Delivery]) -> None:
        with ThreadPoolExecutor(max_workers=8) as pool:
            self.statuses.extend(pool.map(self._post, deliveries))


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process and everything in its group (a worker and its RQ scheduler)."""
    with contextlib.suppress(ProcessLookupError):  # the whole group is gone already
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def add_rows(app: Flask, connection_id: int, deliveries: list[Delivery]) -> None:
    """The deliveries straight into a connection's inbox, as the webhook stores them."""
    with session_scope(app.extensions["gudok"].session_factory) as session:
        tenant_id = session.get_one(Connection, connection_id).tenant_id
        session.add_all(InboxEntry(tenant_id=tenant_id, connection_id=connection_id,
                                   delivery_key=d.webhook_id, event="order.placed", body=d.body,
                                   status="pending", attempts=0) for d in deliveries)


def drain(app: Flask, connection_id: int, **kwargs: Any) -> DrainReport:
    with app.app_context():
        return drain_inbox(connection_id, **kwargs)


def test_a_killed_worker_and_a_flushed_redis_lose_nothing(
        queued_app: Flask, fault_redis: redis.Redis, operator: ApiClient, database_url: str,
        tmp_path: Path) -> None:
    app = queued_app
    plan_code = create_catalog(operator)["plan"]["code"]
    connection_id, secret = partner_connection(operator, "다온")
    deliveries = order_deliveries(plan_code)
    assert len(deliveries) == 500
    env = worker_env(database_url, FAULT_REDIS_URL, TEST_KEY, tmp_path / "var")
    marker, log = tmp_path / "paused", tmp_path / "worker.log"
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.jobs.fault_support", "--pause-after",
         str(PAUSE_AFTER_ROWS), "--marker", str(marker), "--", "worker", "--sweep-every", "0"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log.open("wb"),
        start_new_session=True)  # its own process group: RQ forks a scheduler beside it
    try:
        with serving(app) as hub_url:
            poster = Poster(f"{hub_url}webhooks/{connection_id}", secret)
            # The worker drains the first hundred: orders exist before anything goes wrong.
            poster.send(deliveries[:100])
            wait_for(lambda: inbox_statuses(app, connection_id).get("done", 0) == 100, 30,
                     "the worker drains the first 100 deliveries", log)

            def the_rest() -> None:
                poster.send(deliveries[100:250])
                fault_redis.flushdb()  # every queued drain job is gone
                poster.send(deliveries[250:])

            sender = threading.Thread(target=the_rest)
            sender.start()
            try:
                wait_for(marker.exists, 30, "the worker stops in the middle of a drain", log)
                kill_group(worker)
            finally:
                sender.join(timeout=60)
            assert not sender.is_alive()
        assert worker.returncode == -signal.SIGKILL
        assert poster.statuses == [202] * 500  # every delivery accepted once
        # Killed mid-drain: its claimed batch was applied but never committed.
        claimed = leased_pending(app, connection_id)
        statuses = inbox_statuses(app, connection_id)
        assert claimed > 0 and 100 <= statuses.get("done", 0) < 500, (claimed, statuses)
        assert sum(statuses.values()) == 500
        assert order_count(app, connection_id) > 0

        # Recovery: the sweeper queues the drain again; a burst worker drains what is free;
        # once the dead worker's lease has passed, its rows are drained too.
        past_the_lease = utcnow() + CLAIM_LEASE + timedelta(minutes=1)
        assert sweep(app, now=past_the_lease)["drain"] == 1
        burst = subprocess.run([str(GUDOK), "worker", "--burst", "--sweep-every", "0"],
                               cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
                               check=False)
        assert burst.returncode == 0, burst.stderr
        # A live lease is respected: the dead worker's claim is still untouched. The burst
        # worker drains the free rows only when a drain job is waiting in the queue: one
        # waiting out a retry delay sits in RQ's schedule, which a burst worker does not wait
        # for. The drain below takes every row still pending, the dead worker's claim among
        # them.
        pending = inbox_statuses(app, connection_id).get("pending", 0)
        assert pending >= claimed, burst.stderr[-2000:]
        assert leased_pending(app, connection_id) == claimed
        report = drain(app, connection_id, now=past_the_lease)
        assert (report.failed, report.dead) == (0, 0), report
        assert report.applied + report.unchanged == pending, (report, pending)
    finally:
        kill_group(worker)
    assert inbox_statuses(app, connection_id) == {"done": 500}

    # The same 500 deliveries, drained without faults on a fresh connection.
    reference_id, _ = partner_connection(operator, "다온 (reference)")
    add_rows(app, reference_id, deliveries)
    report = drain(app, reference_id)
    assert (report.failed, report.dead, report.applied + report.unchanged) == (0, 0, 500)
    faulty, expected = order_tables(app, connection_id), order_tables(app, reference_id)
    statuses_made = [row[2] for row in expected["order"]]
    assert len(statuses_made) == len(expected["contract"]) == 300
    assert (statuses_made.count("cancelled"), statuses_made.count("refunded")) == (100, 50)
    for table in ("order", "order_line", "contract", "claim"):
        assert faulty[table] == expected[table], table


def at_once(runs: int, job: Callable[[], T]) -> list[T | BaseException]:
    """The job in `runs` threads released together; each one's result or exception."""
    start = threading.Barrier(runs)

    def run(_: int) -> T | BaseException:
        start.wait()
        try:
            return job()
        except Exception as error:  # noqa: BLE001 - the caller asserts on it
            return error

    with ThreadPoolExecutor(max_workers=runs) as pool:
        return list(pool.map(run, range(runs)))


def outbox(app: Flask, connection_id: int) -> list[tuple[str, int]]:
    """(event type, box id) of every notification queued for the connection."""
    with session_scope(app.extensions["gudok"].session_factory) as session:
        rows = session.scalars(select(OutboxMessage.payload).where(
            OutboxMessage.connection_id == connection_id).order_by(OutboxMessage.id)).all()
    return [(message["type"], message["data"]["box_id"])
            for message in map(json.loads, rows)]


def notified_at_once(notify: Callable[[], NotifyReport]) -> int:
    """Two notify runs at once, then the queue's retry of any that failed: how many
    notifications they queued between them.

    A run may fail with a unique-key violation where both runs create the stream's cursor
    row (jobs/partner.py reads it FOR UPDATE, then inserts it when missing): the database
    keeps the effect single, and the retry has nothing left to queue."""
    queued = 0
    for result in at_once(2, notify):
        if isinstance(result, IntegrityError):
            assert "unique" in str(result.orig).lower(), repr(result)
            retry = notify()
            assert retry.queued == 0
            continue
        assert isinstance(result, NotifyReport), repr(result)
        queued += result.queued
    return queued


def test_the_same_job_twice_at_once_has_one_effect(app: Flask, operator: ApiClient) -> None:
    world = create_catalog(operator)
    boxes = [world["box"], add_box(operator, "N-1", world["items"][0]["id"]),
             add_box(operator, "N-2", world["items"][1]["id"])]
    connection_id, _ = partner_connection(operator, "다온",
                                          outbound_url="http://127.0.0.1:9/notifications")
    assert offer(operator, connection_id, [box["id"] for box in boxes]).status_code == 200

    def notify() -> NotifyReport:
        with app.app_context():
            return notify_catalog_changes(connection_id)

    # Catalog notifications: each offered box announced once, then each changed box once.
    first = notified_at_once(notify)
    assert sorted(outbox(app, connection_id)) == sorted(
        ("box.updated", box["id"]) for box in boxes), first
    assert first == 3
    assert operator.put("/api/v1/stock-levels", json={
        "item_id": world["items"][1]["id"], "location_id": world["location"]["id"],
        "on_hand": 4}).status_code in (200, 201)
    second = notified_at_once(notify)
    assert sorted(outbox(app, connection_id)[3:]) == sorted(
        ("box.updated", box["id"]) for box in (boxes[0], boxes[2]))
    assert second == 2

    # Draining: two runs on the same pending rows apply each row once, between them.
    deliveries = order_deliveries(world["plan"]["code"], orders=120, cancelled=40,
                                  refunded=20, resent=20)
    add_rows(app, connection_id, deliveries)
    reports = at_once(2, lambda: drain(app, connection_id, batch=20))
    for result in reports:
        assert isinstance(result, DrainReport), repr(result)
    done = [r for r in reports if isinstance(r, DrainReport)]
    assert sum(r.applied + r.unchanged for r in done) == len(deliveries)
    assert sum(r.failed + r.dead for r in done) == 0
    assert inbox_statuses(app, connection_id) == {"done": len(deliveries)}
    # The same rows drained by one run alone, on another connection, come out the same.
    reference_id, _ = partner_connection(operator, "다온 (reference)")
    add_rows(app, reference_id, deliveries)
    assert drain(app, reference_id).failed == 0
    together, alone = order_tables(app, connection_id), order_tables(app, reference_id)
    assert len(alone["order"]) == 120 and len(alone["claim"]) >= 60
    assert together == alone
