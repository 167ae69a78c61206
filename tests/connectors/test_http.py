"""The transport's failure table, retries, rate-limit waits, size caps and untrusted JSON,
against `responses` fakes (tests/connectors/test_http_*.py cover limits and addresses)."""

from __future__ import annotations

import gzip
import logging
import random
import socket
from email.utils import formatdate
from typing import Any

import pytest
import redis
import requests
import responses
from redis.backoff import NoBackoff
from redis.retry import Retry
from urllib3.exceptions import MaxRetryError, NewConnectionError, ReadTimeoutError

from connectors.http import FAILURE_TABLE, HttpClient, RefusedAddress, ResponseTooLarge, json_body
from hub.errors import (
    ConfigurationError,
    ConnectorFailure,
    FailureKind,
    RateLimited,
    RecordError,
    TransientError,
)
from tests.connectors.http_support import FakeClock, connection_id, guard_sockets

URL = "https://mall.test/graphql/"
KIND_CLASS = {FailureKind.TRANSIENT: TransientError, FailureKind.RATE_LIMITED: RateLimited,
              FailureKind.CONFIGURATION: ConfigurationError, FailureKind.RECORD: RecordError}


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    return guard_sockets(monkeypatch)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def resolve(host: str, port: int) -> list[str]:
    """mall.test is the fake platform; private.test resolves to a private address."""
    if host == "nxdomain.test":
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return ["10.0.0.7"] if host == "private.test" else ["127.0.0.1"]


def make_client(clock: FakeClock, **options: Any) -> HttpClient:
    defaults: dict[str, Any] = {
        "allow_hosts": ["mall.test"], "resolve": resolve, "sleep": clock.sleep,
        "clock": clock, "rng": random.Random(7), "max_attempts": 1, "burst": 1000,
        "rate_per_second": 1000.0, "breaker_failures": 1000}
    return HttpClient(connection_id(), **{**defaults, **options})


def wrapped(reason: Exception) -> requests.exceptions.ConnectionError:
    return requests.exceptions.ConnectionError(MaxRetryError(None, URL, reason))  # type: ignore[arg-type]


# One case per row of FAILURE_TABLE: (row key, how to provoke it).
STATUS_ROWS: list[tuple[int | str, int]] = [
    (400, 400), (401, 401), (403, 403), (404, 404), (408, 408), (409, 409), (413, 413),
    (422, 422), (429, 429), (503, 503), ("3xx", 304), ("4xx", 410), ("5xx", 502)]
EXCEPTION_ROWS: list[tuple[Any, Any]] = [
    (requests.exceptions.SSLError, requests.exceptions.SSLError("certificate verify failed")),
    (requests.exceptions.ContentDecodingError, requests.exceptions.ContentDecodingError()),
    (NewConnectionError, wrapped(NewConnectionError(None, "refused"))),  # type: ignore[arg-type]
    (requests.exceptions.ConnectTimeout, requests.exceptions.ConnectTimeout()),
    (requests.exceptions.ReadTimeout, requests.exceptions.ReadTimeout()),
    (ReadTimeoutError, requests.exceptions.ConnectionError(
        ReadTimeoutError(None, URL, "read timed out"))),  # type: ignore[arg-type]
    (requests.exceptions.ChunkedEncodingError, requests.exceptions.ChunkedEncodingError()),
    (requests.exceptions.ConnectionError, requests.exceptions.ConnectionError("reset")),
    (requests.exceptions.RequestException, requests.exceptions.RequestException("?")),
]


def provoke(key: Any, clock: FakeClock) -> ConnectorFailure:
    """Run the one request that lands on the row `key`, and return what it raised."""
    client, url = make_client(clock, max_response_bytes=10), URL
    statuses = dict(STATUS_ROWS)
    if key in statuses:
        responses.add(responses.POST, URL, status=statuses[key])
    elif key in dict(EXCEPTION_ROWS):
        responses.add(responses.POST, URL, body=dict(EXCEPTION_ROWS)[key])
    elif key is requests.exceptions.TooManyRedirects:
        responses.add(responses.POST, URL, status=307, headers={"Location": URL})
    elif key is ResponseTooLarge:
        responses.add(responses.POST, URL, body=b"x" * 11)
    elif key is RefusedAddress:
        url = "https://private.test/graphql/"
    elif key is socket.gaierror:
        url = "https://nxdomain.test/graphql/"
    elif key is requests.exceptions.InvalidURL:
        url = "https://"
    elif key is requests.exceptions.MissingSchema:
        url = "mall.test/graphql/"
    elif key is redis.exceptions.RedisError:  # the shared bucket's Redis does not answer
        client = make_client(clock, redis=redis.Redis(port=1, retry=Retry(NoBackoff(), 0)))
    body: dict[str, Any] = {"query": "{ shop { name } }"}
    headers = {"Authorization": "Bearer t0k3n"}
    if key is requests.exceptions.InvalidJSONError:
        body["price"] = float("nan")
    elif key is requests.exceptions.InvalidHeader:
        headers["Authorization"] += "\r\n"
    with pytest.raises(ConnectorFailure) as raised:
        client.request("POST", url, json=body, headers=headers)
    return raised.value


CASES = [key for key, _ in STATUS_ROWS] + [key for key, _ in EXCEPTION_ROWS] + [
    requests.exceptions.TooManyRedirects, ResponseTooLarge, RefusedAddress, socket.gaierror,
    requests.exceptions.InvalidURL, requests.exceptions.MissingSchema, redis.exceptions.RedisError,
    requests.exceptions.InvalidHeader, requests.exceptions.InvalidJSONError]


def test_every_row_of_the_table_has_a_case() -> None:
    assert set(CASES) == set(FAILURE_TABLE)


@responses.activate
@pytest.mark.parametrize("key", CASES, ids=str)
def test_each_row_classifies_its_failure(key: Any, clock: FakeClock) -> None:
    rule = FAILURE_TABLE[key]
    failure = provoke(key, clock)
    assert type(failure) is KIND_CLASS[rule.kind]
    assert failure.message.startswith(rule.message)
    if isinstance(failure, ConfigurationError):
        assert failure.fix == rule.fix and failure.fix
    if isinstance(key, int):
        assert failure.status == key
    assert clock.sleeps == [] or isinstance(failure, RateLimited)


@responses.activate
def test_credentials_refused_say_what_a_person_must_do(clock: FakeClock) -> None:
    for status, words in ((401, "re-install the app"), (403, "permission")):
        responses.add(responses.GET, URL, status=status)
        with pytest.raises(ConfigurationError) as raised:
            make_client(clock, max_attempts=4).request("GET", URL)
        assert words in raised.value.fix
    assert len(responses.calls) == 2 and clock.sleeps == [], "never retried"


@responses.activate
@pytest.mark.parametrize(("headers", "wait"), [
    ({"Retry-After": "7"}, 7.0),
    ({"Retry-After": formatdate(1_700_000_045, usegmt=True)}, 45.0),
    ({"Retry-After": formatdate(1_600_000_000, usegmt=True)}, 1.0),  # past: the minimum
    ({"X-RateLimit-Reset": "12"}, 12.0),
    ({"X-RateLimit-Reset": "1700000020"}, 20.0),  # a Unix time
    ({"Retry-After": "soon", "X-RateLimit-Reset": "3"}, 3.0),
    ({}, 10.0),  # no hint: the default
])
def test_a_rate_limit_waits_as_the_platform_says(headers: dict[str, str], wait: float,
                                                 clock: FakeClock) -> None:
    responses.add(responses.GET, URL, status=429, headers=headers)
    responses.add(responses.GET, URL, json={"ok": True})
    response = make_client(clock).request("GET", URL)
    assert response.json() == {"ok": True}
    assert clock.sleeps == [wait]


@responses.activate
def test_a_platform_header_can_be_configured(clock: FakeClock) -> None:
    responses.add(responses.GET, URL, status=429, headers={"X-Naver-Retry": "4"})
    responses.add(responses.GET, URL)
    make_client(clock, rate_limit_headers=["X-Naver-Retry"]).request("GET", URL)
    assert clock.sleeps == [4.0]


@responses.activate
def test_503_with_retry_after_is_a_rate_limit_and_without_it_transient(
        clock: FakeClock) -> None:
    responses.add(responses.GET, URL, status=503, headers={"Retry-After": "120"})
    responses.add(responses.GET, URL, status=503)
    client = make_client(clock)
    with pytest.raises(RateLimited) as limited:
        client.request("GET", URL)
    assert (limited.value.wait_seconds, limited.value.status) == (120.0, 503)
    with pytest.raises(TransientError):
        client.request("GET", URL)


@responses.activate
def test_rate_limit_waits_count_no_attempt(clock: FakeClock) -> None:
    for status in (500, 429, 500, 429, 429, 200):
        responses.add(responses.GET, URL, status=status, headers={"Retry-After": "2"})
    response = make_client(clock, max_attempts=3).request("GET", URL)
    assert response.status_code == 200 and len(responses.calls) == 6
    assert [s for s in clock.sleeps if s == 2.0] == [2.0, 2.0, 2.0]


@responses.activate
def test_transient_failures_stop_after_max_attempts(clock: FakeClock) -> None:
    responses.add(responses.GET, URL, status=502)
    with pytest.raises(TransientError):
        make_client(clock, max_attempts=4).request("GET", URL)
    assert len(responses.calls) == 4 and len(clock.sleeps) == 3


@responses.activate
def test_rate_limit_waits_are_bounded_then_the_job_is_told(clock: FakeClock) -> None:
    responses.add(responses.GET, URL, status=429, headers={"Retry-After": "30"})
    with pytest.raises(RateLimited) as raised:
        make_client(clock, max_rate_limit_wait=60).request("GET", URL)
    assert clock.sleeps == [30.0, 30.0] and len(responses.calls) == 3
    assert raised.value.wait_seconds == 30.0


class HighestRandom(random.Random):
    def uniform(self, a: float, b: float) -> float:
        return b


@responses.activate
def test_backoff_is_exponential_and_capped(clock: FakeClock) -> None:
    responses.add(responses.GET, URL, status=500)
    with pytest.raises(TransientError):
        make_client(clock, max_attempts=7, backoff_base=1, backoff_cap=4,
                    rng=HighestRandom()).request("GET", URL)
    assert clock.sleeps == [1, 2, 4, 4, 4, 4]


@responses.activate
def test_backoff_is_fully_jittered(clock: FakeClock) -> None:
    responses.add(responses.GET, URL, status=500)
    with pytest.raises(TransientError):
        make_client(clock, max_attempts=7, backoff_base=1, backoff_cap=4).request("GET", URL)
    bounds = [1, 2, 4, 4, 4, 4]
    assert all(0 <= wait <= bound for wait, bound in zip(clock.sleeps, bounds, strict=True))
    assert len(set(clock.sleeps)) == 6 and clock.sleeps != bounds


@responses.activate
@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 413, 422])
def test_configuration_and_record_errors_are_never_retried(status: int,
                                                           clock: FakeClock) -> None:
    responses.add(responses.PUT, URL, status=status)
    with pytest.raises((ConfigurationError, RecordError)):
        make_client(clock, max_attempts=4).request("PUT", URL, json={})
    assert len(responses.calls) == 1 and clock.sleeps == []


@responses.activate
def test_a_post_is_resent_only_when_it_cannot_have_arrived(clock: FakeClock) -> None:
    client = make_client(clock, max_attempts=4)
    responses.add(responses.POST, URL, status=500)
    with pytest.raises(TransientError):
        client.request("POST", URL, json={"mutation": 1})
    assert len(responses.calls) == 1, "a 500 may have done the work: not resent"
    responses.replace(responses.POST, URL, body=wrapped(
        NewConnectionError(None, "refused")))  # type: ignore[arg-type]
    with pytest.raises(TransientError):
        client.request("POST", URL, json={"mutation": 1})
    assert len(responses.calls) == 1 + 4, "never connected: resent"
    responses.replace(responses.POST, URL, status=500)
    with pytest.raises(TransientError):
        client.request("POST", URL, json={"query": 1}, idempotent=True)
    assert len(responses.calls) == 5 + 4, "the caller says it is idempotent"


@responses.activate
def test_a_redirect_is_followed_by_hand(clock: FakeClock) -> None:
    responses.add(responses.POST, URL, status=307, headers={"Location": "/graphql/v2"})
    responses.add(responses.POST, "https://mall.test/graphql/v2", json={"data": {}})
    response = make_client(clock).request("POST", URL, json={"query": "{ a }"})
    assert response.json() == {"data": {}}
    assert responses.calls[1].request.body == b'{"query": "{ a }"}'


@responses.activate
def test_every_call_has_connect_and_read_timeouts(clock: FakeClock) -> None:
    responses.add(responses.GET, URL)
    client = make_client(clock, connect_timeout=3, read_timeout=20)
    client.request("GET", URL)
    client.request("GET", URL, timeout=8)
    sent = [call.request.req_kwargs["timeout"] for call in responses.calls]  # type: ignore[attr-defined]
    assert sent == [(3, 20), (3, 8)]


@responses.activate
def test_an_answer_over_the_cap_is_a_record_error(clock: FakeClock) -> None:
    client = make_client(clock, max_response_bytes=64 * 1024)
    responses.add(responses.GET, URL, body=b"x" * (64 * 1024))
    assert len(client.request("GET", URL).content) == 64 * 1024, "at the cap is fine"
    responses.replace(responses.GET, URL, body=b"x" * (64 * 1024 + 1))
    with pytest.raises(RecordError, match="size cap"):
        client.request("GET", URL)
    bomb = gzip.compress(b"0" * (8 * 1024 * 1024))  # 8 KiB on the wire, 8 MiB unpacked
    responses.replace(responses.GET, URL, body=bomb, headers={"Content-Encoding": "gzip"},
                      auto_calculate_content_length=False)
    with pytest.raises(RecordError, match="size cap"):
        client.request("GET", URL)


@pytest.mark.parametrize("body", [b"<html>oops</html>", b"", b"NaN", b"1", b'"text"', b"null",
                                  b"\xff\xfe", b"[" * 100_000 + b"]" * 100_000])
def test_an_answer_that_is_not_a_json_object_or_array_is_a_record_error(body: bytes) -> None:
    response = requests.Response()
    response._content, response.status_code, response.url = body, 200, URL + "?key=s3cr3t"
    with pytest.raises(RecordError) as raised:
        json_body(response)
    assert "s3cr3t" not in raised.value.message


def test_json_objects_and_arrays_are_returned() -> None:
    for body, value in ((b'{"a": [1]}', {"a": [1]}), (b"[]", [])):
        response = requests.Response()
        response._content = body
        assert HttpClient.json_body(response) == value


@responses.activate
def test_logs_carry_method_host_path_status_attempt_and_never_secrets(
        clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    secret = "tok_9f8e7d6c5b4a"
    responses.add(responses.POST, URL, status=500)
    responses.add(responses.POST, URL, status=422, body='{"error": "bad field"}')
    with caplog.at_level(logging.DEBUG, logger="gudok.connectors.http"), \
            pytest.raises(RecordError) as raised:
        make_client(clock, max_attempts=2).request(
            "POST", URL, params={"api_key": secret}, json={"password": secret},
            headers={"Authorization": f"Bearer {secret}"}, idempotent=True)
    assert secret not in caplog.text and secret not in raised.value.message
    assert "POST mall.test/graphql/ -> 500 attempt 1: transient" in caplog.text
    assert "POST mall.test/graphql/ -> 422 attempt 2: record" in caplog.text
    assert raised.value.message.endswith('answered 422: {"error": "bad field"}')
