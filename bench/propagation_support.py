"""The set-up bench/propagation.py measures on: the demo municipality on PostgreSQL, the hub
served by gunicorn on loopback, the sandbox mall and the demo's two sandbox platforms, each
brought in sync once in this process, and `gudok worker` processes on Redis."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from redis import Redis
from rq import Queue, Worker
from rq.registry import StartedJobRegistry
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connectors.partner.sandbox import PartnerSandbox
from connectors.saleor.sandbox import SaleorSandbox
from hub.db import session_scope
from hub.demo_partners import platforms
from hub.models import (
    Binding,
    Box,
    BoxComponent,
    Connection,
    Merchant,
    Offering,
    StockLocation,
    Tenant,
)
from hub.queue import QUEUES
from hub.services.availability import box_availability, free_stock
from hub.services.connections import apply_connection
from hub.services.contracts import held_quantities
from hub.services.demo import load_demo
from hub.services.stock import set_stock
from hub.services.tokens import create_token
from jobs.notifications import deliver_due
from jobs.partner import notify_catalog_changes
from jobs.push import push_changes

TENANT = "hanbit"
MALL = "한빛몰 (sandbox mall)"
ACTOR = "bench:propagation"
SYNC_ROUNDS = 10   # in-process sync passes at most before the workers start
WORKER_START = 60.0   # seconds for a worker to register, or gunicorn to answer
QUIET_TIMEOUT = 30.0
ROOM = 100         # boxes' worth of stock the other components keep beyond the targets

# What a worker is run with, as hub/cli.py's main() sets up the demo: loopback sandboxes
# allowed and rate limits that never throttle them.
WORKER_SETTINGS = {"GUDOK_ENVIRONMENT": "demo",
                   "GUDOK_OUTBOUND_ALLOW_HOSTS": "127.0.0.1,::1,localhost",
                   "GUDOK_HTTP_RATE_LIMIT_PER_SECOND": "500",
                   "GUDOK_HTTP_RATE_LIMIT_BURST": "500", "GUDOK_LOG_LEVEL": "WARNING"}
MALL_STOCK = """
query BenchStock($id: ID!) {
  product(id: $id) { variants { stocks { quantity quantityAllocated } } }
}
"""


@dataclass
class Platform:
    name: str
    connection_id: int
    sandbox: PartnerSandbox


@dataclass
class Bench:
    """Everything a trial touches."""

    app: Flask
    hub_url: str
    token: str
    mall: SaleorSandbox
    mall_id: int
    mall_product: str
    platforms: list[Platform]
    box_id: int
    box_code: str
    plan_code: str
    item_id: int         # the component whose stock decides the box's availability
    item_quantity: int   # of it per box
    item_boxes: int      # boxes whose current version has the item (each changes with it)
    location_id: int     # where its stock is; every other location holds none of it
    merchant_id: int     # for the baseline GET

    def session(self) -> Any:
        return session_scope(self.app.extensions["gudok"].session_factory)

    def availability(self) -> int:
        with self.session() as session:
            return box_availability(session, session.get_one(Box, self.box_id))

    def held(self) -> int:
        """Units of the item held by open contracts."""
        with self.session() as session:
            tenant_id = session.get_one(Box, self.box_id).tenant_id
            return held_quantities(session, tenant_id, [self.item_id]).get(self.item_id, 0)

    def mall_view(self) -> int | None:
        """What a shopper can buy in the mall: its least variant stock less allocations."""
        answer = self.mall.execute(MALL_STOCK, {"id": self.mall_product}, superuser=True)
        product = (answer.get("data") or {}).get("product") or {}
        quantities = [s["quantity"] - s["quantityAllocated"]
                      for v in product.get("variants", []) for s in v["stocks"]]
        return min(quantities) if quantities else None


@contextmanager
def channels(app: Flask, hub_url: str, available: int) -> Iterator[Bench]:
    """Load the demo and bring the mall and both platforms in sync with the hub served at
    `hub_url`, the chosen box's availability at `available`."""
    state = app.extensions["gudok"]
    with session_scope(state.session_factory) as session:
        load_demo(session, state.secrets)
        tenant = session.scalar(select(Tenant).where(Tenant.code == TENANT))
        assert tenant is not None
        tenant_id = tenant.id
        merchant_id = int(session.scalar(select(Merchant.id).where(
            Merchant.tenant_id == tenant_id).order_by(Merchant.id).limit(1)) or 0)
        _row, token = create_token(session, "operator", TENANT, "bench propagation")
    with ExitStack() as stack:
        mall = stack.enter_context(SaleorSandbox())
        mall_id = _mall_connection(app, tenant_id, mall)
        mall.install_app(f"{hub_url}saleor/{mall_id}/manifest")
        running = stack.enter_context(platforms(app, TENANT, hub_url))
        joined = [Platform(demo.name, demo.connection_id, sandbox)
                  for demo, sandbox in running]
        box_id, item = _bottleneck(app, tenant_id, available, [p.connection_id for p in joined])
        _sync(app, mall, mall_id, joined, listing=True)
        for platform in joined:
            platform.sandbox.read_feed()
            platform.sandbox.report_links()
        _sync(app, mall, mall_id, joined, listing=False)
        with session_scope(state.session_factory) as session:
            box = session.get_one(Box, box_id)
            product = session.scalar(select(Binding.external_id).where(
                Binding.connection_id == mall_id, Binding.entity_type == "box",
                Binding.internal_id == box_id))
            assert product is not None, "the mall did not list the box"
            box_code = box.code
        entry = joined[0].sandbox.boxes[box_code]
        yield Bench(app, hub_url, token, mall, mall_id, product, joined, box_id, box_code,
                    entry["plans"][0]["code"], merchant_id=merchant_id, **item)


def _mall_connection(app: Flask, tenant_id: int, mall: SaleorSandbox) -> int:
    state = app.extensions["gudok"]
    with session_scope(state.session_factory) as session:
        row = apply_connection(session, state.secrets, tenant_id, {
            "connector": "saleor", "name": MALL, "status": "active",
            "config": {"api_url": mall.graphql_url, "app_token": None,
                       "storefront_url_template": mall.url + "/products/{slug}"}})
        session.flush()
        return row.id


def _bottleneck(app: Flask, tenant_id: int, available: int,
                platform_ids: list[int]) -> tuple[int, dict[str, int]]:
    """The first active box every channel carries; of its components, the item in the fewest
    boxes gets all its stock at one location, enough for `available` boxes; the others
    keep room for ROOM boxes more."""
    with session_scope(app.extensions["gudok"].session_factory) as session:
        offered = [set(session.scalars(select(Offering.box_id).where(
            Offering.connection_id == connection_id))) for connection_id in platform_ids]
        box = next(b for b in session.scalars(select(Box).where(
            Box.tenant_id == tenant_id, Box.status == "active").order_by(Box.id))
            if all(b.id in ids for ids in offered) and b.current_version is not None)
        assert box.capacity_per_round > available, "the box's capacity would decide instead"
        components = box.current_version.components
        in_boxes = _boxes_per_item(session, [c.item_id for c in components])
        chosen = min(components, key=lambda c: (in_boxes[c.item_id], c.item_id))
        locations = list(session.scalars(select(StockLocation.id).where(
            StockLocation.tenant_id == tenant_id).order_by(StockLocation.id)))
        for location_id in locations:
            set_stock(session, tenant_id, chosen.item_id, location_id,
                      available * chosen.quantity if location_id == locations[0] else 0,
                      "bench set-up", ACTOR)
        stock = free_stock(session, [c.item_id for c in components])
        for component in components:
            need = (available + ROOM) * component.quantity
            if component is not chosen and stock.get(component.item_id, 0) < need:
                set_stock(session, tenant_id, component.item_id, locations[0], need,
                          "bench set-up", ACTOR)
        session.flush()
        assert box_availability(session, box) == available
        return box.id, {"item_id": chosen.item_id, "item_quantity": chosen.quantity,
                        "item_boxes": in_boxes[chosen.item_id], "location_id": locations[0]}


def _boxes_per_item(session: Session, item_ids: list[int]) -> dict[int, int]:
    rows = session.execute(
        select(BoxComponent.item_id, func.count(func.distinct(Box.id)))
        .join(Box, Box.current_version_id == BoxComponent.box_version_id)
        .where(BoxComponent.item_id.in_(item_ids)).group_by(BoxComponent.item_id))
    return {int(item_id): int(count) for item_id, count in rows}


def _sync(app: Flask, mall: SaleorSandbox, mall_id: int, joined: list[Platform], *,
          listing: bool) -> None:
    """The sync engine's jobs run here until nothing changes: the mall's push, then each
    platform's notifications and their delivery."""
    with app.app_context():
        for _ in range(SYNC_ROUNDS):
            pushed = push_changes(mall_id)
            mall.drain()
            queued = 0
            for platform in joined:
                queued += notify_catalog_changes(platform.connection_id).queued
                while deliver_due(platform.connection_id).delivered:
                    pass
            if not pushed.calls and not queued and not listing:
                return
            listing = False


def free_port() -> int:
    """A port free now on loopback (gunicorn cannot bind port 0 and say which it got)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def gunicorn(env: dict[str, str], server_workers: int, log_dir: Path) -> Iterator[str]:
    """The hub as `gudok serve` runs it (gunicorn sync workers, settings from the
    environment) on a loopback port until the block ends; its base URL."""
    port = free_port()
    log = log_dir / "gunicorn.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers",
         str(server_workers), "--log-level", "warning", "--error-logfile", str(log),
         "hub:create_app()"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + WORKER_START
        while not _answers(port):
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {process.returncode}:\n"
                                   + log.read_text(errors="replace")[-2000:])
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn not ready within {WORKER_START:.0f} s")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/"
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _answers(port: int) -> bool:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        connection.request("GET", "/healthz")
        ok = connection.getresponse().status == 200
        connection.close()
        return ok
    except OSError:
        return False


def worker_env(database_url: str, redis_url: str, key: str, var_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUDOK_")}
    env.update(WORKER_SETTINGS, GUDOK_DATABASE_URL=database_url, GUDOK_REDIS_URL=redis_url,
               GUDOK_SECRET_KEYS=key, GUDOK_VAR_DIR=str(var_dir))
    return env


def gudok_command() -> list[str]:
    script = Path(sys.executable).with_name("gudok")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "from hub.cli import main; main()"]


@contextmanager
def workers(count: int, env: dict[str, str], sweep_every: float, redis: Redis,
            log_dir: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    """`count` `gudok worker` processes, registered with RQ, until the block ends."""
    started = []
    logs = [log_dir / f"worker-{n}.log" for n in range(count)]
    try:
        for log in logs:
            with log.open("wb") as out:
                started.append(subprocess.Popen(
                    [*gudok_command(), "worker", "--sweep-every", str(sweep_every)], env=env,
                    stdout=out, stderr=subprocess.STDOUT))
        deadline = time.monotonic() + WORKER_START
        while len(Worker.all(connection=redis)) < count:
            for process, log in zip(started, logs, strict=True):
                if process.poll() is not None:
                    raise RuntimeError(f"gudok worker exited with {process.returncode}:\n"
                                       + log.read_text(errors="replace")[-2000:])
            if time.monotonic() > deadline:
                raise RuntimeError(f"{count} workers not registered within {WORKER_START:.0f} s")
            time.sleep(0.1)
        yield started
    finally:
        for process in started:
            process.terminate()  # RQ's warm shutdown: the job running finishes
        for process in started:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def quiet(redis: Redis, timeout: float = QUIET_TIMEOUT) -> str | None:
    """Wait until no job is queued or running; None then, else what was still busy when
    `timeout` passed."""
    deadline = time.monotonic() + timeout
    queues = [Queue(name, connection=redis) for name in QUEUES]
    while True:
        busy = {q.name: q.get_job_ids() + StartedJobRegistry(queue=q).get_job_ids(cleanup=False)
                for q in queues}
        if not any(busy.values()):
            return None
        if time.monotonic() > deadline:
            return "; ".join(f"{name}: {', '.join(ids)}" for name, ids in busy.items() if ids)
        time.sleep(0.02)


def connection_names(app: Flask, ids: list[int]) -> dict[int, str]:
    with session_scope(app.extensions["gudok"].session_factory) as session:
        return {c.id: c.name for c in session.scalars(
            select(Connection).where(Connection.id.in_(ids)))}
