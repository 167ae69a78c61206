"""jobs.push.push_changes against a sandbox mall that fails: rate limits, outages and calls
that time out after the mall acted on them. The push lands once, and the mall's stock never
goes backwards however pushes are duplicated or reordered (DESIGN invariant 4)."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask, request

from connectors.saleor import SaleorConnector
from connectors.saleor.sandbox import SaleorSandbox
from connectors.saleor.sandbox.faults import HttpFault
from hub import create_app
from hub.db import session_scope
from hub.errors import ConnectorFailure, RateLimited, TransientError
from hub.models import Box
from hub.services.listings import box_listing
from jobs.push import PushReport, push_changes
from tests.conftest import app_config
from tests.integration.conftest import LOOPBACK
from tests.integration.test_push_changes import stocks
from tests.integration.test_saleor_mall import metadata

TIMEOUT = 1.0  # the hub's HTTP timeouts in these tests, seconds
HANG = 3.0  # a call the mall sits on this long, then carries out
RETRY_AFTER = 2.0
PRODUCTS = """
query Products {
  products(first: 100) {
    edges { node { id externalReference metadata { key value }
                   variants { id metadata { key value } stocks { quantity } } } }
  }
}"""
_OPERATION = re.compile(r"^\s*(?:query|mutation)\s+(\w+)")


@pytest.fixture
def mall_app(app: Flask, database_url: str, tmp_path: Any) -> Iterator[Flask]:
    """The hub with small HTTP timeouts, one attempt per call and no waiting out a rate limit
    inside a call: every failure ends the job's run, as the queue then sees it."""
    hub = create_app(app_config(
        database_url, outbound_allow_hosts=LOOPBACK, var_dir=str(tmp_path),
        http_timeout_seconds=TIMEOUT, http_connect_timeout_seconds=TIMEOUT, http_max_attempts=1,
        http_max_rate_limit_wait_seconds=RETRY_AFTER / 4, http_rate_limit_per_second=1000,
        http_rate_limit_burst=1000, http_breaker_failures=100))
    yield hub
    hub.extensions["gudok"].engine.dispose()


@dataclass
class MallFaults:
    """Faults planned by GraphQL operation, taken in order: the first planned fault applies
    to the next call of its operation ("*": any), the next one only after it. Counts calls."""

    planned: list[tuple[str, HttpFault]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def then(self, operation: str, **fault: Any) -> MallFaults:
        self.planned.append((operation, HttpFault(**fault)))
        return self

    def take(self, path: str) -> HttpFault | None:
        if not path.startswith("/graphql"):
            return None
        body = json.loads(request.get_data(cache=True) or b"{}")
        found = _OPERATION.match(str(body.get("query") or ""))
        name = found.group(1) if found else "?"
        with self.lock:
            self.calls.append(name)
            if self.planned and self.planned[0][0] in (name, "*"):
                return self.planned.pop(0)[1]
        return None


@pytest.fixture
def mall_faults(sandbox: SaleorSandbox, monkeypatch: pytest.MonkeyPatch) -> MallFaults:
    faults = MallFaults()
    take = sandbox.faults.take_http
    monkeypatch.setattr(sandbox.faults, "take_http",
                        lambda path: faults.take(path) or take(path))
    return faults


def push(app: Flask, connection_id: int) -> PushReport:
    with app.app_context():
        return push_changes(connection_id)


def set_stock(installed: dict[str, Any], on_hand: int) -> None:
    catalog = installed["catalog"]
    assert installed["operator"].put("/api/v1/stock-levels", json={
        "item_id": catalog["items"][1]["id"], "location_id": catalog["location"]["id"],
        "on_hand": on_hand}).status_code in (200, 201)


def availability(app: Flask, installed: dict[str, Any]) -> int:
    """What the hub would push for the box now."""
    with app.app_context(), session_scope(app.extensions["gudok"].session_factory) as session:
        box = session.get_one(Box, installed["catalog"]["box"]["id"])
        return int(box_listing(session, box, installed["connection"]["id"])["available"])


def box_products(sandbox: SaleorSandbox, box_id: int) -> list[dict[str, Any]]:
    """The mall's products marked as this box's."""
    answer = sandbox.execute(PRODUCTS, {}, superuser=True)
    return [edge["node"] for edge in answer["data"]["products"]["edges"]
            if metadata(edge["node"]).get("gudok.box_id") == str(box_id)]


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not within {seconds} s: {what}"
        time.sleep(0.05)


def push_until_it_lands(app: Flask, connection_id: int, after_failure: Callable[[], None],
                        runs: int = 6) -> tuple[PushReport, list[ConnectorFailure]]:
    """push_changes again after each failure, as the queue retries it; the failures seen."""
    failures: list[ConnectorFailure] = []
    for _ in range(runs):
        try:
            return push(app, connection_id), failures
        except ConnectorFailure as failure:
            failures.append(failure)
            after_failure()
    raise AssertionError(f"no push landed in {runs} runs: {failures}")


def assert_failures(failures: list[ConnectorFailure]) -> None:
    """429 with Retry-After, then a 503, then a call the hub gave up on after its timeout."""
    assert [type(f) for f in failures] == [RateLimited, TransientError, TransientError], (
        f"expected RateLimited (429), TransientError (503), TransientError (a call the mall "
        f"sat on for {HANG:g} s, past the hub's {TIMEOUT:g} s timeout); got "
        f"{[f'{type(f).__name__}: {f.message}' for f in failures]}")
    limited, unavailable, timed_out = failures
    assert isinstance(limited, RateLimited) and limited.wait_seconds == RETRY_AFTER
    assert unavailable.status == 503
    assert timed_out.status is None and "did not answer in time" in timed_out.message


def test_429_then_5xx_then_timeouts_the_push_lands_once(
        mall_app: Flask, installed: dict[str, Any], sandbox: SaleorSandbox,
        mall_faults: MallFaults) -> None:
    connection_id = installed["connection"]["id"]
    box_id = installed["catalog"]["box"]["id"]
    plan_ids = {str(plan["id"]) for plan in installed["plans"]}

    def variants() -> list[dict[str, Any]]:
        return [v for p in box_products(sandbox, box_id) for v in p["variants"]]

    # The box's stock changed before it was ever listed: the first push lists it. The 503
    # comes after the product was created; the variants are created by a call the hub gave
    # up on, and the queue retries only once the mall has finished it.
    set_stock(installed, 8)
    (mall_faults.then("*", status=429, retry_after=RETRY_AFTER)
     .then("GudokVariantBulkCreate", status=503)
     .then("GudokVariantBulkCreate", hang=HANG, process=True))
    listed, first_failures = push_until_it_lands(
        mall_app, connection_id, lambda: wait_for(
            lambda: bool(mall_faults.planned) or len(variants()) > 0, HANG + 10,
            "the mall finishes the call the hub gave up on"))
    assert listed.listed == [box_id] and mall_faults.planned == []
    [product] = box_products(sandbox, box_id)  # one product, however often it was tried
    assert sorted(metadata(v)["gudok.plan_id"] for v in product["variants"]) == sorted(plan_ids)
    assert set(stocks(sandbox, product["id"])) == {availability(mall_app, installed)} == {4}

    # The stock changes again: 429, a 503 on the product lookup, then a stock update that
    # times out (the mall carries it out later).
    set_stock(installed, 20)
    (mall_faults.then("*", status=429, retry_after=RETRY_AFTER)
     .then("GudokProductLookup", status=503)
     .then("GudokVariantStocksUpdate", hang=HANG, process=True))
    restocked, stock_failures = push_until_it_lands(mall_app, connection_id, lambda: None)
    assert restocked.stock_only == [box_id] and mall_faults.planned == []
    [again] = box_products(sandbox, box_id)
    assert again["id"] == product["id"] and len(again["variants"]) == len(plan_ids)
    wait_for(lambda: set(stocks(sandbox, product["id"])) == {10}, HANG + 10,
             "the mall carries out the stock update")
    assert availability(mall_app, installed) == 10

    # Landed: a re-run finds nothing to do and asks the mall nothing.
    calls = len(mall_faults.calls)
    assert push(mall_app, connection_id).calls == 0
    assert len(mall_faults.calls) == calls
    assert_failures(first_failures)
    assert_failures(stock_failures)


@dataclass
class StockPushes:
    """Every availability push the hub makes: what it computed and what the mall then held.
    A push marked `hold` waits at the gate before it calls the mall."""

    sandbox: SaleorSandbox
    product_id: str
    seen: list[tuple[int, list[int]]] = field(default_factory=list)
    gate: threading.Event = field(default_factory=threading.Event)
    held: threading.Event = field(default_factory=threading.Event)
    local: threading.local = field(default_factory=threading.local)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        real = SaleorConnector.push_availability

        def observed(connector: Any, ctx: Any, listing: dict[str, Any]) -> None:
            if getattr(self.local, "hold", False):
                self.held.set()
                assert self.gate.wait(30), "the held push was never let go"
            real(connector, ctx, listing)
            with self.lock:
                self.seen.append((int(listing["available"]),
                                  stocks(self.sandbox, self.product_id)))

        monkeypatch.setattr(SaleorConnector, "push_availability", observed)

    def run(self, app: Flask, connection_id: int, hold: bool = False) -> PushReport:
        self.local.hold = hold
        return push(app, connection_id)


def test_stock_at_the_mall_never_goes_backwards_under_reordered_and_duplicated_pushes(
        mall_app: Flask, installed: dict[str, Any], sandbox: SaleorSandbox,
        monkeypatch: pytest.MonkeyPatch) -> None:
    connection_id = installed["connection"]["id"]
    box_id = installed["catalog"]["box"]["id"]
    assert push(mall_app, connection_id).listed == [box_id]
    [product] = box_products(sandbox, box_id)
    pushes = StockPushes(sandbox, product["id"])
    pushes.install(monkeypatch)
    # The hub's availability after each change, in order; each value distinct, so a value at
    # the mall tells which state of the hub it came from.
    versions = [availability(mall_app, installed)]

    def change(on_hand: int) -> None:
        set_stock(installed, on_hand)
        versions.append(availability(mall_app, installed))

    # Interleaved: up, down, down; each push after its change.
    for on_hand in (8, 20, 2):
        change(on_hand)
        assert pushes.run(mall_app, connection_id).stock_only == [box_id]

    # Duplicated: the same push twice at once.
    change(50)
    start = threading.Barrier(2)

    def together(_: int) -> PushReport:
        start.wait()
        return pushes.run(mall_app, connection_id)

    with ThreadPoolExecutor(max_workers=2) as pool:
        twice = list(pool.map(together, range(2)))
    assert sum(len(report.stock_only) for report in twice) >= 1

    # Reordered: the push triggered by a change computes, then is held before it calls the
    # mall; a second change and its push go ahead, then the first push is let go.
    change(14)
    with ThreadPoolExecutor(max_workers=3) as pool:
        first = pool.submit(pushes.run, mall_app, connection_id, True)
        assert pushes.held.wait(10), "the first push never reached the mall"
        changed = pool.submit(change, 36)
        # Where the first push's transaction keeps the change waiting, nothing can overtake.
        second = pool.submit(pushes.run, mall_app, connection_id) \
            if _finished(changed, 2) else None
        if second is not None:
            _finished(second, 5)
        pushes.gate.set()
        first.result(timeout=30)
        changed.result(timeout=30)
        if second is None:
            second = pool.submit(pushes.run, mall_app, connection_id)
        second.result(timeout=30)

    assert len(set(versions)) == len(versions) == 7, versions
    order = {value: index for index, value in enumerate(versions)}
    for computed, held in pushes.seen:
        assert set(held) == {computed}, pushes.seen  # the mall holds what the push computed
    states = [order[computed] for computed, _ in pushes.seen]
    assert states == sorted(states), (f"the mall went back to an older availability: pushed "
                                      f"{[c for c, _ in pushes.seen]}, hub states {versions}")
    current = availability(mall_app, installed)
    assert current == versions[-1] == 18
    assert set(stocks(sandbox, product["id"])) == {current}


def _finished(future: Any, seconds: float) -> bool:
    """Whether the future finished within `seconds` (a bound, not a measurement)."""
    try:
        future.result(timeout=seconds)
    except TimeoutError:
        return False
    return True
