"""Webhook ingest through gunicorn, as a ratio against a bare Flask endpoint in the same run.

Signed partner webhooks (Standard Webhooks, each with its own webhook-id) are POSTed to
/webhooks/<connection> at a fixed number of concurrent client connections. The baseline is
bench/ingest_app.py's bare_app: a Flask endpoint that reads the same body and answers 202,
served by the same gunicorn settings on the same machine. Both servers run side by side and
are measured in alternating rounds, so a noisy neighbour slows both alike.

Gunicorn: 2 * cores + 1 workers of its default `sync` class (as `gudok serve` runs it);
`--worker-class gthread --threads N` for keep-alive connections. Sync workers answer each
request with `Connection: close`, so every delivery opens a new TCP connection, as most
webhook senders do anyway. The load generator runs in separate processes (the client must
not be the bottleneck of the baseline) and shares the two cores with the servers.

With GUDOK_REDIS_URL set to --redis, the measured path includes whatever the endpoint
enqueues after its insert; no worker runs, and that Redis database is flushed at the end.
At the end the inbox rows are counted: every 2xx answer must be a row ("lost").

    .venv/bin/python bench/webhook_ingest.py [--deliveries 3000] [--concurrency 32]
        [--postgres ADMIN_URL] [--no-sqlite] [--redis redis://127.0.0.1:6379/14]
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import queue
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench_databases import postgres_database
from cryptography.fernet import Fernet
from redis import Redis
from sqlalchemy import create_engine, func, select

from connectors.partner.signing import headers_for, new_secret
from hub import create_app
from hub.db import session_scope
from hub.migrate import upgrade
from hub.models import InboxEntry, Tenant
from hub.services.connections import apply_connection

BENCH_DIR = Path(__file__).resolve().parent
TARGET_RATIO, TARGET_P99_MS = 0.5, 100.0
WARM_UP = 200  # requests per server before measuring: workers import and connect lazily
START_TIMEOUT = 60.0
REQUEST_TIMEOUT = 30.0


@dataclass
class Sample:
    """One measured request: its status (0 when the connection failed) and latency."""

    status: int
    seconds: float


@dataclass
class Figures:
    samples: list[Sample] = field(default_factory=list)
    wall: float = 0.0

    @property
    def accepted(self) -> int:
        return sum(1 for s in self.samples if 200 <= s.status < 300)

    @property
    def rate(self) -> float:
        return self.accepted / self.wall if self.wall else 0.0

    def percentile_ms(self, p: int) -> float:
        times = sorted(s.seconds for s in self.samples)
        if not times:
            return float("nan")
        return 1000 * times[min(len(times) - 1, max(0, round(p / 100 * len(times)) - 1))]

    def failures(self) -> dict[int, int]:
        counts: dict[int, int] = {}
        for sample in self.samples:
            if not 200 <= sample.status < 300:
                counts[sample.status] = counts.get(sample.status, 0) + 1
        return counts


def free_port() -> int:
    """A port free now on loopback (gunicorn cannot bind port 0 and say which it got)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def gunicorn(factory: str, env: dict[str, str], options: argparse.Namespace,
             log_dir: Path) -> Iterator[int]:
    """Serve `ingest_app:<factory>()` on a loopback port until the block ends."""
    port = free_port()
    log = log_dir / f"gunicorn-{factory}-{port}.log"
    command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
               "--workers", str(options.workers), "--worker-class", options.worker_class,
               "--threads", str(options.threads), "--pythonpath", str(BENCH_DIR),
               "--log-level", "warning", "--error-logfile", str(log),
               f"ingest_app:{factory}()"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        _wait_ready(port, process, log)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _wait_ready(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}:\n"
                               + log.read_text(errors="replace")[-2000:])
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                connection.close()
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn on port {port} not ready within {START_TIMEOUT:.0f} s")


def envelope(order_id: str) -> bytes:
    """A partner's order.placed delivery, as tests/webhooks/test_partner_inbound.py sends."""
    return json.dumps({"type": "order.placed", "timestamp": "2026-11-29T10:00:00+09:00",
                       "data": {"order_id": order_id, "status": "paid", "total": 90000,
                                "customer_ref": "c-77",
                                "lines": [{"line_id": "1", "listing_id": "L-9",
                                           "plan_code": "HB-BOX-001-M", "quantity": 2,
                                           "unit_price": 45000}]}},
                      ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _client_process(port: int, path: str, secret: str, ids: list[str], threads: int,
                    barrier: Any, results: Any) -> None:
    """Send the deliveries `ids` over `threads` connections once every process is ready."""
    signed = queue.SimpleQueue[tuple[bytes, dict[str, str]]]()
    now = time.time()
    for msg_id in ids:
        body = envelope(msg_id)
        signed.put((body, {**headers_for(secret, msg_id, body, now),
                           "Content-Type": "application/json"}))
    samples: list[tuple[int, float]] = []
    lock = threading.Lock()

    def sender() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
        mine: list[tuple[int, float]] = []
        while True:
            try:
                body, headers = signed.get_nowait()
            except queue.Empty:
                break
            started = time.monotonic()
            try:
                connection.request("POST", path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                status = response.status
                if response.will_close:
                    connection.close()
            except (OSError, http.client.HTTPException):
                status = 0
                connection.close()
            mine.append((status, time.monotonic() - started))
        connection.close()
        with lock:
            samples.extend(mine)

    workers = [threading.Thread(target=sender) for _ in range(threads)]
    barrier.wait()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    results.put((samples, time.monotonic()))


def load(port: int, path: str, secret: str, ids: list[str], concurrency: int,
         processes: int) -> Figures:
    """POST one signed delivery per id with `concurrency` connections at once."""
    context = multiprocessing.get_context("fork")
    processes = max(1, min(processes, concurrency))
    barrier = context.Barrier(processes + 1)
    results = context.Queue()
    shares = [ids[n::processes] for n in range(processes)]
    threads = [concurrency // processes + (1 if n < concurrency % processes else 0)
               for n in range(processes)]
    clients = [context.Process(target=_client_process,
                               args=(port, path, secret, shares[n], threads[n], barrier,
                                     results))
               for n in range(processes)]
    for client in clients:
        client.start()
    barrier.wait(timeout=START_TIMEOUT)
    started = time.monotonic()
    figures, finished = Figures(), started
    for _ in clients:
        samples, ended = results.get(timeout=600)
        figures.samples.extend(Sample(status, seconds) for status, seconds in samples)
        finished = max(finished, ended)
    for client in clients:
        client.join(timeout=30)
    figures.wall = finished - started
    return figures


def prepare(database_url: str, key: str, var_dir: Path) -> tuple[int, str]:
    """Migrate, and make a tenant with one partner connection; (its id, inbound secret)."""
    app = create_app({"environment": "test", "database_url": database_url,
                      "secret_keys": [key], "log_level": "WARNING", "var_dir": str(var_dir)})
    state = app.extensions["gudok"]
    upgrade(state.engine)
    secret = new_secret()
    with session_scope(state.session_factory) as session:
        tenant = Tenant(code="bench", name="벤치군", time_zone="Asia/Seoul",
                        settlement_cycle="monthly")
        session.add(tenant)
        session.flush()
        row = apply_connection(session, state.secrets, tenant.id, {
            "connector": "partner", "name": "벤치 플랫폼", "status": "active",
            "config": {"platform_name": "벤치", "inbound_secret": secret}})
        session.flush()
        connection_id = row.id
    state.engine.dispose()
    return connection_id, secret


def inbox_rows(database_url: str, connection_id: int) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return int(connection.scalar(select(func.count()).select_from(InboxEntry).where(
                InboxEntry.connection_id == connection_id)) or 0)
    finally:
        engine.dispose()


def server_env(database_url: str, key: str, redis_url: str, var_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUDOK_")}
    env.update(GUDOK_ENVIRONMENT="test", GUDOK_DATABASE_URL=database_url,
               GUDOK_SECRET_KEYS=key, GUDOK_LOG_LEVEL="WARNING", GUDOK_REDIS_URL=redis_url,
               GUDOK_VAR_DIR=str(var_dir))
    return env


def run(backend: str, database_url: str, options: argparse.Namespace, work: Path) -> None:
    work.mkdir()
    key = Fernet.generate_key().decode()
    connection_id, secret = prepare(database_url, key, work)
    env = server_env(database_url, key, options.redis, work)
    path = f"/webhooks/{connection_id}"
    bare, hub = Figures(), Figures()
    hub_answers = 0
    per_round = max(1, options.deliveries // options.rounds)
    with ExitStack() as stack:
        bare_port = stack.enter_context(gunicorn("bare_app", env, options, work))
        hub_port = stack.enter_context(gunicorn("hub_app", env, options, work))
        for port in (bare_port, hub_port):
            warm = load(port, path, secret, [f"msg_warm_{port}_{n}" for n in range(WARM_UP)],
                        options.concurrency, options.client_processes)
            if port == hub_port:
                hub_answers += warm.accepted
        for round_no in range(options.rounds):
            for port, figures in ((bare_port, bare), (hub_port, hub)):
                ids = [f"msg_{round_no}_{port}_{n}_{uuid.uuid4().hex[:8]}"
                       for n in range(per_round)]
                measured = load(port, path, secret, ids, options.concurrency,
                                options.client_processes)
                figures.samples.extend(measured.samples)
                figures.wall += measured.wall
        hub_answers += hub.accepted
    rows = inbox_rows(database_url, connection_id)
    redis = Redis.from_url(options.redis, socket_connect_timeout=2)
    try:
        queued = int(redis.dbsize())
        redis.flushdb()
    finally:
        redis.close()
    report(backend, bare, hub, rows, hub_answers)
    print(f"    Redis keys left by the endpoint: {queued} (no worker ran; flushed)")


def report(backend: str, bare: Figures, hub: Figures, rows: int, answers: int) -> None:
    ratio = hub.rate / bare.rate if bare.rate else float("nan")
    print(f"  {backend}")
    for name, figures in (("bare", bare), ("hub", hub)):
        failed = figures.failures()
        print(f"    {name:<5} {figures.accepted:>6} accepted  {figures.rate:8.1f} req/s  "
              f"p50 {figures.percentile_ms(50):6.1f} ms  p99 {figures.percentile_ms(99):6.1f} ms"
              + (f"  not 2xx: {failed}" if failed else ""))
    print(f"    ratio hub/bare {ratio:5.2f}x  (target >= {TARGET_RATIO})")
    print(f"    p50 hub {hub.percentile_ms(50):6.1f} ms  p99 hub {hub.percentile_ms(99):6.1f} ms"
          f"  (target p99 < {TARGET_P99_MS:.0f} ms)")
    print(f"    lost: {answers - rows}  ({answers} 2xx answers, {rows} inbox rows; target 0)")


def main() -> None:
    cores = os.cpu_count() or 1
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=3000,
                        help="measured deliveries per server, over all rounds")
    parser.add_argument("--rounds", type=int, default=3,
                        help="alternating bare/hub rounds the deliveries are split into")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--client-processes", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2 * cores + 1)
    parser.add_argument("--worker-class", default="sync", choices=("sync", "gthread"))
    parser.add_argument("--threads", type=int, default=1,
                        help="threads per gthread worker (sync workers have one)")
    parser.add_argument("--postgres", metavar="ADMIN_URL",
                        help="run on a throwaway database made through this server, "
                             "e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--no-sqlite", dest="sqlite", action="store_false",
                        help="skip the run on an SQLite file")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14",
                        help="the hub's GUDOK_REDIS_URL; this database is flushed at the end")
    options = parser.parse_args()
    redis = Redis.from_url(options.redis, socket_connect_timeout=2)
    if redis.dbsize():
        print(f"  note: {options.redis} was not empty; it is flushed at the end")
    print(f"webhook ingest: {options.deliveries} signed deliveries per server in "
          f"{options.rounds} rounds, {options.concurrency} concurrent connections; gunicorn "
          f"{options.workers} {options.worker_class} workers"
          + (f" x {options.threads} threads" if options.worker_class == "gthread" else "")
          + f" on {cores} cores")
    try:
        with tempfile.TemporaryDirectory(prefix="gudok-ingest-") as scratch:
            if options.postgres:
                with postgres_database(options.postgres) as url:
                    run("postgresql", url, options, Path(scratch) / "postgresql")
            if options.sqlite:
                work = Path(scratch) / "sqlite"
                run("sqlite", f"sqlite:///{Path(scratch) / 'bench.db'}", options, work)
    finally:
        redis.flushdb()
        redis.close()


if __name__ == "__main__":
    main()
