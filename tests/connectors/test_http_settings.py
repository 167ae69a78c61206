"""The transport's settings: defaults documented in config/default.toml, GUDOK_* variables,
validation naming the key, and client_for building a connection's client from them."""

from __future__ import annotations

import pytest

from connectors.http import client_for
from hub.settings import SettingsError, load_settings


def test_the_defaults_are_safe() -> None:
    settings = load_settings(environ={"GUDOK_ENVIRONMENT": "test"})
    assert settings.outbound_allow_hosts == () and settings.outbound_allow_only is False
    assert (settings.http_connect_timeout_seconds, settings.http_timeout_seconds) == (5.0, 30.0)
    assert settings.http_max_response_bytes == 5 * 1024 * 1024
    assert settings.http_max_attempts == 4
    assert settings.http_max_rate_limit_wait_seconds == 60.0
    assert (settings.http_rate_limit_per_second, settings.http_rate_limit_burst) == (5.0, 10)
    assert (settings.http_breaker_failures, settings.http_breaker_cooldown_seconds) == (5, 30.0)


def test_environment_variables_set_them() -> None:
    settings = load_settings(environ={
        "GUDOK_ENVIRONMENT": "test",
        "GUDOK_OUTBOUND_ALLOW_HOSTS": " 127.0.0.1, ::1,localhost ,10.20.0.0/16,",
        "GUDOK_HTTP_TIMEOUT_SECONDS": "12.5", "GUDOK_HTTP_MAX_ATTEMPTS": "2",
        "GUDOK_HTTP_RATE_LIMIT_PER_SECOND": "0.5", "GUDOK_HTTP_MAX_RESPONSE_BYTES": "1024",
        "GUDOK_OUTBOUND_ALLOW_ONLY": " Yes",
    })
    assert settings.outbound_allow_only is True
    assert settings.outbound_allow_hosts == ("127.0.0.1", "::1", "localhost", "10.20.0.0/16")
    assert settings.http_timeout_seconds == 12.5
    assert settings.http_max_attempts == 2
    assert settings.http_rate_limit_per_second == 0.5
    assert settings.http_max_response_bytes == 1024


@pytest.mark.parametrize(("variable", "value", "problem"), [
    ("GUDOK_OUTBOUND_ALLOW_HOSTS", "127.0.0.1,http://sandbox:8000",
     "entry 2 'http://sandbox:8000' is not a host name, IP address or network"),
    ("GUDOK_OUTBOUND_ALLOW_HOSTS", "sandbox:8000", "entry 1"),
    ("GUDOK_HTTP_TIMEOUT_SECONDS", "soon", "expected a number, got 'soon'"),
    ("GUDOK_HTTP_TIMEOUT_SECONDS", "0", "expected a positive number"),
    ("GUDOK_HTTP_CONNECT_TIMEOUT_SECONDS", "inf", "expected a positive number"),
    ("GUDOK_HTTP_MAX_ATTEMPTS", "0", "expected a positive whole number"),
    ("GUDOK_HTTP_RATE_LIMIT_BURST", "1.5", "expected a whole number"),
    ("GUDOK_OUTBOUND_ALLOW_ONLY", "mostly", "expected true or false, got 'mostly'"),
])
def test_a_wrong_transport_setting_is_named(variable: str, value: str, problem: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings(environ={"GUDOK_ENVIRONMENT": "test", variable: value})
    assert str(raised.value).startswith(f"{variable}: ") and problem in str(raised.value)


def test_client_for_takes_the_settings_and_a_connectors_overrides() -> None:
    settings = load_settings({"outbound_allow_hosts": ["127.0.0.1"], "http_max_attempts": 3},
                             environ={"GUDOK_ENVIRONMENT": "test"})
    http = client_for(settings, 42, max_response_bytes=2048,
                      rate_limit_headers=["X-RateLimit-Reset", "Retry-After-Ms"])
    assert http.connection_id == "42"
    assert http.allow.admits_host("127.0.0.1") is False  # an address, admitted as such
    assert http.allow.networks and http.max_attempts == 3 and http.allow.only is False
    closed = load_settings({"outbound_allow_only": True}, environ={"GUDOK_ENVIRONMENT": "test"})
    assert client_for(closed, 42).allow.only is True
    with pytest.raises(SettingsError, match="GUDOK_OUTBOUND_ALLOW_ONLY: expected true or false"):
        load_settings({"outbound_allow_only": "yes"}, environ={"GUDOK_ENVIRONMENT": "test"})
    assert (http.timeout, http.max_response_bytes) == ((5.0, 30.0), 2048)
    assert http.rate_limit_headers == ("X-RateLimit-Reset", "Retry-After-Ms")
    assert http.breaker_state().state == "closed"
