"""No-op resync: a full resync of three connections when nothing changed since the last sync.

The catalog (merchants, items, stock, boxes with one version, two components and one plan
each) is written in bulk straight into the database, with every box offered to two sandbox
partner platforms (connectors/partner/sandbox.py) and listed there (a binding with its URL,
as a platform's listing report leaves it). The real first sync then runs once, the mall
first since the platforms' notices carry its links: jobs.push.push_changes(full=True) into
the sandbox Saleor mall (connectors/saleor/sandbox), which binds the boxes there, then
jobs.partner.notify_catalog_changes(full=True) and jobs.notifications.deliver_due for both
platforms side by side, in processes of their own. The timed run repeats exactly that, one
connection after the other as one worker would, with nothing changed: it should cost no
call to any platform. Every request reaching a sandbox is counted.

The baseline is one SELECT of every box row joined with its bindings on the three
connections, read to the end through the same engine: the least a resync must read.

Two shortcuts keep the set-up within minutes, and the output says so. The sandbox mall
executes Saleor's schema in memory and a first push costs it 7 GraphQL calls a box, so the
mall lists only --mall-boxes of the boxes (the others are drafts, which the mall does not
list; the platforms still have every one). And only --send-first notifications of each
platform's first sync are really sent; the rest are marked delivered in the outbox.

    .venv/bin/python bench/noop_resync.py [--boxes 10000] [--mall-boxes 200]
        [--send-first 200] [--postgres ADMIN_URL] [--redis redis://127.0.0.1:6379/14]

Without --postgres it runs on an SQLite file.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench_databases import postgres_database
from cryptography.fernet import Fernet
from flask import Flask
from redis import Redis
from sqlalchemy import Engine, insert, select, update

from connectors.partner.sandbox import PartnerSandbox
from connectors.partner.signing import new_secret
from connectors.saleor.sandbox import SaleorSandbox
from hub import create_app
from hub.db import session_scope, utcnow
from hub.demo_mall import serving
from hub.migrate import upgrade
from hub.models import (
    Binding,
    Box,
    BoxComponent,
    BoxVersion,
    Connection,
    Item,
    Merchant,
    Offering,
    OutboxMessage,
    Plan,
    StockLevel,
    StockLocation,
    Tenant,
)
from hub.services.business_number import check_digit
from hub.services.connections import apply_connection
from jobs.notifications import deliver_due
from jobs.partner import notify_catalog_changes
from jobs.push import push_changes

TARGET_CALLS, TARGET_SECONDS = 0, 5.0
MERCHANTS, ITEMS_PER_MERCHANT = 10, 5
CATEGORIES = ("produce", "processed", "crafts", "mixed")
PLATFORMS = (("오늘의꾸러미", "today"), ("로컬구독", "local"))
MALL = "한빛몰 (sandbox mall)"
DELIVERY_RUNS = 1000  # bound on deliver_due runs (each sends up to 100) in one resync
FIRST_SYNC_TIMEOUT = 900.0
MALL_BOXES = 200  # a first push costs the sandbox mall 7 GraphQL calls, ~0.2 s, a box
SEND_FIRST = 200


class RequestCounter:
    """Counts every request a sandbox's Flask app receives, whatever its path."""

    def __init__(self, app: Flask) -> None:
        self._lock = threading.Lock()
        self.count = 0
        app.before_request(self._seen)

    def _seen(self) -> None:
        with self._lock:
            self.count += 1


@dataclass
class Platform:
    name: str
    connection_id: int
    sandbox: PartnerSandbox


@dataclass
class Resync:
    """One resync of the three connections: calls the sandboxes received, and seconds."""

    calls: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    compared: dict[str, int] = field(default_factory=dict)


def _business_number(seed: int) -> str:
    first_nine = f"{(seed * 7919 + 1300000000) % 10**9:09d}"
    return first_nine + str(check_digit(first_nine))


def load_catalog(engine: Engine, tenant_id: int, boxes: int, mall_boxes: int) -> list[int]:
    """Bulk INSERTs of the catalog; the box ids in order. Boxes past `mall_boxes` are
    drafts. Written beside the ORM, so no catalog change rows: a resync compares anyway."""
    now = utcnow()
    stamp = {"tenant_id": tenant_id, "created_at": now, "updated_at": now, "version": 1}
    with engine.begin() as db:
        db.execute(insert(Merchant), [
            {**stamp, "name": f"벤치 상회 {m}", "business_number": _business_number(m),
             "tax_type": "exempt", "fee_model": "commission", "commission_rate_bp": 1000,
             "status": "active"} for m in range(MERCHANTS)])
        merchants = list(db.scalars(select(Merchant.id).where(Merchant.tenant_id == tenant_id)
                                    .order_by(Merchant.id)))
        db.execute(insert(Item), [
            {**stamp, "merchant_id": merchants[n % MERCHANTS], "sku": f"BENCH-{n:03d}",
             "name": f"품목 {n}", "unit": "1kg", "list_price": 5000 + 100 * n,
             "tax_category": "exempt", "kind": "physical", "status": "active"}
            for n in range(MERCHANTS * ITEMS_PER_MERCHANT)])
        items = list(db.scalars(select(Item.id).where(Item.tenant_id == tenant_id)
                                .order_by(Item.id)))
        db.execute(insert(StockLocation), [{**stamp, "code": "BENCH-LC", "name": "벤치 물류센터",
                                            "kind": "logistics_centre"}])
        location = db.scalar(select(StockLocation.id).where(
            StockLocation.tenant_id == tenant_id))
        db.execute(insert(StockLevel), [
            {"tenant_id": tenant_id, "version": 1, "item_id": item, "location_id": location,
             "on_hand": 1000 + n, "updated_at": now} for n, item in enumerate(items)])
        db.execute(insert(Box), [
            {**stamp, "code": f"BENCH-BOX-{n:05d}", "title": f"벤치 꾸러미 {n}",
             "description": "매주 제철 농산물을 담아 보내 드립니다.", "images": [],
             "category": CATEGORIES[n % len(CATEGORIES)], "capacity_per_round": 50,
             "status": "active" if n < mall_boxes else "draft"} for n in range(boxes)])
        box_ids = list(db.scalars(select(Box.id).where(Box.tenant_id == tenant_id)
                                  .order_by(Box.id)))
        db.execute(insert(BoxVersion), [{"box_id": box, "number": 1, "created_at": now}
                                        for box in box_ids])
        versions = dict(db.execute(select(BoxVersion.box_id, BoxVersion.id).join(
            Box, Box.id == BoxVersion.box_id).where(Box.tenant_id == tenant_id)).all())
        db.execute(update(Box).where(Box.tenant_id == tenant_id).values(
            current_version_id=select(BoxVersion.id).where(BoxVersion.box_id == Box.id)
            .scalar_subquery()))
        components = []
        for n, box in enumerate(box_ids):
            first = n % len(items)
            second = (first + 1 + n // len(items)) % len(items)
            second = second if second != first else (first + 1) % len(items)
            components += [
                {"box_version_id": versions[box], "item_id": items[first], "position": 0,
                 "quantity": 1, "weight": 1},
                {"box_version_id": versions[box], "item_id": items[second], "position": 1,
                 "quantity": 2, "weight": 3}]
        db.execute(insert(BoxComponent), components)
        db.execute(insert(Plan), [
            {**stamp, "box_id": box, "code": f"BENCH-PLAN-{n:05d}", "name": "월간 6회",
             "cadence": "monthly", "prepaid_rounds": 6, "term_rounds": 6,
             "round_price": 30000 + 1000 * (n % 10), "status": "active"}
            for n, box in enumerate(box_ids)])
    return box_ids


def offer_and_list(engine: Engine, tenant_id: int, platform: Platform, key: str,
                   box_ids: list[int]) -> None:
    """The platform is offered every box and has listed each (its listing links)."""
    now = utcnow()
    with engine.begin() as db:
        db.execute(insert(Offering), [
            {"tenant_id": tenant_id, "connection_id": platform.connection_id, "box_id": box}
            for box in box_ids])
        db.execute(insert(Binding), [
            {"tenant_id": tenant_id, "connection_id": platform.connection_id,
             "entity_type": "box", "internal_id": box, "external_id": f"{key}-{box}",
             "url": f"https://{key}.example.kr/products/{box}", "status": "active",
             "created_at": now, "updated_at": now, "version": 1} for box in box_ids])


def mall_connection(app: Flask, tenant_id: int, mall: SaleorSandbox) -> int:
    state = app.extensions["gudok"]
    with session_scope(state.session_factory) as session:
        row = apply_connection(session, state.secrets, tenant_id, {
            "connector": "saleor", "name": MALL, "status": "active",
            "config": {"api_url": mall.graphql_url, "app_token": None,
                       "storefront_url_template": mall.url + "/products/{slug}"}})
        session.flush()
        return row.id


def platform_connection(app: Flask, tenant_id: int, name: str) -> tuple[int, str, str]:
    """A partner connection with fresh secrets, not yet pointed at its sandbox."""
    state = app.extensions["gudok"]
    inbound, outbound = new_secret(), new_secret()
    with session_scope(state.session_factory) as session:
        row = apply_connection(session, state.secrets, tenant_id, {
            "connector": "partner", "name": f"{name} (sandbox platform)", "status": "active",
            "config": {"platform_name": name, "inbound_secret": inbound,
                       "outbound_secret": outbound, "outbound_url": None}})
        session.flush()
        return row.id, inbound, outbound


def point_at(app: Flask, connection_id: int, url: str) -> None:
    state = app.extensions["gudok"]
    with session_scope(state.session_factory) as session:
        row = session.get_one(Connection, connection_id)
        apply_connection(session, state.secrets, row.tenant_id, {
            "config": {**row.config, "outbound_url": url}}, row)


def resync(app: Flask, mall_id: int, mall_calls: RequestCounter,
           platforms: list[Platform]) -> Resync:
    """One full resync of the mall and both platforms, one after the other, as one worker
    of the sync engine runs them."""
    result = Resync()
    with app.app_context():
        before, started = mall_calls.count, time.perf_counter()
        pushed = push_changes(mall_id, full=True)
        result.seconds["mall"] = time.perf_counter() - started
        result.calls["mall"] = mall_calls.count - before
        result.compared["mall"] = pushed.calls + len(pushed.unchanged)
        for platform in platforms:
            before, started = len(platform.sandbox.notification_attempts), time.perf_counter()
            notified = notify_catalog_changes(platform.connection_id, full=True)
            for _ in range(DELIVERY_RUNS):
                if not deliver_due(platform.connection_id).delivered:
                    break
            result.seconds[platform.name] = time.perf_counter() - started
            result.calls[platform.name] = len(platform.sandbox.notification_attempts) - before
            result.compared[platform.name] = notified.queued + notified.unchanged
    return result


def first_sync_job(config: dict[str, Any], connection_id: int, send: int | None) -> int:
    """One connection's real first sync, in a process of its own (so the two platforms run
    side by side): the mall's push (send None), or a platform's notifications with the
    first `send` of them delivered. The number pushed or queued."""
    app = create_app(config)
    try:
        with app.app_context():
            if send is None:
                return push_changes(connection_id, full=True).calls
            queued = notify_catalog_changes(connection_id, full=True).queued
            sent = 0
            while sent < send:
                delivered = deliver_due(connection_id, limit=min(100, send - sent)).delivered
                if not delivered:
                    break
                sent += delivered
            return queued
    finally:
        app.extensions["gudok"].engine.dispose()


def first_sync(config: dict[str, Any], mall_id: int, platforms: list[Platform],
               send: int) -> tuple[dict[str, int], dict[str, float]]:
    """The first sync: the mall's push, then both platforms side by side (their notices
    carry the mall's links, so they follow it). What each pushed or queued, and seconds."""
    context = multiprocessing.get_context("spawn")
    done: dict[str, int] = {}
    seconds: dict[str, float] = {}
    with ProcessPoolExecutor(max_workers=len(platforms), mp_context=context) as pool:
        started = time.perf_counter()
        done["mall"] = pool.submit(first_sync_job, config, mall_id, None).result(
            timeout=FIRST_SYNC_TIMEOUT)
        seconds["mall"] = time.perf_counter() - started
        started = time.perf_counter()
        futures = {p.name: pool.submit(first_sync_job, config, p.connection_id, send)
                   for p in platforms}
        for name, future in futures.items():
            done[name] = future.result(timeout=FIRST_SYNC_TIMEOUT)
        seconds["platforms"] = time.perf_counter() - started
    return done, seconds


def mark_delivered(engine: Engine) -> int:
    """Notifications of the first sync not sent, recorded as delivered; how many."""
    with engine.begin() as db:
        return db.execute(update(OutboxMessage).where(OutboxMessage.status == "pending")
                          .values(status="delivered", delivered_at=utcnow())).rowcount


def analyze(engine: Engine) -> None:
    """Fresh statistics after a bulk write, as autovacuum would soon gather them."""
    with engine.begin() as db:
        db.exec_driver_sql("ANALYZE")


def baseline(engine: Engine, tenant_id: int, repeat: int = 5) -> float:
    """Median seconds of one SELECT of every box with its bindings, fetched whole."""
    query = (select(Box, Binding.connection_id, Binding.external_id, Binding.url)
             .join(Binding, (Binding.internal_id == Box.id) & (Binding.entity_type == "box"))
             .where(Box.tenant_id == tenant_id))
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        with engine.connect() as db:
            db.execute(query).all()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def run(backend: str, database_url: str, options: argparse.Namespace, work: Path) -> None:
    mall_boxes = min(options.mall_boxes, options.boxes)
    work.mkdir()
    config: dict[str, Any] = {
        "environment": "test", "database_url": database_url,
        "secret_keys": [Fernet.generate_key().decode()], "log_level": "WARNING",
        "var_dir": str(work), "redis_url": options.redis,
        "outbound_allow_hosts": ["127.0.0.1", "::1", "localhost"],
        "http_rate_limit_per_second": 100000.0, "http_rate_limit_burst": 100000}
    app = create_app(config)
    state = app.extensions["gudok"]
    engine: Engine = state.engine
    upgrade(engine)
    with session_scope(state.session_factory) as session:
        tenant = Tenant(code="bench", name="벤치군", time_zone="Asia/Seoul",
                        settlement_cycle="monthly")
        session.add(tenant)
        session.flush()
        tenant_id = tenant.id
    setup = Setup(mall_boxes=mall_boxes)
    started = time.perf_counter()
    box_ids = load_catalog(engine, tenant_id, options.boxes, mall_boxes)
    setup.boxes, setup.loaded = len(box_ids), time.perf_counter() - started
    with ExitStack() as stack:
        mall = SaleorSandbox()
        mall_calls = RequestCounter(mall.wsgi)
        stack.enter_context(mall)
        hub_url = stack.enter_context(serving(app))
        mall_id = mall_connection(app, tenant_id, mall)
        mall.install_app(f"{hub_url}saleor/{mall_id}/manifest")
        platforms = []
        for name, key in PLATFORMS:
            connection_id, inbound, outbound = platform_connection(app, tenant_id, name)
            sandbox = stack.enter_context(PartnerSandbox(
                name, hub_url=hub_url, connection_id=connection_id, api_token="unused",
                inbound_secret=inbound, outbound_secret=outbound))
            point_at(app, connection_id, sandbox.notifications_url)
            platform = Platform(name, connection_id, sandbox)
            offer_and_list(engine, tenant_id, platform, key, box_ids)
            platforms.append(platform)
        analyze(engine)
        before = mall_calls.count
        setup.first, setup.first_seconds = first_sync(config, mall_id, platforms,
                                                      options.send_first)
        mall.drain()  # the mall's product webhooks from the first push land before timing
        setup.mall_calls = mall_calls.count - before
        setup.sent = {p.name: len(p.sandbox.notification_attempts) for p in platforms}
        setup.marked = mark_delivered(engine)
        analyze(engine)
        noop = resync(app, mall_id, mall_calls, platforms)
        select_all = baseline(engine, tenant_id)
    engine.dispose()
    report(backend, setup, noop, select_all)


@dataclass
class Setup:
    """How the "already synced" state was reached, for the output."""

    boxes: int = 0
    mall_boxes: int = 0
    loaded: float = 0.0
    first: dict[str, int] = field(default_factory=dict)  # pushed or queued per connection
    first_seconds: dict[str, float] = field(default_factory=dict)
    mall_calls: int = 0
    sent: dict[str, int] = field(default_factory=dict)
    marked: int = 0


def report(backend: str, setup: Setup, noop: Resync, select_all: float) -> None:
    calls, wall = sum(noop.calls.values()), sum(noop.seconds.values())
    print(f"  {backend}")
    print(f"    set-up: {setup.boxes} boxes written in bulk in {setup.loaded:.1f} s; real first "
          f"sync: mall {setup.first['mall']} boxes pushed with {setup.mall_calls} calls in "
          f"{setup.first_seconds['mall']:.0f} s, then the platforms side by side in "
          f"{setup.first_seconds['platforms']:.0f} s: "
          + ", ".join(f"{name} {setup.first[name]} notifications queued, {sent} sent"
                      for name, sent in setup.sent.items()))
    if setup.marked:
        print(f"    NOTE: the other {setup.marked} notifications of the first sync were marked "
              "delivered without being sent (sending them all takes minutes)")
    if setup.mall_boxes < setup.boxes:
        print(f"    NOTE: the mall lists {setup.mall_boxes} boxes (the other "
              f"{setup.boxes - setup.mall_boxes} are drafts, which the mall does not list); "
              f"the platforms each have all {setup.boxes}")
    print(f"    boxes {setup.boxes}, connections {len(noop.calls)} (compared: "
          + ", ".join(f"{name} {count}" for name, count in noop.compared.items()) + ")")
    print("    no-op resync: " + ", ".join(
        f"{name} {noop.calls[name]} calls in {noop.seconds[name]:.2f} s "
        f"({1000 * noop.seconds[name] / max(1, noop.compared[name]):.1f} ms a box)"
        for name in noop.calls))
    print(f"    calls made {calls}  (target {TARGET_CALLS})")
    print(f"    wall time {wall:.2f} s  (target < {TARGET_SECONDS:.0f} s)")
    if setup.mall_boxes < setup.boxes:
        every = sum(noop.seconds[name] / max(1, noop.compared[name]) * setup.boxes
                    for name in noop.seconds)
        print(f"    (estimate with all {setup.boxes} boxes on the mall too, at the cost a box "
              f"measured on each connection: ~{every:.0f} s)")
    print(f"    ratio {wall / select_all:,.0f}x the baseline: one SELECT of every box with its "
          f"bindings, {1000 * select_all:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boxes", type=int, default=10000)
    parser.add_argument("--mall-boxes", type=int, default=MALL_BOXES,
                        help="boxes listed on the mall; the others are drafts")
    parser.add_argument("--send-first", type=int, default=SEND_FIRST,
                        help="notifications each platform is really sent in the first sync; "
                             "the rest are marked delivered")
    parser.add_argument("--postgres", metavar="ADMIN_URL",
                        help="run on a throwaway database made through this server (else on "
                             "an SQLite file), e.g. "
                             "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14",
                        help="the hub's GUDOK_REDIS_URL; this database is flushed at the end")
    options = parser.parse_args()
    print(f"no-op resync: {options.boxes} boxes on two sandbox platforms, "
          f"{min(options.mall_boxes, options.boxes)} of them on the sandbox mall")
    redis = Redis.from_url(options.redis, socket_connect_timeout=2)
    try:
        with tempfile.TemporaryDirectory(prefix="gudok-resync-") as scratch:
            if options.postgres:
                with postgres_database(options.postgres) as url:
                    run("postgresql", url, options, Path(scratch) / "postgresql")
            else:
                work = Path(scratch) / "sqlite"
                run("sqlite", f"sqlite:///{Path(scratch) / 'bench.db'}", options, work)
    finally:
        redis.flushdb()
        redis.close()


if __name__ == "__main__":
    main()
