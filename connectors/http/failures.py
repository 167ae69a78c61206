"""The one table that classifies every HTTP failure into the taxonomy of hub/errors.py.

After the Airbyte CDK's error mapping: a status code, a status class ("4xx") or an exception
type maps to a Rule, and the Rule alone decides what the transport and the job do next."""

from __future__ import annotations

import math
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from types import MappingProxyType

import redis
import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError, ReadTimeoutError

from hub.errors import (
    ConfigurationError,
    ConnectorFailure,
    FailureKind,
    RateLimited,
    RecordError,
    TransientError,
)

TRANSIENT, RATE_LIMITED = FailureKind.TRANSIENT, FailureKind.RATE_LIMITED
CONFIGURATION, RECORD = FailureKind.CONFIGURATION, FailureKind.RECORD

MIN_RATE_LIMIT_WAIT = 1.0       # a "Retry-After: 0" loop must still cost time, or it never ends
MAX_RATE_LIMIT_WAIT = 86400.0   # a platform asking for more than a day is asking to reschedule
UNIX_TIME_THRESHOLD = 1e9       # a reset header larger than this is a Unix time, not seconds


class RefusedAddress(Exception):
    """An outbound URL whose scheme or resolved address the hub must not connect to."""


class ResponseTooLarge(Exception):
    """A partner answer longer than the connection's max_response_bytes."""


@dataclass(frozen=True)
class Rule:
    """One row of FAILURE_TABLE."""

    kind: FailureKind
    message: str
    fix: str = ""                  # configuration errors: what a person must do
    unprocessed: bool = False      # the platform cannot have acted: safe to resend even a POST
    retry_after_rate_limits: bool = False  # with a Retry-After header, a rate limit instead


FIX_CREDENTIALS = ("Check the connection's token or API key; for an installed app (Saleor), "
                   "re-install the app on the platform so it issues a new token.")
FIX_PERMISSIONS = ("Grant the permission the call needs: re-install the app with the permissions "
                   "it asks for, or use a token with the right scopes.")
FIX_ADDRESS = ("Use the platform's public URL. For a local sandbox, add its host or IP to "
               "outbound_allow_hosts (GUDOK_OUTBOUND_ALLOW_HOSTS).")
FIX_TLS = ("Check that the URL's host name matches the platform's certificate and that the "
           "certificate is valid; a sandbox with its own CA needs that CA configured.")
FIX_URL = "Check the connection's URL: scheme http or https, a host, no typo."
FIX_HEADER = "Check the connection's token or API key for stray spaces or line breaks."

FAILURE_TABLE: Mapping[int | str | type[BaseException], Rule] = MappingProxyType({
    # Answers. An exact status wins over its class ("4xx").
    400: Rule(RECORD, "the platform rejected the request as malformed"),
    401: Rule(CONFIGURATION, "the platform did not accept the credentials", FIX_CREDENTIALS),
    403: Rule(CONFIGURATION, "the credentials lack a permission", FIX_PERMISSIONS),
    404: Rule(RECORD, "the record does not exist on the platform"),
    408: Rule(TRANSIENT, "the platform timed out reading the request"),
    409: Rule(RECORD, "the record conflicts with the platform's state"),
    413: Rule(RECORD, "the platform refused the request as too large"),
    422: Rule(RECORD, "the platform rejected the record's content"),
    429: Rule(RATE_LIMITED, "the platform's rate limit was reached", unprocessed=True),
    503: Rule(TRANSIENT, "the platform is unavailable", retry_after_rate_limits=True),
    "3xx": Rule(CONFIGURATION, "the platform redirected without a usable Location", FIX_URL),
    "4xx": Rule(RECORD, "the platform refused the request"),
    "5xx": Rule(TRANSIENT, "the platform failed"),
    # Failures without an answer. The most specific type in the exception's MRO wins; the
    # urllib3 reason inside a requests exception is looked up first.
    RefusedAddress: Rule(CONFIGURATION, "refused outbound address", FIX_ADDRESS),
    requests.exceptions.SSLError: Rule(CONFIGURATION, "TLS verification failed", FIX_TLS),
    requests.exceptions.TooManyRedirects: Rule(CONFIGURATION, "too many redirects", FIX_URL),
    requests.exceptions.InvalidURL: Rule(CONFIGURATION, "the URL is not valid", FIX_URL),
    requests.exceptions.MissingSchema: Rule(CONFIGURATION, "the URL has no scheme", FIX_URL),
    requests.exceptions.InvalidHeader: Rule(CONFIGURATION, "a header value is not valid",
                                            FIX_HEADER),
    requests.exceptions.InvalidJSONError: Rule(RECORD, "the record cannot be sent as JSON"),
    ResponseTooLarge: Rule(RECORD, "the answer exceeded the response size cap"),
    requests.exceptions.ContentDecodingError: Rule(RECORD, "the answer could not be decoded"),
    socket.gaierror: Rule(TRANSIENT, "the host name did not resolve", unprocessed=True),
    NewConnectionError: Rule(TRANSIENT, "could not connect", unprocessed=True),
    requests.exceptions.ConnectTimeout: Rule(TRANSIENT, "connecting timed out", unprocessed=True),
    requests.exceptions.ReadTimeout: Rule(TRANSIENT, "the platform did not answer in time"),
    ReadTimeoutError: Rule(TRANSIENT, "the platform did not answer in time"),
    requests.exceptions.ChunkedEncodingError: Rule(TRANSIENT, "the answer was cut off"),
    requests.exceptions.ConnectionError: Rule(TRANSIENT, "the connection failed"),
    requests.exceptions.RequestException: Rule(TRANSIENT, "the request failed"),
    redis.exceptions.RedisError: Rule(TRANSIENT, "the shared rate-limit store did not answer",
                                      unprocessed=True),
})


def rule_for_status(status: int) -> Rule:
    """The exact row for a status, else its class row; 1xx and 3xx fall to "3xx"."""
    exact = FAILURE_TABLE.get(status)
    if exact is not None:
        return exact
    return FAILURE_TABLE["5xx" if status >= 500 else "4xx" if status >= 400 else "3xx"]


def rule_for_exception(error: BaseException) -> Rule | None:
    """The row of the most specific known type, looking inside requests' wrapping first."""
    inner = error.args[0] if error.args and isinstance(error.args[0], BaseException) else None
    if isinstance(inner, MaxRetryError) and inner.reason is not None:
        inner = inner.reason
    for candidate in (inner, error):
        if candidate is None:
            continue
        for cls in type(candidate).__mro__:
            rule = FAILURE_TABLE.get(cls)
            if rule is not None:
                return rule
    return None


def wait_from_headers(headers: Mapping[str, str], platform_headers: Iterable[str], now: float,
                      default: float) -> float:
    """Seconds to wait, from Retry-After (seconds or HTTP-date) or a platform's own header."""
    for name in ("Retry-After", *platform_headers):
        value = headers.get(name)
        seconds = _seconds_until(value.strip(), now) if value else None
        if seconds is not None:
            return min(max(seconds, MIN_RATE_LIMIT_WAIT), MAX_RATE_LIMIT_WAIT)
    return default


def _seconds_until(value: str, now: float) -> float | None:
    try:
        number = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return when.timestamp() - now
    if not math.isfinite(number) or number < 0:
        return None
    return number - now if number > UNIX_TIME_THRESHOLD else number


def build_failure(rule: Rule, message: str, *, status: int | None = None,
                  wait_seconds: float | None = None) -> ConnectorFailure:
    """The hub.errors exception for a row, with the operator message and the fix."""
    if rule.kind is RATE_LIMITED or wait_seconds is not None:
        return RateLimited(message, wait_seconds=wait_seconds or MIN_RATE_LIMIT_WAIT,
                           status=status)
    if rule.kind is CONFIGURATION:
        return ConfigurationError(message, fix=rule.fix, status=status)
    if rule.kind is RECORD:
        return RecordError(message, status=status)
    return TransientError(message, status=status)
