"""Running one sync job for one connection, the same way on RQ and on the embedded queue.

`execute` runs the job inside the app context, records the stream's health in its own short
transaction and classifies the result by hub/errors.py's taxonomy. `run_job` is what an RQ
worker executes; it turns that classification into RQ's outcomes:

| result                               | RQ outcome                                           |
|--------------------------------------|------------------------------------------------------|
| success, or a paused/disabled connection | finished                                         |
| RateLimited, or the circuit is open  | rescheduled after the wait; no attempt used          |
| TransientError, or anything unknown  | raised: retried by the job's Retry (bounded backoff) |
| ConfigurationError, RecordError      | failed, not retried (health shows the error and fix) |
"""

from __future__ import annotations

import logging
import math
import os
import time
from dataclasses import dataclass
from typing import Any

from flask import Flask
from rq import Retry, get_current_job

from hub.crypto import SecretError
from hub.db import session_scope
from hub.errors import ConfigurationError, RateLimited, RecordError
from hub.models import Connection
from hub.services.sync_health import classify, record_failure, record_success
from jobs.registry import job_spec, resolve

__all__ = ["RESCHEDULE_LIMIT", "Outcome", "breaker_wait", "circuit_state", "execute",
           "run_job", "use_app", "worker_app"]

log = logging.getLogger("gudok.jobs")

# Rate-limit and circuit waits a single job may sit out before it counts as failed: RQ counts
# them apart from the attempts of its Retry, so they never use one up.
RESCHEDULE_LIMIT = 1000

_app: Flask | None = None
_app_pid = 0


def use_app(app: Flask | None) -> None:
    """The app jobs run in: `gudok worker` and tests set it; otherwise built on first use."""
    global _app, _app_pid
    _app, _app_pid = app, os.getpid()


def worker_app() -> Flask:
    """The worker process's app, built once from the environment's settings."""
    global _app, _app_pid
    if _app is None:
        from hub import create_app

        use_app(create_app())
    assert _app is not None
    if _app_pid != os.getpid():  # a forked work horse must not share its parent's connections
        _app.extensions["gudok"].engine.dispose(close=False)
        _app_pid = os.getpid()
    return _app


@dataclass
class Outcome:
    """How one run ended: success, skipped, rescheduled, retry or failed."""

    job_name: str
    connection_id: int
    status: str
    report: Any = None
    delay: float = 0.0                   # rescheduled: seconds to wait, no attempt counted
    error: BaseException | None = None
    note: str = ""

    @property
    def error_class(self) -> str | None:
        return None if self.error is None else classify(self.error)


def run_job(job_name: str, connection_id: int) -> Any:
    """The function RQ executes (enqueued by hub.queue with the job's Retry policy)."""
    outcome = execute(worker_app(), job_name, connection_id)
    if outcome.status == "rescheduled":
        log.info("job %s for connection %s again in %.0f s (%s)", job_name, connection_id,
                 outcome.delay, outcome.note)
        return Retry(max=RESCHEDULE_LIMIT, interval=max(1, math.ceil(outcome.delay)))
    if outcome.status in ("retry", "failed"):
        assert outcome.error is not None
        if outcome.status == "failed":
            job = get_current_job()
            if job is not None:
                job.retries_left = 0  # a person must act: no retry would succeed
        raise outcome.error
    return outcome.report


def execute(app: Flask, job_name: str, connection_id: int) -> Outcome:
    """Run one job for one connection in the app context; never raises for the job's failure."""
    spec = job_spec(job_name)
    with app.app_context():
        try:
            status = _connection_status(app, connection_id)
            if status != "active":
                note = "no such connection" if status is None else f"connection {status}"
                return Outcome(job_name, connection_id, "skipped", note=note)
            if spec.calls_platform:
                wait = breaker_wait(app, connection_id)
                if wait > 0:
                    return Outcome(job_name, connection_id, "rescheduled", delay=wait,
                                   note="circuit breaker open")
            try:
                function = resolve(spec)
            except (ImportError, AttributeError) as error:
                missing = ConfigurationError(
                    f"job {job_name} cannot run: {spec.target} is not available ({error})",
                    fix="Install a hub version that has this job, or leave it unscheduled.")
                raise missing from error
            try:
                report = function(connection_id)
            except SecretError as error:
                unreadable = ConfigurationError(
                    f"the connection's stored secrets cannot be decrypted ({error})",
                    fix="Put the key they were encrypted with back in GUDOK_SECRET_KEYS.")
                raise unreadable from error
        except RateLimited as error:
            _record(app, connection_id, spec.stream, error)
            return Outcome(job_name, connection_id, "rescheduled", delay=error.wait_seconds,
                           error=error, note="rate limited")
        except (ConfigurationError, RecordError, LookupError) as error:
            _record(app, connection_id, spec.stream, error)
            return Outcome(job_name, connection_id, "failed", error=error)
        except Exception as error:  # noqa: BLE001 - transient, an outage or a bug: retried
            _record(app, connection_id, spec.stream, error)
            return Outcome(job_name, connection_id, "retry", error=error)
    return _finished(app, job_name, connection_id, spec.stream, report)


def _finished(app: Flask, job_name: str, connection_id: int, stream: str,
              report: Any) -> Outcome:
    """A report that says a person must act is a configuration failure, not a success."""
    stopped = getattr(report, "stopped", None)
    if stopped:
        error = ConfigurationError(str(stopped), fix="")
        _record(app, connection_id, stream, error)
        return Outcome(job_name, connection_id, "failed", report=report, error=error)
    if getattr(report, "paused", False):  # the job itself paused the connection
        return Outcome(job_name, connection_id, "success", report=report,
                       note="connection paused")
    _record(app, connection_id, stream, None)
    return Outcome(job_name, connection_id, "success", report=report)


def _connection_status(app: Flask, connection_id: int) -> str | None:
    with session_scope(app.extensions["gudok"].session_factory) as session:
        connection = session.get(Connection, connection_id)
        return None if connection is None else connection.status


def _record(app: Flask, connection_id: int, stream: str, error: BaseException | None) -> None:
    """The stream's health, in its own transaction; failing to record never fails the job."""
    try:
        with session_scope(app.extensions["gudok"].session_factory) as session:
            if error is None:
                record_success(session, connection_id, stream)
            else:
                record_failure(session, connection_id, stream, error)
    except Exception:  # noqa: BLE001 - the database may be what failed
        log.warning("sync health of connection %s stream %s not recorded", connection_id,
                    stream, exc_info=True)
    if error is not None:
        log.warning("connection %s stream %s: %s failure: %s", connection_id, stream,
                    classify(error), getattr(error, "message", None) or error)


def _breaker_states(app: Flask, connection_id: int) -> list[Any]:
    """The connection's circuit as this process's transports see it, and as the shared one
    in Redis does (when there is Redis)."""
    from connectors.http import client_for
    from hub.queue import redis_client

    settings = app.extensions["gudok"].settings
    shared = redis_client(app)
    states = []
    for redis in (None,) if shared is None else (None, shared):
        client = client_for(settings, connection_id, redis=redis)
        try:
            states.append(client.breaker_state())
        except Exception:  # noqa: BLE001 - Redis unreachable: the job's own calls will say so
            log.debug("circuit state of connection %s unreadable", connection_id, exc_info=True)
        finally:
            client.close()
    return states


def breaker_wait(app: Flask, connection_id: int) -> float:
    """Seconds until the connection's open circuit lets a probe through; 0 when it is not open."""
    now = time.time()
    waits = [state.next_probe_at - now for state in _breaker_states(app, connection_id)
             if state.state == "open" and state.next_probe_at is not None]
    return max([0.0, *waits])


def circuit_state(app: Flask, connection_id: int) -> str:
    """closed, open or half_open: the worst of what this process and Redis know."""
    states = {state.state for state in _breaker_states(app, connection_id)}
    for name in ("open", "half_open"):
        if name in states:
            return name
    return "closed"
