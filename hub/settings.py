"""Settings: config/default.toml, overridden by GUDOK_* environment variables and by the
mapping given to create_app. A wrong setting stops start-up with one line naming it."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import logging
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

ENVIRONMENTS = ("production", "demo", "test")
INT_KEYS = ("max_request_bytes", "idempotency_ttl_hours", "page_size_default", "page_size_max",
            "workers", "http_max_response_bytes", "http_max_attempts", "http_rate_limit_burst",
            "http_breaker_failures", "feed_overlap_seconds")
SECONDS_KEYS = ("http_connect_timeout_seconds", "http_timeout_seconds",
                "http_max_rate_limit_wait_seconds", "http_rate_limit_per_second",
                "http_breaker_cooldown_seconds")
LIST_KEYS = ("secret_keys", "outbound_allow_hosts")
BOOL_KEYS = ("outbound_allow_only",)
_TRUE, _FALSE = frozenset({"true", "1", "yes", "on"}), frozenset({"false", "0", "no", "off"})
_HOST_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.?)+$", re.I)


class SettingsError(Exception):
    """A setting is missing or wrong; the message names the key and the problem."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"GUDOK_{key.upper()}: {problem}")
        self.key = key


@dataclass(frozen=True)
class Settings:
    environment: str = "production"
    database_url: str = ""
    redis_url: str = ""
    secret_keys: tuple[str, ...] = ()
    max_request_bytes: int = 1048576
    idempotency_ttl_hours: int = 24
    page_size_default: int = 50
    page_size_max: int = 500
    feed_overlap_seconds: int = 120
    default_time_zone: str = "Asia/Seoul"
    log_level: str = "INFO"
    bind: str = "127.0.0.1:8000"
    workers: int = 2
    var_dir: str = "var"
    outbound_allow_hosts: tuple[str, ...] = ()
    outbound_allow_only: bool = False
    http_connect_timeout_seconds: float = 5.0
    http_timeout_seconds: float = 30.0
    http_max_response_bytes: int = 5242880
    http_max_attempts: int = 4
    http_max_rate_limit_wait_seconds: float = 60.0
    http_rate_limit_per_second: float = 5.0
    http_rate_limit_burst: int = 10
    http_breaker_failures: int = 5
    http_breaker_cooldown_seconds: float = 30.0
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def var_path(self) -> Path:
        return Path(self.var_dir).resolve()

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.var_path / 'gudok.db'}"


def default_values() -> dict[str, Any]:
    text = resources.files("config").joinpath("default.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def load_settings(overrides: Mapping[str, Any] | None = None,
                  environ: Mapping[str, str] | None = None) -> Settings:
    """Defaults, then GUDOK_* variables, then explicit overrides; validated as a whole."""
    environ = os.environ if environ is None else environ
    known = {f.name: f for f in fields(Settings) if f.name != "extra"}
    values: dict[str, Any] = {}
    for key, value in default_values().items():
        if key not in known:
            raise SettingsError(key, "unknown setting in config/default.toml")
        values[key] = value
    for key in known:
        env_value = environ.get(f"GUDOK_{key.upper()}")
        if env_value is not None:
            values[key] = _from_env(key, env_value)
    extra: dict[str, Any] = {}
    for key, value in (overrides or {}).items():
        if key in known:
            values[key] = value
        else:
            extra[key] = value
    return _validated(values, extra)


def _from_env(key: str, raw: str) -> Any:
    if key in LIST_KEYS:
        return [part.strip() for part in raw.split(",") if part.strip()]
    if key in BOOL_KEYS:
        if raw.strip().lower() not in _TRUE | _FALSE:
            raise SettingsError(key, f"expected true or false, got {raw!r}")
        return raw.strip().lower() in _TRUE
    if key in INT_KEYS:
        try:
            return int(raw)
        except ValueError:
            raise SettingsError(key, f"expected a whole number, got {raw!r}") from None
    if key in SECONDS_KEYS:
        try:
            return float(raw)
        except ValueError:
            raise SettingsError(key, f"expected a number, got {raw!r}") from None
    return raw


def _positive_int(values: Mapping[str, Any], key: str) -> int:
    value = values[key]
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise SettingsError(key, f"expected a positive whole number, got {value!r}")
    return value


def _positive_number(values: Mapping[str, Any], key: str) -> float:
    value = values[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1e9:
        raise SettingsError(key, f"expected a positive number, got {value!r}")
    return float(value)


def _allow_hosts(value: Any) -> tuple[str, ...]:
    """Host names, IP addresses or networks (CIDR) the hub may call though not public."""
    entries = [value] if isinstance(value, str) else value
    if not isinstance(entries, list | tuple):
        raise SettingsError("outbound_allow_hosts", f"expected a list, got {value!r}")
    checked = []
    for index, entry in enumerate(entries):
        text = entry.strip().lower() if isinstance(entry, str) else ""
        try:
            ipaddress.ip_network(text.strip("[]"), strict=False)
        except ValueError:
            if not _HOST_NAME.match(text):
                raise SettingsError("outbound_allow_hosts", f"entry {index + 1} {entry!r} is "
                                    "not a host name, IP address or network (no scheme, port "
                                    "or path)") from None
        checked.append(text)
    return tuple(checked)


def _validated(values: dict[str, Any], extra: dict[str, Any]) -> Settings:
    environment = values.get("environment")
    if environment not in ENVIRONMENTS:
        raise SettingsError("environment", f"must be one of {', '.join(ENVIRONMENTS)}, "
                                           f"got {environment!r}")
    for key in INT_KEYS:
        _positive_int(values, key)
    for key in SECONDS_KEYS:
        _positive_number(values, key)
    for key in BOOL_KEYS:
        if not isinstance(values[key], bool):
            raise SettingsError(key, f"expected true or false, got {values[key]!r}")
    if values["page_size_default"] > values["page_size_max"]:
        raise SettingsError("page_size_default", "must not exceed page_size_max")

    database_url = values.get("database_url") or ""
    if database_url:
        try:
            url = make_url(database_url)
        except ArgumentError:
            raise SettingsError("database_url", "not a database URL "
                                "(expected e.g. postgresql+psycopg://user@host/db)") from None
        if url.get_backend_name() not in {"sqlite", "postgresql"}:
            raise SettingsError("database_url", f"unsupported database "
                                f"{url.get_backend_name()!r}: use sqlite or postgresql")

    redis_url = values.get("redis_url") or ""
    if redis_url and not redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise SettingsError("redis_url", "must start with redis://, rediss:// or unix://")

    keys = values.get("secret_keys") or []
    if isinstance(keys, str):
        keys = [keys]
    for index, key in enumerate(keys):
        if not _is_fernet_key(key):
            raise SettingsError("secret_keys", f"key {index + 1} is not a Fernet key "
                                "(32 url-safe base64-encoded bytes)")
    if not keys and environment == "production":
        raise SettingsError("secret_keys", "required outside the demo and tests; generate one "
                            "with `python -c 'from cryptography.fernet import Fernet; "
                            "print(Fernet.generate_key().decode())'`")

    time_zone = values.get("default_time_zone")
    try:
        ZoneInfo(str(time_zone))
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError("default_time_zone", f"unknown time zone {time_zone!r}") from None

    level = str(values.get("log_level", "")).upper()
    if not isinstance(logging.getLevelName(level), int):
        raise SettingsError("log_level", f"unknown level {values.get('log_level')!r}")

    return Settings(
        environment=environment,
        database_url=database_url,
        redis_url=redis_url,
        secret_keys=tuple(keys),
        max_request_bytes=values["max_request_bytes"],
        idempotency_ttl_hours=values["idempotency_ttl_hours"],
        page_size_default=values["page_size_default"],
        page_size_max=values["page_size_max"],
        feed_overlap_seconds=values["feed_overlap_seconds"],
        default_time_zone=str(time_zone),
        log_level=level,
        bind=str(values.get("bind", "127.0.0.1:8000")),
        workers=values["workers"],
        var_dir=str(values.get("var_dir") or "var"),
        outbound_allow_hosts=_allow_hosts(values.get("outbound_allow_hosts") or []),
        outbound_allow_only=values["outbound_allow_only"],
        http_connect_timeout_seconds=float(values["http_connect_timeout_seconds"]),
        http_timeout_seconds=float(values["http_timeout_seconds"]),
        http_max_response_bytes=values["http_max_response_bytes"],
        http_max_attempts=values["http_max_attempts"],
        http_max_rate_limit_wait_seconds=float(values["http_max_rate_limit_wait_seconds"]),
        http_rate_limit_per_second=float(values["http_rate_limit_per_second"]),
        http_rate_limit_burst=values["http_rate_limit_burst"],
        http_breaker_failures=values["http_breaker_failures"],
        http_breaker_cooldown_seconds=float(values["http_breaker_cooldown_seconds"]),
        extra=extra,
    )


def _is_fernet_key(key: object) -> bool:
    if not isinstance(key, str):
        return False
    try:
        return len(base64.urlsafe_b64decode(key.encode("ascii"))) == 32
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return False
