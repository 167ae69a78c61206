"""Drain throughput: partner order events applied by one worker, as a ratio against the rate
of one RQ no-op job per event, measured in the same run.

The demo municipality (config/demo/) is loaded, and a partner connection is offered every
active box and lists each (a box binding with the platform's listing id). --events distinct
`order.placed` events, each of one to three lines naming a listing and a plan of a real
box, are written straight into the inbox in bulk, as verified deliveries would be (intake is
bench/webhook_ingest.py's subject). Then one worker applies them: by default one `drain` job
enqueued through hub.queue and run by an RQ SimpleWorker in burst mode in this process, the
way `gudok worker` runs it (jobs.runner.run_job in the app context); with --direct,
jobs.inbox.drain_inbox is called in a loop instead. Timed from the worker's start until no
row is pending; every row must end done, one order per event.

The baseline is what one job per event would cost at best: --noop-jobs no-op jobs enqueued
with unique ids (enqueueing not timed) and run by one SimpleWorker in burst mode, jobs per
second. It is measured before and after each drain, and the faster of the two is used.

    .venv/bin/python bench/drain_throughput.py [--events 20000] [--noop-jobs 2000]
        [--postgres ADMIN_URL] [--no-sqlite] [--direct] [--redis redis://127.0.0.1:6379/13]
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench_databases import postgres_database
from cryptography.fernet import Fernet
from drain_support import noop
from flask import Flask
from redis import Redis
from rq import Queue, SimpleWorker
from sqlalchemy import Engine, func, insert, select

from connectors.partner.signing import new_secret
from hub import create_app
from hub.db import session_scope, utcnow
from hub.migrate import upgrade
from hub.models import Binding, Box, Contract, InboxEntry, Offering, Order, OrderLine, Plan
from hub.queue import enqueue
from hub.services.connections import apply_connection
from hub.services.demo import load_demo
from jobs.inbox import drain_inbox
from jobs.registry import job_spec
from jobs.runner import use_app

TARGET_RATIO = 10.0
INSERT_CHUNK = 2000
SEOUL = timedelta(hours=9)
PLACED_FROM = datetime(2026, 11, 1, 0, 0, tzinfo=UTC)
WORKER_PASSES = 10  # drain jobs enqueued at most, should one pass leave rows (it should not)


@dataclass(frozen=True)
class Listing:
    """A plan of a box as the platform sells it: its listing id and plan code."""

    listing_id: str
    plan_code: str
    round_price: int


@dataclass
class Drained:
    events: int
    seconds: float
    orders: int
    lines: int
    contracts: int
    done: int
    jobs: int  # drain jobs run (worker mode) or drain_inbox calls (direct)


def prepare(app: Flask) -> tuple[int, int, list[Listing]]:
    """Migrate, load the demo, and make a partner connection offered and listing every
    active box; (the tenant, the connection, the plans it can sell)."""
    state = app.extensions["gudok"]
    upgrade(state.engine)
    with session_scope(state.session_factory) as session:
        summary = load_demo(session, state.secrets)
        assert summary.counts["boxes"], "the demo loaded no boxes"
        box = session.scalars(select(Box).where(Box.status == "active")).first()
        assert box is not None
        tenant_id = box.tenant_id
        connection = apply_connection(session, state.secrets, tenant_id, {
            "connector": "partner", "name": "벤치 플랫폼", "status": "active",
            "config": {"platform_name": "벤치", "inbound_secret": new_secret()}})
        session.flush()
        connection_id = connection.id
        listings = []
        for box in session.scalars(select(Box).where(Box.tenant_id == tenant_id,
                                                     Box.status == "active").order_by(Box.id)):
            listing_id = f"BENCH-L-{box.id}"
            session.add(Offering(tenant_id=tenant_id, connection_id=connection_id,
                                 box_id=box.id))
            session.add(Binding(tenant_id=tenant_id, connection_id=connection_id,
                                entity_type="box", internal_id=box.id, external_id=listing_id,
                                url=f"https://bench.example.kr/p/{listing_id}",
                                status="active"))
            for plan in session.scalars(select(Plan).where(Plan.box_id == box.id,
                                                           Plan.status == "active")):
                listings.append(Listing(listing_id, plan.code, plan.round_price))
    assert listings, "no active box has an active plan"
    return tenant_id, connection_id, listings


def order_body(number: int, listings: list[Listing], rng: random.Random) -> bytes:
    """One platform order.placed envelope, as connectors/partner/sandbox_orders.py sends."""
    placed = PLACED_FROM + timedelta(seconds=number)
    stamp = (placed + SEOUL).replace(tzinfo=None).isoformat() + "+09:00"
    lines = []
    for index, listing in enumerate(rng.sample(listings, 1 + number % 3), start=1):
        quantity = 1 + (number + index) % 2
        lines.append({"line_id": str(index), "listing_id": listing.listing_id,
                      "plan_code": listing.plan_code, "quantity": quantity,
                      "unit_price": listing.round_price})
    data = {"order_id": f"BENCH-{number:06d}", "order_number": str(number), "status": "paid",
            "placed_at": stamp, "currency": "KRW",
            "total": sum(line["quantity"] * line["unit_price"] for line in lines),
            "refunded": 0, "customer_ref": f"c-{number % 5000}", "lines": lines}
    return json.dumps({"type": "order.placed", "timestamp": stamp, "data": data},
                      ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def fill_inbox(engine: Engine, tenant_id: int, connection_id: int, listings: list[Listing],
               events: int) -> None:
    """The events as pending inbox rows, written in bulk; fresh planner statistics after."""
    rng = random.Random(20261129)
    received = utcnow()
    with engine.begin() as db:
        for start in range(0, events, INSERT_CHUNK):
            db.execute(insert(InboxEntry), [
                {"tenant_id": tenant_id, "connection_id": connection_id,
                 "delivery_key": f"msg_bench_{number:06d}", "event": "order.placed",
                 "body": order_body(number, listings, rng), "received_at": received,
                 "status": "pending", "attempts": 0}
                for number in range(start, min(events, start + INSERT_CHUNK))])
    with engine.begin() as db:
        db.exec_driver_sql("ANALYZE")


def noop_rate(redis: Redis, jobs: int) -> float:
    """Jobs per second of one SimpleWorker in burst mode running `jobs` no-op jobs."""
    queue = Queue(f"bench-noop-{uuid.uuid4().hex[:6]}", connection=redis)
    for number in range(jobs):
        queue.enqueue(noop, job_id=f"noop-{number}", unique=True, result_ttl=0,
                      description="no-op")
    worker = SimpleWorker([queue], connection=redis)
    started = time.perf_counter()
    worker.work(burst=True, logging_level="WARNING")
    seconds = time.perf_counter() - started
    assert queue.count == 0, f"{queue.count} no-op jobs left"
    queue.delete(delete_jobs=True)
    return jobs / seconds


def pending(engine: Engine, connection_id: int) -> int:
    with engine.connect() as db:
        return int(db.scalar(select(func.count()).select_from(InboxEntry).where(
            InboxEntry.connection_id == connection_id, InboxEntry.status == "pending")) or 0)


def drain(app: Flask, redis: Redis, connection_id: int, direct: bool) -> tuple[float, int]:
    """Seconds until the connection's inbox has nothing pending, and jobs (or calls) run."""
    engine = app.extensions["gudok"].engine
    runs = 0
    started = time.perf_counter()
    if direct:
        with app.app_context():
            while True:
                runs += 1
                report = drain_inbox(connection_id)
                if not (report.applied or report.unchanged or report.failed):
                    break
        return time.perf_counter() - started, runs
    use_app(app)
    queue = Queue(job_spec("drain").queue, connection=redis)
    while runs < WORKER_PASSES:
        assert enqueue(app, "drain", connection_id), "the drain job was not queued"
        SimpleWorker([queue], connection=redis).work(burst=True, logging_level="WARNING")
        runs += 1
        if not pending(engine, connection_id):
            break
    return time.perf_counter() - started, runs


def count(engine: Engine, model: Any, *where: Any) -> int:
    with engine.connect() as db:
        return int(db.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def run(backend: str, database_url: str, options: argparse.Namespace, redis: Redis) -> None:
    work = Path(tempfile.mkdtemp(prefix="gudok-drain-"))
    app = create_app({"environment": "test", "database_url": database_url,
                      "secret_keys": [Fernet.generate_key().decode()], "log_level": "WARNING",
                      "var_dir": str(work), "redis_url": options.redis})
    engine: Engine = app.extensions["gudok"].engine
    try:
        tenant_id, connection_id, listings = prepare(app)
        started = time.perf_counter()
        fill_inbox(engine, tenant_id, connection_id, listings, options.events)
        filled = time.perf_counter() - started
        before = noop_rate(redis, options.noop_jobs)
        seconds, runs = drain(app, redis, connection_id, options.direct)
        after = noop_rate(redis, options.noop_jobs)
        drained = Drained(
            events=options.events, seconds=seconds, jobs=runs,
            orders=count(engine, Order, Order.connection_id == connection_id),
            lines=count(engine, OrderLine), contracts=count(engine, Contract),
            done=count(engine, InboxEntry, InboxEntry.connection_id == connection_id,
                       InboxEntry.status == "done"))
    finally:
        use_app(None)
        engine.dispose()
    report(backend, drained, before, after, filled, len(listings), options.direct)


def report(backend: str, drained: Drained, before: float, after: float, filled: float,
           plans: int, direct: bool) -> None:
    rate = drained.events / drained.seconds
    baseline = max(before, after)
    runs = f"{drained.jobs} drain_inbox call(s)" if direct else f"{drained.jobs} drain job(s)"
    print(f"  {backend}")
    print(f"    set-up: {drained.events} events over {plans} plans written to the inbox in "
          f"{filled:.1f} s")
    print(f"    drain   {rate:8.0f} events/s  ({drained.events} in {drained.seconds:.1f} s, "
          f"{runs}; {drained.orders} orders, {drained.lines} lines, {drained.contracts} "
          f"contracts; {drained.done} rows done)")
    print(f"    no-op   {baseline:8.0f} jobs/s    (before {before:.0f}, after {after:.0f}; "
          "the faster is the baseline)")
    print(f"    ratio {rate / baseline:6.2f}x  (target >= {TARGET_RATIO:.0f}x)")
    if drained.orders != drained.events or drained.done != drained.events:
        print(f"    NOTE: {drained.events - drained.done} rows not done, "
              f"{drained.events - drained.orders} events without an order")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--noop-jobs", type=int, default=2000,
                        help="no-op jobs the baseline runs, before and after each drain")
    parser.add_argument("--direct", action="store_true",
                        help="call jobs.inbox.drain_inbox in a loop instead of running drain "
                             "jobs on an RQ SimpleWorker")
    parser.add_argument("--postgres", metavar="ADMIN_URL",
                        help="also run on a throwaway database made through this server, "
                             "e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--no-sqlite", action="store_true", help="skip the SQLite run")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13",
                        help="Redis database for the queues; flushed before and after")
    options = parser.parse_args()
    logging.getLogger("rq").setLevel(logging.WARNING)
    how = ("jobs.inbox.drain_inbox called in a loop in this process" if options.direct else
           "one drain job on an RQ SimpleWorker in burst mode, in this process")
    print(f"drain throughput: {options.events} partner order.placed events (1-3 lines each), "
          f"applied by {how}; baseline: {options.noop_jobs} no-op RQ jobs on one SimpleWorker "
          "in burst mode")
    redis = Redis.from_url(options.redis, socket_connect_timeout=2)
    redis.flushdb()
    try:
        if not options.no_sqlite:
            folder = Path(tempfile.mkdtemp(prefix="gudok-drain-sqlite-"))
            run("sqlite", f"sqlite:///{folder / 'bench.db'}", options, redis)
        if options.postgres:
            with postgres_database(options.postgres) as url:
                run("postgresql", url, options, redis)
    finally:
        redis.flushdb()
        redis.close()


if __name__ == "__main__":
    main()
