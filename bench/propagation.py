"""Propagation: how long a change on one channel takes to reach every other channel, as a
ratio against one authenticated GET round trip to the same served hub, in the same run.

Set-up (bench/propagation_support.py): the demo municipality on a throwaway PostgreSQL
database; the hub served by gunicorn on loopback as `gudok serve` runs it (--server-workers
sync workers); the sandbox Saleor mall with the hub installed as its app, and the demo's two
sandbox partner platforms, in this process on loopback, all brought in sync once. The
measured box is the first active box every channel carries; all the stock of one of its
components is put at one location, so that item's count decides the box's availability.
Then --workers `gudok worker` processes (RQ SimpleWorkers with RQ's scheduler and the
sweeper, every --sweep-every seconds, default `gudok worker`'s own) work Redis.

Two paths, --trials times each, alternating, after one warm-up of each that is not counted:
- stock: PUT /api/v1/stock-levels sets the item's count so the box's availability becomes a
  new number; until the mall and both platforms have it;
- order: the first platform sends a signed order.placed webhook for the box (one unit);
  until the mall and the other platform have the availability one lower.
A trial is timed from just before the triggering request to the last channel having the new
number: the mall's variant stock (less its allocations), read with GraphQL every MALL_POLL
seconds (each read costs the process hosting the sandboxes a few milliseconds), the time it
was first seen; a platform's `box.updated` notification with that `available`, the time the
platform received it. Redis' sweeper lock is watched meanwhile: a trial with a sweep between
its trigger and its last arrival may have waited for it.

    .venv/bin/python bench/propagation.py --postgres ADMIN_URL [--trials 20] [--workers 2]
        [--server-workers 2] [--sweep-every 30] [--redis redis://127.0.0.1:6379/13]
        [--max-minutes 10]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests
from bench_databases import postgres_database
from cryptography.fernet import Fernet
from propagation_support import Bench, channels, gunicorn, quiet, worker_env, workers
from redis import Redis
from sqlalchemy import select

from connectors.partner.sandbox import Notification
from hub import create_app
from hub.migrate import upgrade
from hub.models import Order
from jobs.sweeper import SWEEP_LOCK

TARGET_P95 = 1.0
POLL = 0.02
MALL_POLL = 0.05
BASE = 10            # the box's availability moves around this
GET_REPEAT = 100     # baseline GETs before the trials, and again after
TRIAL_SLACK = 15.0   # seconds a trial may take beyond two sweep intervals


@dataclass
class Trial:
    path: str                                   # "stock" or "order"
    others: list[str]                           # the channels the figure waits for
    arrivals: dict[str, float] = field(default_factory=dict)  # channel -> s after trigger
    applied: float | None = None                # order: s until the order was in the hub
    swept: bool = False                         # a sweep began before the last arrival
    wrong: str | None = None                    # the hub's own availability disagreed

    @property
    def seconds(self) -> float | None:
        if not all(name in self.arrivals for name in self.others):
            return None
        return max(self.arrivals[name] for name in self.others)


class SweepWatch:
    """When the workers' sweeper started a sweep, from its lock in Redis (set with a
    time-to-live of the interval less half a second as each sweep begins)."""

    def __init__(self, redis: Redis, sweep_every: float) -> None:
        self.redis, self.hold = redis, max(0.5, sweep_every - 0.5)
        self.starts: list[float] = []
        self._last: float | None = None

    def look(self) -> None:
        left = self.redis.pttl(SWEEP_LOCK)
        now = time.time()
        if left is None or left < 0:
            self._last = None
            return
        started = now - (self.hold - left / 1000)
        if self._last is None or started > self._last + 0.25:
            self.starts.append(started)
        self._last = started

    def between(self, start: float, end: float) -> bool:
        return any(start < moment < end for moment in self.starts)


def watch(bench: Bench, trial: Trial, started: float, expected: int, timeout: float,
          sweeps: SweepWatch, order_id: str | None = None) -> Trial:
    """Poll every channel until all have `expected` (or `timeout` passes)."""
    names = ["mall"] + [p.name for p in bench.platforms]
    deadline = started + timeout
    mall_due = 0.0
    while len(trial.arrivals) < len(names) and time.time() < deadline:
        sweeps.look()
        if "mall" not in trial.arrivals and time.time() >= mall_due:
            mall_due = time.time() + MALL_POLL
            if bench.mall_view() == expected:
                trial.arrivals["mall"] = time.time() - started
        for platform in bench.platforms:
            if platform.name not in trial.arrivals:
                at = _notified(platform.sandbox.notifications, bench.box_code, expected,
                               started)
                if at is not None:
                    trial.arrivals[platform.name] = at - started
        if order_id is not None and trial.applied is None and _in_hub(bench, order_id):
            trial.applied = time.time() - started
        time.sleep(POLL)
    last = trial.seconds
    trial.swept = sweeps.between(started, started + (last if last is not None else timeout))
    return trial


def _notified(notices: list[Notification], code: str, expected: int,
              since: float) -> float | None:
    """When the platform received a box.updated of the box with `expected`, since `since`."""
    for notice in notices:
        received = notice.received_at.timestamp()
        if notice.type == "box.updated" and notice.data.get("code") == code and \
                notice.data.get("available") == expected and received >= since:
            return received
    return None


def _in_hub(bench: Bench, order_id: str) -> bool:
    with bench.session() as session:
        return session.scalar(select(Order.id).where(
            Order.connection_id == bench.platforms[0].connection_id,
            Order.external_id == order_id)) is not None


def stock_trial(bench: Bench, http: requests.Session, target: int, timeout: float,
                sweeps: SweepWatch) -> Trial:
    on_hand = target * bench.item_quantity + bench.held()
    trial = Trial("stock", ["mall"] + [p.name for p in bench.platforms])
    started = time.time()
    answer = http.put(f"{bench.hub_url}api/v1/stock-levels", timeout=10, json={
        "item_id": bench.item_id, "location_id": bench.location_id, "on_hand": on_hand,
        "reason": "bench count"})
    assert answer.status_code == 200, answer.text
    watch(bench, trial, started, target, timeout, sweeps)
    _check(bench, trial, target)
    return trial


def order_trial(bench: Bench, expected: int, timeout: float, sweeps: SweepWatch) -> Trial:
    first, *others = bench.platforms
    trial = Trial("order", ["mall"] + [p.name for p in others])
    started = time.time()
    order_id = first.sandbox.place_order(bench.box_code, bench.plan_code)
    watch(bench, trial, started, expected, timeout, sweeps, order_id)
    _check(bench, trial, expected)
    return trial


def _check(bench: Bench, trial: Trial, expected: int) -> None:
    actual = bench.availability()
    if actual != expected:
        trial.wrong = f"the hub computes {actual}, the trial expected {expected}"


def baseline(bench: Bench, http: requests.Session) -> list[float]:
    """Seconds of GET_REPEAT authenticated GETs of one merchant, one after the other."""
    url = f"{bench.hub_url}api/v1/merchants/{bench.merchant_id}"
    times = []
    for _ in range(GET_REPEAT):
        started = time.perf_counter()
        answer = http.get(url, timeout=10)
        times.append(time.perf_counter() - started)
        assert answer.status_code == 200, answer.text
    return times


@dataclass
class Outcome:
    trials: list[Trial] = field(default_factory=list)
    gets: list[float] = field(default_factory=list)
    stopped_early: bool = False
    busy: list[str] = field(default_factory=list)  # queues still busy after a trial


def measure(bench: Bench, options: argparse.Namespace, redis: Redis) -> Outcome:
    outcome = Outcome()
    sweeps = SweepWatch(redis, options.sweep_every)
    timeout = 2 * options.sweep_every + TRIAL_SLACK
    deadline = time.monotonic() + 60 * options.max_minutes
    with requests.Session() as http:
        http.trust_env = False
        http.headers["Authorization"] = f"Bearer {bench.token}"
        _settle(redis, outcome)
        outcome.gets += baseline(bench, http)
        for number in range(options.trials + 1):  # the first of each is the warm-up
            if time.monotonic() > deadline:
                outcome.stopped_early = True
                break
            target = BASE + 2 * (number % 2)
            done = [stock_trial(bench, http, target, timeout, sweeps)]
            _settle(redis, outcome)
            done.append(order_trial(bench, target - 1, timeout, sweeps))
            _settle(redis, outcome)
            if number:
                outcome.trials += done
        outcome.gets += baseline(bench, http)
    return outcome


def _settle(redis: Redis, outcome: Outcome) -> None:
    busy = quiet(redis)
    if busy:
        outcome.busy.append(busy)


def percentile(values: list[float], p: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def report(bench: Bench, outcome: Outcome, options: argparse.Namespace) -> None:
    get_p50 = statistics.median(outcome.gets)
    first, *others = [p.name for p in bench.platforms]
    print(f"  baseline: authenticated GET /api/v1/merchants/<id> round trip through the same "
          f"server, p50 {1000 * get_p50:.1f} ms ({len(outcome.gets)} requests)")
    for path, title in (("stock", "stock change (PUT /api/v1/stock-levels) -> mall, "
                                  + ", ".join([first, *others])),
                        ("order", f"order (signed order.placed webhook from {first}) -> mall, "
                                  + ", ".join(others))):
        trials = [t for t in outcome.trials if t.path == path]
        done = [t.seconds for t in trials if t.seconds is not None]
        print(f"  {title}: {len(trials)} trials")
        if not done:
            print("    no trial completed")
            continue
        p50, p95 = percentile(done, 50), percentile(done, 95)
        print(f"    p50 {p50:5.2f} s  p95 {p95:5.2f} s  max {max(done):5.2f} s  "
              f"(target p95 < {TARGET_P95:.0f} s)  ratio p50 / GET p50 {p50 / get_p50:,.0f}x")
        channels_p50 = {name: statistics.median(t.arrivals[name] for t in trials
                                                if name in t.arrivals)
                        for name in ["mall", first, *others]
                        if any(name in t.arrivals for t in trials)}
        line = "    per channel p50: " + ", ".join(f"{name} {seconds:.2f} s"
                                                   for name, seconds in channels_p50.items())
        applied = [t.applied for t in trials if t.applied is not None]
        if applied:
            line += f"; order in the hub's tables p50 {statistics.median(applied):.2f} s"
        print(line)
        swept = sum(t.swept for t in trials)
        print(f"    trials with a sweep (every {options.sweep_every:g} s) between the trigger "
              f"and the last arrival: {swept} of {len(trials)}")
        missing = len(trials) - len(done)
        if missing:
            print(f"    NOTE: {missing} trials timed out before every channel had the number")
        for trial in trials:
            if trial.wrong:
                print(f"    NOTE: {trial.wrong}")
    swept = sum(t.swept for t in outcome.trials)
    if outcome.trials and swept == len(outcome.trials):
        print("  NOTE: every trial waited for a sweep: nothing queued the push, notify and "
              "deliver jobs when the change committed, so propagation is the sweep interval")
    elif outcome.trials:
        print(f"  the jobs were queued by the changes themselves in {len(outcome.trials) - swept}"
              f" of {len(outcome.trials)} trials (no sweep ran before the last arrival)")
    if outcome.stopped_early:
        print(f"  NOTE: stopped after {options.max_minutes:g} minutes (--max-minutes)")
    for busy in outcome.busy:
        print(f"  NOTE: jobs still queued or running 30 s after a trial: {busy}")


def run(database_url: str, options: argparse.Namespace, redis: Redis) -> None:
    work = Path(tempfile.mkdtemp(prefix="gudok-propagation-"))
    key = Fernet.generate_key().decode()
    env = worker_env(database_url, options.redis, key, work)  # the server's too
    app = create_app({"environment": "demo", "database_url": database_url,
                      "redis_url": options.redis, "secret_keys": [key], "log_level": "WARNING",
                      "var_dir": str(work),
                      "outbound_allow_hosts": ["127.0.0.1", "::1", "localhost"],
                      "http_rate_limit_per_second": 500.0, "http_rate_limit_burst": 500})
    engine = app.extensions["gudok"].engine
    try:
        upgrade(engine)
        started = time.perf_counter()
        with gunicorn(env, options.server_workers, work) as hub_url, \
                channels(app, hub_url, BASE + 3) as bench:
            names = ", ".join(p.name for p in bench.platforms)
            print(f"  set-up in {time.perf_counter() - started:.0f} s: box {bench.box_code} "
                  f"on the mall and {names}; its availability is decided by item "
                  f"{bench.item_id} ({bench.item_quantity} a box; the item is in "
                  f"{bench.item_boxes} boxes, each pushed and notified when it changes)")
            with workers(options.workers, env, options.sweep_every, redis, work):
                outcome = measure(bench, options, redis)
            report(bench, outcome, options)
    finally:
        engine.dispose()
    print(f"  logs: {work}/worker-*.log, {work}/gunicorn.log")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", metavar="ADMIN_URL", required=True,
                        help="a throwaway database is made through this server, e.g. "
                             "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--trials", type=int, default=20, help="per path, after a warm-up")
    parser.add_argument("--workers", type=int, default=2, help="`gudok worker` processes")
    parser.add_argument("--server-workers", type=int, default=2,
                        help="gunicorn workers serving the hub (`gudok serve`'s default)")
    parser.add_argument("--sweep-every", type=float, default=30.0,
                        help="the workers' sweep interval (`gudok worker`'s default)")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13",
                        help="the queues' Redis database; flushed before and after")
    parser.add_argument("--max-minutes", type=float, default=10.0,
                        help="stop starting trials after this long")
    options = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the sandboxes' servers
    print(f"propagation: {options.trials} trials per path on PostgreSQL, {options.workers} "
          f"`gudok worker` processes (sweep every {options.sweep_every:g} s); hub served by "
          f"gunicorn ({options.server_workers} sync workers); sandbox mall and platforms in "
          "this process; all on loopback")
    redis = Redis.from_url(options.redis, socket_connect_timeout=2)
    redis.flushdb()
    try:
        with postgres_database(options.postgres) as url:
            run(url, options, redis)
    finally:
        redis.flushdb()
        redis.close()


if __name__ == "__main__":
    main()
