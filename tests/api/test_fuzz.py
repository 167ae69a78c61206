"""Property-based fuzz of the REST API from its own OpenAPI document (schemathesis).

Every operation gets generated valid and invalid requests, each sent once with an admin
token and once with an operator token, against a database holding two tenants and a small
catalog in each, so that small ids (1..3) hit real rows of the caller's tenant and of the
other. No answer may be a 5xx, a valid token is never refused, and every error answer is
problem+json."""

from __future__ import annotations

from typing import Any

import hypothesis.strategies as st
import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings

from hub import create_app
from hub.api.pagination import encode_cursor
from tests.conftest import ApiClient, app_config, make_token
from tests.factories import create_catalog

MAX_EXAMPLES = 20
SEED = 20240601
TENANT_CODES = ("hanbit", "dasol")


def _openapi_document() -> dict[str, Any]:
    """The document as the app serves it; loading it touches no database."""
    app = create_app(app_config("sqlite://"))
    try:
        response = app.test_client().get("/api/v1/openapi.json")
        assert response.status_code == 200, response.data
        return response.get_json()  # type: ignore[no-any-return]
    finally:
        app.extensions["gudok"].engine.dispose()


schema = schemathesis.openapi.from_dict(
    _openapi_document(),
    config=schemathesis.Config.from_dict({
        "seed": SEED,
        "generation": {"max-examples": MAX_EXAMPLES, "database": "none",
                       # The tokens are ours to send; never generate or drop the header.
                       "with-security-parameters": False},
        # The coverage phase enumerates boundary cases without a bound; examples and
        # fuzzing are enough here and keep the run short and fixed in size.
        "phases": {"coverage": {"enabled": False}},
    }),
)


def _near_real_rows(value: Any) -> Any:
    """Point generated ids at the catalog (1..3), tenant codes at the two tenants and
    cursors at some id, so that requests get past the first checks."""
    if isinstance(value, dict):
        return {key: _near_real_value(key, inner) for key, inner in value.items()}
    return value


def _near_real_value(key: str, value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and (key.endswith("_id") or key == "id"):
        return 1 + abs(value) % 3
    if key == "tenant" and isinstance(value, str):
        return TENANT_CODES[len(value) % 2]
    if key == "cursor" and isinstance(value, str):  # well-formed, pointing anywhere
        return encode_cursor(int.from_bytes(value.encode()[:12], "big"))
    if isinstance(value, list):
        return [_near_real_rows(inner) for inner in value]
    if isinstance(value, dict):
        return _near_real_rows(value)
    return value


def _half_near_real(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(strategy, strategy.map(_near_real_rows))


@schema.hook
def before_generate_path_parameters(context: Any, strategy: Any) -> Any:
    return _half_near_real(strategy)


@schema.hook
def before_generate_query(context: Any, strategy: Any) -> Any:
    return _half_near_real(strategy)


@schema.hook
def before_generate_body(context: Any, strategy: Any) -> Any:
    return _half_near_real(strategy)


@pytest.fixture
def tokens(app: Flask, tenants: dict[str, int]) -> dict[str, str]:
    """An admin and a hanbit operator token, with catalogs in both tenants."""
    operators = {code: make_token(app, "operator", code) for code in TENANT_CODES}
    for seed, code in ((1, "hanbit"), (2, "hanbit"), (3, "dasol")):
        catalog = create_catalog(ApiClient(app.test_client(), operators[code]), seed)
        assert all("id" in row for value in catalog.values()
                   for row in (value if isinstance(value, list) else [value])), catalog
    return {"admin": make_token(app, "admin"), "operator": operators["hanbit"]}


@schema.parametrize()
@settings(deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_no_server_errors_and_errors_are_problems(case: Any, app: Flask,
                                                  tokens: dict[str, str]) -> None:
    for role in ("admin", "operator"):
        response = case.call(app=app, headers={"Authorization": f"Bearer {tokens[role]}"})
        where = f"{role}: {case.method} {case.formatted_path} -> {response.status_code}"
        assert response.status_code < 500, f"{where}\n{response.text[:2000]}"
        assert response.status_code != 401, f"a valid token was refused: {where} {response.text}"
        if response.status_code >= 400:
            content_type = response.headers.get("content-type", [""])[0]
            assert content_type.startswith("application/problem+json"), where
            body = response.json()
            assert body["status"] == response.status_code, where
            assert body["title"], where
