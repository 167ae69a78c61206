"""`gudok sync status`, `gudok sync run` and `gudok worker`, invoked as the command line does,
on the test app."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import redis
from click.testing import Result
from flask import Flask

from hub.cli import cli
from hub.db import session_scope, utcnow
from hub.errors import ConfigurationError
from hub.services.sync_health import record_failure, record_success
from jobs import registry
from jobs.notifications import DeliveryReport
from jobs.partner import NotifyReport
from tests.jobs.test_runner import make_connection
from tests.jobs.test_runner import redis_app as redis_app  # noqa: F401 - fixtures
from tests.jobs.test_runner import rq_redis as rq_redis  # noqa: F401
from tests.jobs.test_sweeper import add_inbox, add_outbox, mark_done, pending_inbox


def invoke(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(cli, list(args))


@pytest.fixture
def signals_restored() -> Iterator[None]:
    """The worker installs its own SIGINT/SIGTERM handlers; the test session keeps its own."""
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in handlers.items():
        signal.signal(sig, handler)


def test_sync_status_prints_each_connection_s_streams_queues_circuit_and_errors(
        app: Flask) -> None:
    partner = make_connection(app)
    mall = make_connection(app, connector="saleor", tenant="dasol")
    add_inbox(app, partner, 2)
    add_inbox(app, partner, 1, status="dead")
    add_outbox(app, partner, due_in=-timedelta(minutes=5))
    with session_scope(app.extensions["gudok"].session_factory) as session:
        record_success(session, partner, "inbox", now=utcnow() - timedelta(minutes=3))
        record_failure(session, mall, "push.catalog",
                       ConfigurationError("the mall answered 401", fix="Reinstall the app."))
    result = invoke(app, "sync", "status")
    assert result.exit_code == 0, result.output
    out = result.output
    assert f"#{partner} partner" in out and f"#{mall} saleor" in out
    assert out.count("circuit closed") == 2
    inbox_line = next(line for line in out.splitlines() if "│ inbox" in line
                      and "ago" in line)
    assert [cell.strip() for cell in inbox_line.split("│")[3:5]] == ["2", "1"]  # pending, dead
    notifications = next(line for line in out.splitlines() if "│ notifications" in line)
    assert [cell.strip() for cell in notifications.split("│")[3:5]] == ["1", "0"]
    assert "[configuration] the mall answered 401. Reinstall the app." in out

    only = invoke(app, "sync", "status", "--tenant", "dasol")
    assert only.exit_code == 0 and f"#{mall} " in only.output
    assert f"#{partner} " not in only.output
    unknown = invoke(app, "sync", "status", "--tenant", "nowhere")
    assert unknown.exit_code == 2 and "no tenant 'nowhere'" in unknown.output


def test_sync_run_runs_the_connection_s_jobs_and_prints_each_report(app: Flask) -> None:
    partner = make_connection(app)

    def notify(cid: int) -> NotifyReport:
        return NotifyReport(cid, queued=2, unchanged=5)

    def deliver(cid: int) -> DeliveryReport:
        return DeliveryReport(cid, delivered=2)

    with registry.substitute("drain", lambda cid: None), \
            registry.substitute("notify", notify), registry.substitute("deliver", deliver):
        result = invoke(app, "sync", "run", "--connection", str(partner))
        one = invoke(app, "sync", "run", "--connection", str(partner), "--stream", "inbox")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split()[:2] for line in lines] == [
        ["drain", "success"], ["notify", "success"], ["deliver", "success"]]
    assert "queued=2 unchanged=5" in lines[1] and "delivered=2" in lines[2]
    assert one.exit_code == 0 and one.output.split() == ["drain", "success"]


def test_sync_run_shows_a_configuration_failure_with_its_fix_and_exits_1(app: Flask) -> None:
    partner = make_connection(app)
    error = ConfigurationError("no inbound secret", fix="Set config.inbound_secret.")

    def drain(cid: int) -> None:
        raise error

    with registry.substitute("drain", drain):
        result = invoke(app, "sync", "run", "--connection", str(partner), "--stream", "drain")
    assert result.exit_code == 1
    assert result.output.strip() == ("drain      failed      [configuration] no inbound "
                                      "secret Set config.inbound_secret.")
    missing = invoke(app, "sync", "run", "--connection", "999999")
    assert missing.exit_code == 2 and "no connection 999999" in missing.output


def test_worker_without_redis_refuses_in_one_line(app: Flask) -> None:
    result = invoke(app, "worker")
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "set GUDOK_REDIS_URL" in result.stderr


def test_worker_burst_sweeps_then_drains_the_inbox_in_the_app_context(
        redis_app: Flask, rq_redis: redis.Redis, signals_restored: Any) -> None:
    partner = make_connection(redis_app)
    add_inbox(redis_app, partner, 4)
    with registry.substitute("drain", mark_done(redis_app)), \
            registry.substitute("notify", lambda cid: None):
        result = invoke(redis_app, "worker", "--burst", "--queues", "catalog,orders")
    assert result.exit_code == 0, result.output
    assert pending_inbox(redis_app, partner) == 0
