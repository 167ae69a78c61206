"""The per-connection token bucket and circuit breaker, shared by every HttpClient of a
connection: through the real Redis (db 15) across workers, or in-process without Redis."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import redis
import requests
import responses

from connectors.http import HttpClient
from connectors.http.limits import LocalTokenBucket
from hub.errors import ConnectorFailure, RateLimited, TransientError
from tests.conftest import REDIS_URL
from tests.connectors.http_support import FakeClock, connection_id, guard_sockets

URL = "https://mall.test/api/orders"
STORES = ["redis", "in-process"]


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    return guard_sockets(monkeypatch)


@pytest.fixture
def shared_redis() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as error:
        pytest.exit(f"Redis is not answering at {REDIS_URL}: {error}", returncode=3)
    yield client
    client.close()


class Workers:
    """Several HttpClients of one connection, as separate worker processes would build them."""

    def __init__(self, store: str, shared_redis: redis.Redis) -> None:
        self.id = connection_id()
        self.redis = shared_redis if store == "redis" else None
        self.clock = FakeClock()

    def client(self, **options: Any) -> HttpClient:
        defaults: dict[str, Any] = {
            "allow_hosts": ["mall.test"], "resolve": lambda host, port: ["127.0.0.1"],
            "redis": self.redis, "clock": self.clock, "sleep": self.clock.sleep,
            "max_attempts": 1}
        return HttpClient(self.id, **{**defaults, **options})

    def cleanup(self) -> None:
        if self.redis is not None:
            self.redis.delete(f"gudok:ratelimit:{self.id}", f"gudok:breaker:{self.id}")


@pytest.fixture(params=STORES)
def workers(request: pytest.FixtureRequest, shared_redis: redis.Redis) -> Iterator[Workers]:
    group = Workers(request.param, shared_redis)
    yield group
    group.cleanup()


@responses.activate
def test_the_token_bucket_is_shared_by_every_client_of_a_connection(workers: Workers) -> None:
    responses.add(responses.GET, URL)
    first, second = (workers.client(rate_per_second=2, burst=3) for _ in range(2))
    for client in (first, second, first):
        client.request("GET", URL)
    assert workers.clock.sleeps == [], "the burst is spent without waiting"
    second.request("GET", URL)
    first.request("GET", URL)
    assert workers.clock.sleeps == [0.5, 0.5], "then one token per 1/rate seconds"
    other = HttpClient(connection_id(), allow_hosts=["mall.test"], redis=workers.redis,
                       resolve=lambda host, port: ["127.0.0.1"], clock=workers.clock,
                       sleep=workers.clock.sleep, rate_per_second=2, burst=3)
    other.request("GET", URL)
    assert workers.clock.sleeps == [0.5, 0.5], "another connection has its own bucket"
    if workers.redis is not None:
        assert workers.redis.exists(f"gudok:ratelimit:{workers.id}")
        workers.redis.delete(f"gudok:ratelimit:{other.connection_id}")


@responses.activate
def test_a_wait_longer_than_the_budget_is_handed_to_the_job(workers: Workers) -> None:
    responses.add(responses.GET, URL)
    first, second = (workers.client(rate_per_second=0.01, burst=1, max_rate_limit_wait=60)
                     for _ in range(2))
    first.request("GET", URL)
    with pytest.raises(RateLimited) as raised:
        second.request("GET", URL)
    assert raised.value.wait_seconds == pytest.approx(100)
    assert workers.clock.sleeps == [] and len(responses.calls) == 1


@responses.activate
def test_the_redis_bucket_uses_the_servers_clock_across_hosts(shared_redis: redis.Redis) -> None:
    responses.add(responses.GET, URL)
    key = connection_id()
    first, second = (HttpClient(key, allow_hosts=["mall.test"], redis=shared_redis,
                                resolve=lambda host, port: ["127.0.0.1"], rate_per_second=0.01,
                                burst=1) for _ in range(2))
    try:
        first.request("GET", URL)
        with pytest.raises(RateLimited) as raised:
            second.request("GET", URL)
        assert 99 < raised.value.wait_seconds <= 100
    finally:
        shared_redis.delete(f"gudok:ratelimit:{key}")


def test_the_in_process_bucket_is_thread_safe() -> None:
    bucket = LocalTokenBucket(rate=1.0, burst=5)
    waits: list[float] = []
    threads = [threading.Thread(target=lambda: waits.append(bucket.take(100.0)))
               for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert waits.count(0.0) == 5 and len(waits) == 40


@responses.activate
def test_the_breaker_opens_refuses_without_calling_and_half_opens(workers: Workers) -> None:
    responses.add(responses.GET, URL, status=502)
    first, second = (workers.client(breaker_failures=3, breaker_cooldown=30)
                     for _ in range(2))
    for client in (first, second, first):
        with pytest.raises(TransientError):
            client.request("GET", URL)
    state = second.breaker_state()
    assert (state.state, state.consecutive_failures) == ("open", 3)
    assert state.next_probe_at == workers.clock.now + 30
    with pytest.raises(TransientError, match="circuit open"):
        second.request("GET", URL)
    assert len(responses.calls) == 3, "an open circuit does not call the platform"

    workers.clock.now += 30
    assert first.breaker_state().state == "half_open"
    responses.replace(responses.GET, URL, status=200)
    assert second.request("GET", URL).status_code == 200
    state = first.breaker_state()
    assert (state.state, state.consecutive_failures) == ("closed", 0)


@responses.activate
def test_a_half_open_circuit_lets_one_call_through_and_a_failed_probe_reopens_it(
        workers: Workers) -> None:
    first, second = (workers.client(breaker_failures=1, breaker_cooldown=30)
                     for _ in range(2))
    responses.add(responses.GET, URL, status=500)
    with pytest.raises(TransientError):
        first.request("GET", URL)
    workers.clock.now += 30
    refused: list[str] = []

    def probe(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        try:  # while the probe is in flight, the other worker is refused
            second.request("GET", URL)
        except TransientError as failure:
            refused.append(failure.message)
        return 503, {}, ""

    responses.remove(responses.GET, URL)
    responses.add_callback(responses.GET, URL, callback=probe)
    with pytest.raises(TransientError):
        first.request("GET", URL)
    assert len(refused) == 1 and "circuit open" in refused[0]
    state = second.breaker_state()
    assert (state.state, state.opened_at) == ("open", workers.clock.now), "re-opened"


@responses.activate
def test_answers_that_are_not_transient_close_the_breaker(workers: Workers) -> None:
    client = workers.client(breaker_failures=3)
    for status in (500, 500, 422, 500, 500):
        responses.add(responses.GET, URL, status=status)
        with pytest.raises(ConnectorFailure):
            client.request("GET", URL)
    assert client.breaker_state().state == "closed"
    assert client.breaker_state().consecutive_failures == 2
