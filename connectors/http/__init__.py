"""One transport for every connector: bounded timeouts, one failure table (failures.py), retries
by the taxonomy of hub/errors.py, a shared token bucket and circuit breaker per connection
(limits.py), capped and untrusted responses, and SSRF-safe pinned connections (addresses.py)."""

from __future__ import annotations

import json as jsonlib
import logging
import random
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import urljoin, urlsplit

import requests

from connectors.http.addresses import (
    AllowList,
    PinnedAdapter,
    PinnedRequest,
    Resolver,
    Target,
    check_url,
    resolve_host,
)
from connectors.http.failures import (
    FAILURE_TABLE,
    RefusedAddress,
    ResponseTooLarge,
    Rule,
    build_failure,
    rule_for_exception,
    rule_for_status,
    wait_from_headers,
)
from connectors.http.limits import (
    BreakerState,
    CircuitBreaker,
    RedisCircuitBreaker,
    RedisTokenBucket,
    TokenBucket,
    local_breaker,
    local_bucket,
)
from hub.errors import ConnectorFailure, FailureKind, RateLimited, RecordError, TransientError

if TYPE_CHECKING:
    from redis import Redis

    from hub.settings import Settings

__all__ = ["FAILURE_TABLE", "BreakerState", "HttpClient", "RefusedAddress", "ResponseTooLarge",
           "client_for", "json_body"]

log = logging.getLogger("gudok.connectors.http")

MiB = 1024 * 1024
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
CREDENTIAL_HEADERS = ("authorization", "proxy-authorization", "cookie")
DEFAULT_HEADERS = {"User-Agent": "gudok-hub", "Accept": "application/json",
                   "Accept-Encoding": "gzip, deflate"}
CHUNK = 64 * 1024


class _Failed(Exception):
    """One attempt's classified failure, with the row that classified it."""

    def __init__(self, failure: ConnectorFailure, rule: Rule, *, final: bool = False) -> None:
        super().__init__(failure.message)
        self.failure, self.rule, self.final = failure, rule, final


@dataclass
class _Waits:
    spent: float = 0.0


class HttpClient:
    """The transport of one connection. `request` returns only 2xx answers, their body read
    and capped; every other outcome is raised as a hub.errors failure."""

    def __init__(self, connection_id: int | str, *, allow_hosts: Iterable[str] = (),
                 allow_only: bool = False,
                 connect_timeout: float = 5.0, read_timeout: float = 30.0,
                 max_response_bytes: int = 5 * MiB, max_attempts: int = 4,
                 backoff_base: float = 0.5, backoff_cap: float = 30.0,
                 max_rate_limit_wait: float = 60.0, default_rate_limit_wait: float = 10.0,
                 rate_limit_headers: Sequence[str] = ("X-RateLimit-Reset",),
                 rate_per_second: float = 5.0, burst: int = 10,
                 breaker_failures: int = 5, breaker_cooldown: float = 30.0,
                 redis: Redis | None = None, verify: bool | str = True,
                 default_headers: Mapping[str, str] | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] | None = None,
                 rng: random.Random | None = None, resolve: Resolver = resolve_host) -> None:
        if min(connect_timeout, read_timeout, rate_per_second) <= 0 or min(
                max_response_bytes, max_attempts, burst, breaker_failures) < 1:
            raise ValueError("timeouts, rate, size cap, attempts, burst and breaker "
                             "threshold must be positive")
        self.connection_id = str(connection_id)
        self.allow = AllowList(allow_hosts, only=allow_only)
        self.timeout = (connect_timeout, read_timeout)
        self.max_response_bytes = max_response_bytes
        self.max_attempts = max_attempts
        self.backoff_base, self.backoff_cap = backoff_base, backoff_cap
        self.max_rate_limit_wait = max_rate_limit_wait
        self.default_rate_limit_wait = default_rate_limit_wait
        self.rate_limit_headers = tuple(rate_limit_headers)
        self.verify = verify
        self.default_headers = {**DEFAULT_HEADERS, **(default_headers or {})}
        self._sleep = sleep
        self._clock = clock or time.time
        # Shared buckets use the Redis server's clock unless a test injects one.
        self._bucket_clock = self._clock if clock is not None or redis is None else None
        self._rng = rng or random.Random()
        self._resolve = resolve
        self._adapter = PinnedAdapter()
        self._bucket: TokenBucket
        self._breaker: CircuitBreaker
        if redis is not None:
            self._bucket = RedisTokenBucket(redis, self.connection_id, rate_per_second, burst)
            self._breaker = RedisCircuitBreaker(redis, self.connection_id, breaker_failures,
                                                breaker_cooldown)
        else:
            self._bucket = local_bucket(self.connection_id, rate_per_second, burst)
            self._breaker = local_breaker(self.connection_id, breaker_failures,
                                          breaker_cooldown)

    def close(self) -> None:
        self._adapter.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def breaker_state(self) -> BreakerState:
        """The connection's circuit as every worker sees it, for the operator view."""
        return self._breaker.state(self._clock())

    @staticmethod
    def json_body(response: requests.Response) -> dict[str, Any] | list[Any]:
        """See the module's json_body: the answer parsed as untrusted input."""
        return json_body(response)

    def request(self, method: str, url: str, *, json: Any = None, data: Any = None,
                params: Mapping[str, Any] | None = None,
                headers: Mapping[str, str] | None = None,
                timeout: float | tuple[float, float] | None = None,
                idempotent: bool | None = None) -> requests.Response:
        """Send with retries: transient failures back off and count attempts; rate limits wait
        without counting, within max_rate_limit_wait. A POST is resent only when it cannot have
        reached the platform, unless the caller says it is idempotent."""
        method = method.upper()
        resend_ok = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        # A connector's own timeout can only shorten the configured ones, never lengthen them.
        bounds = self.timeout if timeout is None else (
            (min(self.timeout[0], timeout[0]), min(self.timeout[1], timeout[1]))
            if isinstance(timeout, tuple) else
            (min(self.timeout[0], timeout), min(self.timeout[1], timeout)))
        waits, attempt = _Waits(), 1
        while True:
            try:
                return self._attempt(method, url, json, data, params, headers or {}, bounds,
                                     attempt, waits)
            except _Failed as failed:
                failure, may_resend = failed.failure, resend_ok or failed.rule.unprocessed
                if failed.final:
                    pass
                elif isinstance(failure, RateLimited):
                    if may_resend and waits.spent + failure.wait_seconds \
                            <= self.max_rate_limit_wait:
                        self._sleep(failure.wait_seconds)
                        waits.spent += failure.wait_seconds
                        continue
                elif isinstance(failure, TransientError) and may_resend \
                        and attempt < self.max_attempts:
                    self._sleep(self._backoff(attempt))
                    attempt += 1
                    continue
                raise failure from None

    def _backoff(self, attempt: int) -> float:
        """Full jitter (AWS): uniform in [0, min(cap, base * 2^(attempt-1))]."""
        return self._rng.uniform(0, min(self.backoff_cap,
                                        self.backoff_base * 2 ** (attempt - 1)))

    def _attempt(self, method: str, url: str, json: Any, data: Any,
                 params: Mapping[str, Any] | None, headers: Mapping[str, str],
                 timeout: tuple[float, float], attempt: int, waits: _Waits) -> requests.Response:
        """One attempt: a token, the breaker's leave, one exchange, then its classification."""
        where = _where(url)
        try:
            self._take_token(waits)
            self._admit()
        except _Failed:
            raise
        except Exception as error:
            self._failed(method, where, attempt, error, counts_for_breaker=False)
        try:
            response = self._exchange(method, url, json, data, params, headers, timeout)
            where, status = _where(response.url or url), response.status_code
            if 200 <= status < 300:
                self._read_capped(response)
        except Exception as error:
            self._failed(method, where, attempt, error, counts_for_breaker=True)
        if 200 <= status < 300:
            self._breaker.record_success()
            log.debug("%s %s -> %s attempt %d: ok", method, where, status, attempt)
            return response
        failure, rule = self._classify_answer(method, where, response)
        if isinstance(failure, TransientError):
            self._breaker.record_failure(self._clock())
        else:
            self._breaker.record_success()  # the platform answered: it is up
        self._log_failure(method, where, status, attempt, failure)
        raise _Failed(failure, rule)

    def _admit(self) -> None:
        """Refuse without calling while the connection's circuit is open (not retried here:
        the job reschedules)."""
        if self._breaker.admit(self._clock()):
            return
        state = self._breaker.state(self._clock())
        retry_in = max(0.0, (state.next_probe_at or 0) - self._clock())
        raise _Failed(TransientError(
            f"circuit open for connection {self.connection_id} after "
            f"{state.consecutive_failures} consecutive failures; next probe in "
            f"{retry_in:.0f}s"), FAILURE_TABLE["5xx"], final=True)

    def _classify_answer(self, method: str, where: str,
                         response: requests.Response) -> tuple[ConnectorFailure, Rule]:
        status = response.status_code
        rule = rule_for_status(status)
        message, wait = f"{rule.message}: {method} {where} answered {status}", None
        if rule.kind is FailureKind.RATE_LIMITED or (
                rule.retry_after_rate_limits and "Retry-After" in response.headers):
            wait = wait_from_headers(response.headers, self.rate_limit_headers, self._clock(),
                                     self.default_rate_limit_wait)
            message += f"; wait {wait:.0f}s"
        elif rule.kind is FailureKind.RECORD:
            message += _snippet(response)
        response.close()
        return build_failure(rule, message, status=status, wait_seconds=wait), rule

    def _failed(self, method: str, where: str, attempt: int, error: Exception, *,
                counts_for_breaker: bool) -> NoReturn:
        rule = rule_for_exception(error)
        if rule is None:
            raise error
        detail = str(error) if isinstance(error, RefusedAddress | ResponseTooLarge) else \
            _innermost(error)
        failure = build_failure(rule, f"{rule.message}: {method} {where}: {detail}")
        if counts_for_breaker and isinstance(failure, TransientError):
            self._breaker.record_failure(self._clock())
        self._log_failure(method, where, type(error).__name__, attempt, failure)
        raise _Failed(failure, rule) from None

    def _take_token(self, waits: _Waits) -> None:
        while (wait := self._bucket.take(
                self._bucket_clock() if self._bucket_clock else None)) > 0:
            if waits.spent + wait > self.max_rate_limit_wait:
                raise _Failed(RateLimited(
                    f"connection {self.connection_id} is over its own rate limit; "
                    f"wait {wait:.1f}s", wait_seconds=wait, status=None), FAILURE_TABLE[429])
            self._sleep(wait)
            waits.spent += wait

    def _exchange(self, method: str, url: str, json: Any, data: Any,
                  params: Mapping[str, Any] | None, headers: Mapping[str, str],
                  timeout: tuple[float, float]) -> requests.Response:
        """One send, following at most MAX_REDIRECTS redirects by hand, each target checked."""
        sent_headers = {**self.default_headers, **headers}
        origin: Target | None = None
        for hop in range(MAX_REDIRECTS + 1):
            request = PinnedRequest()
            request.prepare(method=method, url=url, headers=sent_headers, json=json, data=data,
                            params=params)
            target = check_url(request.url or url, self.allow, self._resolve, redirect=hop > 0)
            if origin is not None and (target.scheme, target.host, target.port) != (
                    origin.scheme, origin.host, origin.port):
                for name in [k for k in request.headers if k.lower() in CREDENTIAL_HEADERS]:
                    del request.headers[name]
            origin = origin or target
            request.target = target
            request.headers["Host"] = target.host_header
            response = self._adapter.send(request, stream=True, timeout=timeout,
                                          verify=self.verify)
            location = response.headers.get("Location")
            if response.status_code not in REDIRECTS or not location:
                return response
            response.close()
            url, params = urljoin(request.url or url, location), None
            if response.status_code == 303 or (response.status_code in (301, 302)
                                               and method == "POST"):
                method, json, data = "GET" if method != "HEAD" else method, None, None
                sent_headers = {k: v for k, v in sent_headers.items()
                                if k.lower() != "content-type"}
        raise requests.exceptions.TooManyRedirects(f"more than {MAX_REDIRECTS} redirects")

    def _read_capped(self, response: requests.Response) -> None:
        """Stream the (decoded) body and stop at max_response_bytes: no partner answer, not
        even a gzip bomb, can make a worker hold more than the cap."""
        cap = self.max_response_bytes
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > cap:
            response.close()
            raise ResponseTooLarge(f"Content-Length {declared} > {cap} bytes")
        body, size = [], 0
        for chunk in response.iter_content(CHUNK):
            size += len(chunk)
            if size > cap:
                response.close()
                raise ResponseTooLarge(f"more than {cap} bytes")
            body.append(chunk)
        response._content = b"".join(body)
        response.close()

    def _log_failure(self, method: str, where: str, status: int | str, attempt: int,
                     failure: ConnectorFailure) -> None:
        log.warning("%s %s -> %s attempt %d: %s", method, where, status, attempt, failure.kind)


def json_body(response: requests.Response) -> dict[str, Any] | list[Any]:
    """The body as a JSON object or array. Partner answers are untrusted: anything else (not
    JSON, NaN, a bare scalar, nesting deep enough to blow the stack) is a record error."""

    def refuse_constant(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    try:
        value = jsonlib.loads(response.content, parse_constant=refuse_constant)
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        raise RecordError(f"the platform's answer is not JSON ({type(error).__name__}) from "
                          f"{_where(response.url or '')}", status=response.status_code) from None
    if not isinstance(value, dict | list):
        raise RecordError(f"the platform's answer is JSON {type(value).__name__}, expected an "
                          f"object or array, from {_where(response.url or '')}",
                          status=response.status_code)
    return value


def client_for(settings: Settings, connection_id: int | str, redis: Redis | None = None,
               **overrides: Any) -> HttpClient:
    """The HttpClient of a connection from the hub's settings; a connector may override any
    keyword (e.g. its platform's rate limit or rate-limit header)."""
    options: dict[str, Any] = {
        "allow_hosts": settings.outbound_allow_hosts,
        "allow_only": settings.outbound_allow_only,
        "connect_timeout": settings.http_connect_timeout_seconds,
        "read_timeout": settings.http_timeout_seconds,
        "max_response_bytes": settings.http_max_response_bytes,
        "max_attempts": settings.http_max_attempts,
        "max_rate_limit_wait": settings.http_max_rate_limit_wait_seconds,
        "rate_per_second": settings.http_rate_limit_per_second,
        "burst": settings.http_rate_limit_burst,
        "breaker_failures": settings.http_breaker_failures,
        "breaker_cooldown": settings.http_breaker_cooldown_seconds,
    }
    options.update(overrides)
    return HttpClient(connection_id, redis=redis, **options)


def _where(url: str) -> str:
    """host/path for logs and messages: never the query string, which may carry a key."""
    parts = urlsplit(url)
    return f"{parts.hostname or '?'}{parts.path or '/'}"


def _innermost(error: BaseException) -> str:
    """The deepest cause's type, plus its text for TLS errors (the reason a person needs)."""
    while error.args and isinstance(error.args[0], BaseException):
        error = error.args[0]
    reason = getattr(error, "reason", None)
    if isinstance(reason, BaseException):
        error = reason
    if "SSL" in type(error).__name__:
        return f"{type(error).__name__}: {str(error)[:200]}"
    return type(error).__name__


def _snippet(response: requests.Response) -> str:
    """The first words of a record error's answer, stripped of control characters."""
    try:
        raw = response.raw.read(1024, decode_content=True) or b""
    except Exception:  # noqa: BLE001 - an unreadable error body is not a new failure
        return ""
    text = re.sub(r"[\x00-\x1f\x7f]+", " ", raw.decode("utf-8", "replace")).strip()
    return f": {text[:200]}" if text else ""
