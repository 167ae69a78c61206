"""The outbox delivering Standard Webhooks to a real platform endpoint on loopback: retried by
the schedule, Retry-After honoured, same webhook-id every try, 410 and repeated failures
pause the connection, dead after the schedule, never sent twice at once, never off-machine."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from connectors.http.limits import local_breaker
from connectors.partner.signing import ID_HEADER, TIMESTAMP_HEADER, new_secret, verify
from hub import create_app
from hub.db import session_scope
from hub.models import Connection, OutboxMessage
from hub.services.connections import apply_connection
from hub.services.notifications import RETRY_SCHEDULE, enqueue
from jobs.notifications import DeliveryReport, deliver_due
from tests.conftest import app_config, make_tenant
from tests.connectors.http_support import guard_sockets

LOOPBACK = ["127.0.0.1", "::1", "localhost"]
READ_TIMEOUT = 0.4
T0 = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
BOX_CHANGED = {"box_id": 7, "code": "HB-BOX-001", "availability": 12, "price": 45000}


class Platform:
    """A partner platform's notification endpoint: answers from a script, records each try."""

    def __init__(self) -> None:
        self.script: list[tuple[int | str, dict[str, str]]] = []
        self.seen: list[dict[str, Any]] = []
        self.accepted: list[str] = []
        self.delay = 0.0
        self.lock = threading.Lock()

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length)
        with self.lock:
            self.seen.append({"path": handler.path, "body": body,
                              "headers": {k.lower(): v for k, v in handler.headers.items()}})
            status, headers = self.script.pop(0) if self.script else (200, {})
        if status == "hang":
            time.sleep(READ_TIMEOUT * 4)
            return
        time.sleep(self.delay)
        assert isinstance(status, int)
        if 200 <= status < 300:
            with self.lock:
                self.accepted.append(handler.headers[ID_HEADER])
        handler.send_response(status)
        for name, value in {**headers, "Content-Length": "0"}.items():
            handler.send_header(name, value)
        handler.end_headers()


@contextmanager
def platform_server() -> Iterator[tuple[str, Platform]]:
    platform = Platform()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - stdlib's name
            platform.answer(self)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request: Any, client_address: Any) -> None:
            pass  # the client gave up on a hung answer: expected here

    server = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks/gudok", platform
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every socket any test here opens goes to loopback; anything else is refused."""
    seen = guard_sockets(monkeypatch)
    yield
    assert all(host in ("127.0.0.1", "::1") for host, _port in seen), seen


@pytest.fixture
def hub(app: Flask, database_url: str, tmp_path: Any) -> Iterator[Flask]:
    """The hub on the test database, allowed to reach loopback, with a short read timeout."""
    hub = create_app(app_config(database_url, outbound_allow_hosts=LOOPBACK,
                                var_dir=str(tmp_path), http_timeout_seconds=READ_TIMEOUT,
                                http_breaker_failures=1000, http_rate_limit_per_second=1000,
                                http_rate_limit_burst=1000))
    yield hub
    hub.extensions["gudok"].engine.dispose()


@pytest.fixture
def platform() -> Iterator[tuple[str, Platform]]:
    with platform_server() as served:
        yield served


@pytest.fixture
def secrets() -> dict[str, str]:
    return {"outbound": new_secret(), "inbound": new_secret()}


def make_partner(app: Flask, secrets: dict[str, str], url: str | None) -> int:
    tenant_id = make_tenant(app, f"t{time.monotonic_ns()}")
    config: dict[str, Any] = {"platform_name": "다온", "inbound_secret": secrets["inbound"],
                              "outbound_secret": secrets["outbound"]}
    if url is not None:
        config["outbound_url"] = url
    state = app.extensions["gudok"]
    with session_scope(state.session_factory) as session:
        row = apply_connection(session, state.secrets, tenant_id, {
            "connector": "partner", "name": "다온 구독", "config": config})
        session.flush()
        connection_id = row.id
    return connection_id


@pytest.fixture
def partner(hub: Flask, platform: tuple[str, Platform],
            secrets: dict[str, str]) -> Iterator[int]:
    connection_id = make_partner(hub, secrets, platform[0])
    yield connection_id
    local_breaker(str(connection_id), 1000, 30).record_success()  # no state for later tests


def notify(app: Flask, connection_id: int, data: dict[str, Any] | None = None,
           now: datetime = T0) -> int:
    with session_scope(app.extensions["gudok"].session_factory) as session:
        connection = session.get_one(Connection, connection_id)
        return enqueue(session, connection, "box.changed", data or BOX_CHANGED, now=now).id


def run(app: Flask, connection_id: int, now: datetime, **options: Any) -> DeliveryReport:
    with app.app_context():
        return deliver_due(connection_id, now=now, **options)


def message(app: Flask, message_id: int) -> OutboxMessage:
    with session_scope(app.extensions["gudok"].session_factory) as session:
        return session.get_one(OutboxMessage, message_id)


def connection_status(app: Flask, connection_id: int) -> str:
    with session_scope(app.extensions["gudok"].session_factory) as session:
        return session.get_one(Connection, connection_id).status


def test_429_timeout_and_5xx_end_delivered_once_with_one_webhook_id(hub, partner, platform,
                                                                   secrets):
    url, server = platform
    server.script = [(429, {"Retry-After": "120"}), ("hang", {}), (503, {}), (500, {}),
                     (200, {})]
    message_id = notify(hub, partner)
    stored = message(hub, message_id)
    tries: list[datetime] = []

    def attempt(now: datetime) -> DeliveryReport:
        tries.append(now)
        return run(hub, partner, now)

    assert attempt(T0).rescheduled == 1  # 429: wait as told, no attempt counted
    after_429 = message(hub, message_id)
    assert (after_429.attempts, after_429.last_status) == (0, 429)
    assert after_429.next_attempt_at == T0 + timedelta(seconds=120)
    assert run(hub, partner, T0 + timedelta(seconds=119)) == DeliveryReport(partner)
    assert len(server.seen) == 1  # Retry-After honoured: nothing sent before it ran out

    now = T0 + timedelta(seconds=120)
    for expected_attempts in (1, 2, 3):  # read timeout, 503, 500: each counted
        report = attempt(now)
        assert (report.rescheduled, report.delivered) == (1, 0)
        row = message(hub, message_id)
        assert (row.status, row.attempts) == ("pending", expected_attempts)
        assert row.next_attempt_at == now + RETRY_SCHEDULE[expected_attempts - 1]
        assert run(hub, partner, row.next_attempt_at - timedelta(seconds=1)).rescheduled == 0
        now = row.next_attempt_at
    assert message(hub, message_id).last_status == 500

    assert attempt(now).delivered == 1
    done = message(hub, message_id)
    assert (done.status, done.attempts, done.delivered_at) == ("delivered", 3, now)
    assert run(hub, partner, now + timedelta(days=2)) == DeliveryReport(partner)

    assert len(server.seen) == len(tries) == 5
    assert server.accepted == [stored.webhook_id]  # accepted exactly once
    for seen, when in zip(server.seen, tries, strict=True):
        assert seen["path"] == "/hooks/gudok"
        assert seen["body"] == stored.payload.encode("utf-8")  # the same bytes every try
        assert seen["headers"][ID_HEADER] == stored.webhook_id
        assert seen["headers"][TIMESTAMP_HEADER] == str(int(when.timestamp()))
        assert seen["headers"]["content-type"] == "application/json"
        verified = verify([secrets["outbound"]], seen["headers"], seen["body"], now=when)
        assert verified.msg_id == stored.webhook_id


def test_a_429_holds_back_every_due_notification_of_the_endpoint(hub, partner, platform):
    url, server = platform
    server.script = [(429, {"Retry-After": "300"})]
    first, second = notify(hub, partner), notify(hub, partner)
    report = run(hub, partner, T0)
    assert (report.rescheduled, report.delivered, len(server.seen)) == (1, 0, 1)
    for message_id in (first, second):
        row = message(hub, message_id)
        assert (row.attempts, row.next_attempt_at) == (0, T0 + timedelta(seconds=300))
    assert run(hub, partner, T0 + timedelta(seconds=300)).delivered == 2


def test_410_gone_pauses_the_connection_and_sends_nothing_more(hub, partner, platform):
    url, server = platform
    server.script = [(410, {})]
    gone, waiting = notify(hub, partner), notify(hub, partner)
    report = run(hub, partner, T0)
    assert report.paused and report.delivered == 0
    assert connection_status(hub, partner) == "paused"
    row = message(hub, gone)
    assert (row.status, row.last_status) == ("pending", 410)
    assert "410 Gone" in (row.last_error or "") and "paused" in (row.last_error or "")
    assert message(hub, waiting).attempts == 0
    later = run(hub, partner, T0 + timedelta(days=1))
    assert later.paused and later.delivered == 0
    assert len(server.seen) == 1


def test_after_the_schedule_runs_out_the_notification_is_dead(hub, partner, platform):
    url, server = platform
    server.script = [(500, {})] * 20
    message_id = notify(hub, partner)
    now, waits = T0, []
    for _ in RETRY_SCHEDULE:
        assert run(hub, partner, now, pause_after=100).rescheduled == 1
        due = message(hub, message_id).next_attempt_at
        waits.append(due - now)
        now = due
    report = run(hub, partner, now, pause_after=100)
    row = message(hub, message_id)
    assert (report.dead, row.status, row.attempts) == (1, "dead", len(RETRY_SCHEDULE) + 1)
    assert tuple(waits) == RETRY_SCHEDULE
    assert sum(RETRY_SCHEDULE, timedelta()) >= timedelta(days=1)
    assert run(hub, partner, now + timedelta(days=7), pause_after=100).dead == 0
    assert len(server.seen) == len(RETRY_SCHEDULE) + 1
    assert connection_status(hub, partner) == "active"


def test_a_connection_that_keeps_failing_is_paused(hub, partner, platform):
    url, server = platform
    server.script = [(503, {})] * 10
    message_id = notify(hub, partner)
    now = T0
    for _ in range(2):
        assert not run(hub, partner, now, pause_after=3).paused
        now = message(hub, message_id).next_attempt_at
    assert run(hub, partner, now, pause_after=3).paused
    assert connection_status(hub, partner) == "paused"
    assert run(hub, partner, now + timedelta(days=1)).paused
    assert len(server.seen) == 3


def test_two_concurrent_runs_never_send_one_notification_twice(hub, partner, platform):
    url, server = platform
    server.delay = 0.02
    ids = [notify(hub, partner, {"box_id": n}) for n in range(12)]
    reports: list[DeliveryReport] = []
    barrier = threading.Barrier(2)

    def worker() -> None:
        barrier.wait()
        reports.append(run(hub, partner, T0))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    sent = [seen["headers"][ID_HEADER] for seen in server.seen]
    assert len(sent) == len(set(sent)) == len(ids)
    assert sum(report.delivered for report in reports) == len(ids)
    assert {message(hub, n).status for n in ids} == {"delivered"}


@pytest.mark.parametrize("case", ["not_allowed", "private", "unauthorized", "no_url"])
def test_configuration_errors_stop_the_run_and_leave_notifications_pending(
        app, hub, platform, secrets, case):
    url, server = platform
    target = {"private": "http://10.0.0.1/hooks", "no_url": None}.get(case, url)
    if case == "unauthorized":
        server.script = [(401, {})]
    owner = app if case == "not_allowed" else hub  # the default app allows no loopback host
    connection_id = make_partner(owner, secrets, target)
    message_id = notify(owner, connection_id)
    report = run(owner, connection_id, T0)
    assert report.stopped and not report.paused and report.outcome == "failed"
    row = message(owner, message_id)
    assert (row.status, row.attempts, row.next_attempt_at) == ("pending", 0, T0)
    assert connection_status(owner, connection_id) == "active"
    assert len(server.seen) == (1 if case == "unauthorized" else 0)
    if case in ("not_allowed", "private"):
        assert "outbound_allow_hosts" in report.stopped


def test_enqueue_writes_the_envelope_in_the_callers_transaction_and_no_secret(
        hub, partner, platform, secrets):
    factory = hub.extensions["gudok"].session_factory
    with pytest.raises(RuntimeError), session_scope(factory) as session:
        enqueue(session, session.get_one(Connection, partner), "box.changed", BOX_CHANGED)
        raise RuntimeError("the change failed: its notification goes with it")
    with session_scope(factory) as session:
        assert session.scalars(select(OutboxMessage)).all() == []

    first, second = notify(hub, partner), notify(hub, partner)
    row = message(hub, first)
    assert json.loads(row.payload) == {"type": "box.changed",
                                       "timestamp": "2026-12-01T03:00:00Z",
                                       "data": BOX_CHANGED}
    assert row.webhook_id.startswith("msg_") and row.webhook_id != message(hub, second).webhook_id
    assert (row.status, row.attempts, row.next_attempt_at) == ("pending", 0, T0)
    assert run(hub, partner, T0).delivered == 2
    _url, server = platform
    leaked = [s for s in (*secrets.values(), *(v.removeprefix("whsec_") for v in
                                               secrets.values())) if s]
    texts = [message(hub, n).payload + (message(hub, n).last_error or "")
             for n in (first, second)]
    texts += [seen["body"].decode() + json.dumps(seen["headers"]) for seen in server.seen]
    assert not [s for s in leaked for text in texts if s in text]

