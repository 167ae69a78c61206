"""Enqueueing sync jobs: on RQ when GUDOK_REDIS_URL is set, else on an embedded in-process queue.

The database is the source of truth and Redis only transport (DESIGN invariant 1): `enqueue`
never raises into a web request when Redis fails, it logs and answers False, and the sweeper
(jobs/sweeper.py) enqueues again whatever no job finished. Job ids are deterministic,
"<job>-<connection>", enqueued with RQ's `unique=True`, so a job already waiting is not queued
twice. A job that is running may have fixed its upper bound before the change that asks for
it, so one follow-up "<job>-<connection>-again" is queued behind it. So is one for a job
that reads "queued" but is in no queue: a worker took it and was killed before starting it.

Without Redis, each process runs the same job functions on one background thread in the app
context (`EmbeddedQueue`), de-duplicated by job id while queued, retried by the same policy.
In the test environment its thread is not started: jobs wait until `drain_embedded` runs them."""

from __future__ import annotations

import itertools
import logging
import math
import os
import threading
import time
from collections import deque
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from flask import Flask
from redis import Redis, WatchError
from rq import Queue, Retry
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job

from jobs.registry import JOBS, job_id, job_spec

__all__ = ["FOLLOW_UP", "QUEUES", "RETRY_INTERVALS", "EmbeddedQueue", "Waiting", "drain_embedded",
           "embedded_queue", "enqueue", "redis_client"]

log = logging.getLogger("gudok.queue")

QUEUES = ("orders", "stock", "catalog", "settlement")  # workers take them in this order
RETRY_INTERVALS = (10, 30, 60, 300, 900)  # seconds before each retry of a transient failure
RUNNER = "jobs.runner.run_job"
JOB_TIMEOUT = 900
FAILURE_TTL = 7 * 86400  # a failed job stays visible in RQ this long (or until re-enqueued)
FOLLOW_UP = "-again"
ENDED = frozenset({"finished", "failed", "stopped", "canceled"})
QUEUE_KEY = "gudok.queue"
REDIS_KEY = "gudok.redis"
EMBEDDED_SWEEP_SECONDS = 30.0
_IDLE_WAKE = 60.0


def enqueue(app: Flask, job_name: str, connection_id: int, *, delay: float = 0.0) -> bool:
    """Queue a registered job for a connection unless it is already waiting. True when the
    job is (now or already) queued; False when the queue could not be reached."""
    spec = job_spec(job_name)
    redis = redis_client(app)
    if redis is None:
        return embedded_queue(app).submit(job_name, connection_id, delay)
    try:
        queue = Queue(spec.queue, connection=redis)
        key = job_id(job_name, connection_id)
        status = _enqueue_unique(queue, key, job_name, connection_id, delay)
        if status == "started" or (status == "queued" and not _waiting(queue, key)):
            _enqueue_unique(queue, key + FOLLOW_UP, job_name, connection_id, delay)
        return True
    except Exception as error:  # noqa: BLE001 - Redis down or refusing: the sweeper catches up
        log.warning("job %s for connection %s not queued (%s: %s); the sweeper will queue it",
                    job_name, connection_id, type(error).__name__, error)
        return False


def redis_client(app: Flask) -> Redis | None:
    """The app's Redis client (short timeouts: a web request never hangs on it), or None."""
    url = app.extensions["gudok"].settings.redis_url
    if not url:
        return None
    client: Redis | None = app.extensions.get(REDIS_KEY)
    if client is None:
        client = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
        app.extensions[REDIS_KEY] = client
    return client


def _enqueue_unique(queue: Queue, key: str, job_name: str, connection_id: int,
                    delay: float) -> str:
    """"enqueued" when this call queued the job, else the status of the job holding the id.
    A job that ended (failed, stopped) still holds its id; it is removed and queued anew."""
    status = "queued"
    for _ in range(3):
        options: dict[str, Any] = {
            "job_id": key, "unique": True, "result_ttl": 0, "failure_ttl": FAILURE_TTL,
            "job_timeout": JOB_TIMEOUT, "description": f"{job_name} for connection {connection_id}",
            "retry": Retry(max=len(RETRY_INTERVALS), interval=list(RETRY_INTERVALS))}
        try:
            if delay > 0:
                queue.enqueue_in(timedelta(seconds=delay), RUNNER, job_name, connection_id,
                                 **options)
            else:
                queue.enqueue(RUNNER, job_name, connection_id, **options)
            return "enqueued"
        except DuplicateJobError:
            status = _status(queue.connection, key) or "queued"
        if status not in ENDED:
            return status
        _remove_ended(queue.connection, key)
    return status


def _waiting(queue: Queue, key: str) -> bool:
    """The job is in its queue's list. A "queued" job that is not was taken by a worker: one
    about to start it, or one killed before it did, whose job RQ fails only at a later
    maintenance run. A follow-up covers both (every job may run twice: it is idempotent)."""
    return queue.connection.lpos(queue.key, key) is not None


def _status(redis: Redis, key: str) -> str | None:
    value = redis.hget(Job.key_for(key), "status")
    return value.decode() if isinstance(value, bytes) else value


def _remove_ended(redis: Redis, key: str) -> None:
    """Delete the job under `key` if it has ended, atomically with that check."""
    with redis.pipeline() as pipe:
        try:
            pipe.watch(Job.key_for(key))
            status = pipe.hget(Job.key_for(key), "status")
            if (status.decode() if isinstance(status, bytes) else status) not in ENDED:
                return
            job = Job.fetch(key, connection=redis)
            pipe.multi()
            job.delete(pipeline=pipe)
            pipe.execute()
        except (WatchError, NoSuchJobError):
            return  # changed or gone meanwhile: the caller looks again


@dataclass
class Waiting:
    """A job waiting on the embedded queue."""

    job_name: str
    connection_id: int
    due: float
    seq: int
    attempts: int = 0       # transient failures so far
    reschedules: int = 0    # rate-limit and circuit waits so far (no attempt counted)


class EmbeddedQueue:
    """The in-process queue: one worker thread per process, jobs in QUEUES priority order."""

    def __init__(self, app: Flask, *, start: bool, sweep_every: float | None = None) -> None:
        self.app = app
        self.pid = os.getpid()
        self.sweep_every = sweep_every
        self._chores_due = 0.0  # the calendar's chores: rounds scheduled, vouchers expired
        self.outcomes: deque[Any] = deque(maxlen=200)  # recent jobs.runner.Outcome values
        self._cond = threading.Condition()
        self._pending: dict[str, Waiting] = {}
        self._running: str | None = None
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None
        self._stopping = False
        if start:
            self.start()

    @property
    def started(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if not self.started:
            self._stopping = False
            self._thread = threading.Thread(target=self._loop, name="gudok-embedded-queue",
                                            daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
        self._thread = None

    def submit(self, job_name: str, connection_id: int, delay: float = 0.0, *,
               attempts: int = 0, reschedules: int = 0) -> bool:
        """Queue the job unless it is waiting already; a retry keeps the later due time."""
        key = job_id(job_spec(job_name).name, connection_id)
        due = time.monotonic() + max(0.0, delay)
        with self._cond:
            waiting = self._pending.get(key)
            if waiting is None:
                self._pending[key] = Waiting(job_name, connection_id, due, next(self._seq),
                                              attempts, reschedules)
                self._cond.notify_all()
            elif attempts or reschedules:
                waiting.due = max(waiting.due, due)
                waiting.attempts = max(waiting.attempts, attempts)
                waiting.reschedules = max(waiting.reschedules, reschedules)
        return True

    def pending(self) -> list[str]:
        """The ids of the jobs waiting (due or later), sorted."""
        with self._cond:
            return sorted(self._pending)

    def waiting(self, job_name: str, connection_id: int) -> Waiting | None:
        """A copy of the job's waiting entry, if it is waiting."""
        with self._cond:
            entry = self._pending.get(job_id(job_name, connection_id))
            return None if entry is None else replace(entry)

    def run_next(self) -> bool:
        """Run the most urgent due job in this thread; False when none is due."""
        with self._cond:
            now = time.monotonic()
            due = [entry for entry in self._pending.values() if entry.due <= now]
            if not due or self._running is not None:
                return False
            entry = min(due, key=lambda e: (QUEUES.index(JOBS[e.job_name].queue), e.due, e.seq))
            key = job_id(entry.job_name, entry.connection_id)
            del self._pending[key]
            self._running = key
        try:
            self._run(entry)
        finally:
            with self._cond:
                self._running = None
                self._cond.notify_all()
        return True

    def drain(self, timeout: float) -> bool:
        """Wait (or, without the thread, run jobs here) until nothing due is waiting or
        running; False if that did not happen within `timeout` seconds. Jobs scheduled for
        later (retries, rate-limit waits) do not count."""
        deadline = time.monotonic() + timeout
        if not self.started:
            while time.monotonic() < deadline:
                if not self.run_next():
                    return True
            return False
        with self._cond:
            while self._running is not None or any(
                    entry.due <= time.monotonic() for entry in self._pending.values()):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.05))
        return True

    def _run(self, entry: Waiting) -> None:
        from jobs.runner import RESCHEDULE_LIMIT, execute

        try:
            outcome = execute(self.app, entry.job_name, entry.connection_id)
        except Exception:  # noqa: BLE001 - an unknown job or a bug: never kill the thread
            log.exception("embedded job %s for connection %s crashed", entry.job_name,
                          entry.connection_id)
            return
        self.outcomes.append(outcome)
        if outcome.status == "rescheduled" and entry.reschedules < RESCHEDULE_LIMIT:
            self.submit(entry.job_name, entry.connection_id, max(1.0, outcome.delay),
                        attempts=entry.attempts, reschedules=entry.reschedules + 1)
        elif outcome.status == "retry" and entry.attempts < len(RETRY_INTERVALS):
            self.submit(entry.job_name, entry.connection_id, RETRY_INTERVALS[entry.attempts],
                        attempts=entry.attempts + 1, reschedules=entry.reschedules)
        elif outcome.status in ("retry", "rescheduled", "failed"):
            log.warning("embedded job %s for connection %s failed: %s", entry.job_name,
                        entry.connection_id, outcome.error or outcome.note)

    def _loop(self) -> None:
        every = self.sweep_every
        next_sweep = time.monotonic() + every if every else math.inf
        while not self._stopping:
            if self.run_next():
                continue
            if every and time.monotonic() >= next_sweep:
                self._sweep()
                next_sweep = time.monotonic() + every
                continue
            with self._cond:
                if self._stopping:
                    break
                wake = min([entry.due for entry in self._pending.values()], default=math.inf)
                timeout = min(wake, next_sweep) - time.monotonic()
                self._cond.wait(min(max(timeout, 0.0), _IDLE_WAKE))

    def _sweep(self) -> None:
        from jobs.sweeper import CHORES_EVERY, run_chores, sweep

        try:
            sweep(self.app)
        except Exception:  # noqa: BLE001 - e.g. the database is down: try at the next sweep
            log.warning("embedded sweep failed", exc_info=True)
        if time.monotonic() >= self._chores_due:
            self._chores_due = time.monotonic() + CHORES_EVERY
            run_chores(self.app)


_embedded_lock = threading.Lock()


def embedded_queue(app: Flask, *, start: bool | None = None) -> EmbeddedQueue:
    """This process's embedded queue of the app, made on first use (again after a fork).
    `start` None: its thread runs except in the test environment; True starts it."""
    with _embedded_lock:
        queue = app.extensions.get(QUEUE_KEY)
        if not isinstance(queue, EmbeddedQueue) or queue.pid != os.getpid():
            automatic = app.extensions["gudok"].settings.environment != "test"
            queue = EmbeddedQueue(app, start=automatic if start is None else start,
                                  sweep_every=EMBEDDED_SWEEP_SECONDS if automatic else None)
            app.extensions[QUEUE_KEY] = queue
        elif start:
            queue.start()
        return queue


def drain_embedded(app: Flask, timeout: float = 30.0) -> bool:
    """Tests and the demo: wait until the embedded queue has nothing due or running (without
    its thread, run the due jobs in this thread). False when `timeout` passed first."""
    return embedded_queue(app).drain(timeout)
