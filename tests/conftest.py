"""Fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL and Redis must answer (scripts/ensure-services starts them); a missing one fails
the run with its name rather than skipping tests."""

from __future__ import annotations

import ipaddress
import os
import socket
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from hub import create_app
from hub.db import session_scope
from hub.migrate import upgrade
from hub.models import Base, Tenant
from hub.services import ledger_guard
from hub.services.tokens import create_token

POSTGRES_URL = os.environ.get("GUDOK_TEST_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("GUDOK_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
TEST_KEY = Fernet.generate_key().decode()
BACKENDS = ("sqlite", "postgresql")
LOOKUPS_REFUSED: list[str] = []  # host names a test tried to look up (the guard below)
_REAL_GETADDRINFO = socket.getaddrinfo


def _loopback_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    """The suite looks up no name but loopback: a DNS query is traffic off this machine."""
    name = host.decode() if isinstance(host, bytes) else host
    if name is not None and name.lower().rstrip(".") != "localhost" \
            and not _is_address(str(name)):
        LOOKUPS_REFUSED.append(str(name))
        raise socket.gaierror(socket.EAI_NONAME, f"test guard: {name} not looked up")
    return _REAL_GETADDRINFO(host, *args, **kwargs)


def _is_address(name: str) -> bool:
    """An IP address in any form the resolver reads without asking DNS (e.g. 2130706433)."""
    try:
        ipaddress.ip_address(name.split("%", 1)[0])
        return True
    except ValueError:
        pass
    try:
        socket.inet_aton(name)
        return True
    except OSError:
        return False


@pytest.fixture(scope="session", autouse=True)
def no_lookups_off_loopback() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket, "getaddrinfo", _loopback_getaddrinfo)
        yield


@pytest.fixture(autouse=True)
def looked_up_nothing_off_loopback(no_lookups_off_loopback: None) -> Iterator[None]:
    """Fails the test that tried to look up a name off loopback (the hub's own checks should
    have refused it first; tests that fake a resolver never reach the system's)."""
    LOOKUPS_REFUSED.clear()
    yield
    assert not LOOKUPS_REFUSED, f"looked up names off loopback: {sorted(set(LOOKUPS_REFUSED))}"


def _create_postgres_database() -> tuple[str, Any]:
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"gudok_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # noqa: BLE001 - say what is missing, do not skip
        pytest.exit(f"PostgreSQL is not answering at {POSTGRES_URL}: {error.__class__.__name__}"
                    " (run scripts/ensure-services)", returncode=3)
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    return url, admin


def _drop_postgres_database(admin: Any, url: str) -> None:
    name = make_url(url).database
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'gudok.db'}"
        return
    url, admin = _create_postgres_database()
    yield url
    _drop_postgres_database(admin, url)


def app_config(database_url: str, **extra: Any) -> dict[str, Any]:
    return {"environment": "test", "database_url": database_url, "secret_keys": [TEST_KEY],
            "log_level": "WARNING", "outbound_allow_only": True, **extra}


@pytest.fixture(scope="session")
def migrated_app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    app = create_app(app_config(database_url,
                                var_dir=str(tmp_path_factory.mktemp("var"))))
    upgrade(app.extensions["gudok"].engine)
    yield app
    app.extensions["gudok"].engine.dispose()


def _empty_tables(app: Flask) -> None:
    engine = app.extensions["gudok"].engine
    tables = [t.name for t in Base.metadata.sorted_tables]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{name}"' for name in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            # The ledger refuses DELETE (as it should): lift its guard to empty the tables.
            ledger_guard.remove(connection)
            connection.execute(text("UPDATE box SET current_version_id = NULL"))
            for name in reversed(tables):
                connection.execute(text(f'DELETE FROM "{name}"'))
            ledger_guard.install(connection)


@pytest.fixture
def app(migrated_app: Flask) -> Iterator[Flask]:
    from hub.queue import QUEUE_KEY

    # Jobs queued by one test (a webhook queues its drain) never run in the next one.
    migrated_app.extensions.pop(QUEUE_KEY, None)
    yield migrated_app
    migrated_app.extensions.pop(QUEUE_KEY, None)
    _empty_tables(migrated_app)


@pytest.fixture
def backend(app: Flask) -> str:
    return str(app.extensions["gudok"].engine.dialect.name)


class ApiClient:
    """A test client that sends one token's bearer header and JSON bodies."""

    def __init__(self, client: FlaskClient, token: str | None) -> None:
        self.client = client
        self.token = token

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        merged = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        merged.update(headers or {})
        return merged

    def get(self, path: str, headers: dict[str, str] | None = None, **kw: Any) -> Any:
        return self.client.get(path, headers=self._headers(headers), **kw)

    def post(self, path: str, json: Any = None, headers: dict[str, str] | None = None,
             **kw: Any) -> Any:
        return self.client.post(path, json=json, headers=self._headers(headers), **kw)

    def put(self, path: str, json: Any = None, headers: dict[str, str] | None = None,
            **kw: Any) -> Any:
        return self.client.put(path, json=json, headers=self._headers(headers), **kw)

    def patch(self, path: str, json: Any = None, headers: dict[str, str] | None = None,
              **kw: Any) -> Any:
        return self.client.patch(path, json=json, headers=self._headers(headers), **kw)

    def delete(self, path: str, headers: dict[str, str] | None = None, **kw: Any) -> Any:
        return self.client.delete(path, headers=self._headers(headers), **kw)


def make_tenant(app: Flask, code: str, name: str | None = None) -> int:
    with session_scope(app.extensions["gudok"].session_factory) as session:
        tenant = Tenant(code=code, name=name or code, time_zone="Asia/Seoul",
                        settlement_cycle="monthly")
        session.add(tenant)
        session.flush()
        return tenant.id


def make_token(app: Flask, role: str, tenant_code: str | None = None) -> str:
    with session_scope(app.extensions["gudok"].session_factory) as session:
        _row, plaintext = create_token(session, role, tenant_code, f"test {role}")
    return plaintext


@pytest.fixture
def tenants(app: Flask) -> dict[str, int]:
    return {"hanbit": make_tenant(app, "hanbit", "한빛군"),
            "dasol": make_tenant(app, "dasol", "다솔시")}


@pytest.fixture
def admin(app: Flask) -> ApiClient:
    return ApiClient(app.test_client(), make_token(app, "admin"))


@pytest.fixture
def operator(app: Flask, tenants: dict[str, int]) -> ApiClient:
    return ApiClient(app.test_client(), make_token(app, "operator", "hanbit"))


@pytest.fixture
def other_operator(app: Flask, tenants: dict[str, int]) -> ApiClient:
    return ApiClient(app.test_client(), make_token(app, "operator", "dasol"))


@pytest.fixture
def viewer(app: Flask, tenants: dict[str, int]) -> ApiClient:
    return ApiClient(app.test_client(), make_token(app, "viewer", "hanbit"))


@pytest.fixture
def mall(app: Flask, tenants: dict[str, int]) -> ApiClient:
    return ApiClient(app.test_client(), make_token(app, "mall", "hanbit"))
