"""Liveness and readiness, as a load balancer or an orchestrator asks for them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from flask import Flask

from hub import create_app
from tests.conftest import REDIS_URL, app_config

CLOSED_REDIS = "redis://127.0.0.1:1/0"
# Only keeps a broken check from hanging the suite; a refused connection answers at once.
HANG_GUARD_SECONDS = 60


@pytest.fixture
def make_app(database_url: str, tmp_path: Any) -> Iterator[Callable[..., Flask]]:
    apps: list[Flask] = []

    def make(database: str = database_url, **settings: Any) -> Flask:
        app = create_app(app_config(database, var_dir=str(tmp_path), **settings))
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions["gudok"].engine.dispose()


def _get(app: Flask, path: str) -> Any:
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(app.test_client().get, path).result(timeout=HANG_GUARD_SECONDS)


def test_healthz_answers_without_a_token(make_app: Callable[..., Flask]) -> None:
    response = _get(make_app(), "/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_checks_the_database(make_app: Callable[..., Flask]) -> None:
    response = _get(make_app(), "/readyz")
    assert response.status_code == 200
    assert response.is_json
    assert response.get_json() == {"status": "ready", "checks": {"database": "ok"}}


def test_readyz_checks_redis_when_one_is_configured(make_app: Callable[..., Flask]) -> None:
    response = _get(make_app(redis_url=REDIS_URL), "/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready",
                                   "checks": {"database": "ok", "redis": "ok"}}


def test_readyz_is_503_and_names_redis_when_redis_does_not_answer(
        make_app: Callable[..., Flask]) -> None:
    response = _get(make_app(redis_url=CLOSED_REDIS), "/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "not ready"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"].startswith("failed: ")
    assert "ConnectionError" in body["checks"]["redis"]


def test_healthz_stays_200_while_a_dependency_is_down(make_app: Callable[..., Flask]) -> None:
    assert _get(make_app(redis_url=CLOSED_REDIS), "/healthz").status_code == 200


def test_readyz_is_503_when_the_database_does_not_answer(
        make_app: Callable[..., Flask]) -> None:
    app = make_app("postgresql+psycopg://gudok:s3cret-pw@127.0.0.1:1/gudok")
    response = _get(app, "/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "not ready"
    assert body["checks"]["database"] == "failed: OperationalError"
    assert "s3cret-pw" not in response.get_data(as_text=True)
    assert "127.0.0.1" not in response.get_data(as_text=True)


def test_the_api_answers_503_problem_when_the_database_does_not_answer(
        make_app: Callable[..., Flask]) -> None:
    app = make_app("postgresql+psycopg://gudok:s3cret-pw@127.0.0.1:1/gudok")
    response = app.test_client().get("/api/v1/merchants",
                                     headers={"Authorization": "Bearer gdk_anything"})
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.headers["Retry-After"] == "30"
    text = response.get_data(as_text=True)
    assert "s3cret-pw" not in text and "Traceback" not in text
