"""The hub installed into a sandbox Saleor mall over loopback: shared by the integration tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from connectors.saleor.sandbox import SaleorSandbox
from hub import create_app
from hub.demo_mall import serving
from tests.conftest import ApiClient, app_config, make_token
from tests.factories import create_catalog

LOOPBACK = ["127.0.0.1", "::1", "localhost"]


@pytest.fixture
def mall_app(app: Flask, database_url: str, tmp_path) -> Flask:
    """The hub on the test database, allowed to call the sandbox on loopback."""
    hub = create_app(app_config(database_url, outbound_allow_hosts=LOOPBACK,
                                var_dir=str(tmp_path)))
    yield hub
    hub.extensions["gudok"].engine.dispose()


@pytest.fixture
def hub_url(mall_app: Flask) -> Iterator[str]:
    with serving(mall_app) as url:
        yield url


@pytest.fixture
def sandbox() -> Iterator[SaleorSandbox]:
    with SaleorSandbox() as mall:
        yield mall


@pytest.fixture
def installed(mall_app, hub_url, sandbox, tenants) -> dict[str, Any]:
    operator = ApiClient(mall_app.test_client(), make_token(mall_app, "operator", "hanbit"))
    catalog = create_catalog(operator)
    items, box = catalog["items"], catalog["box"]
    operator.put("/api/v1/stock-levels", json={
        "item_id": items[1]["id"], "location_id": catalog["location"]["id"], "on_hand": 30})
    second = operator.post("/api/v1/plans", json={
        "box_id": box["id"], "code": "PLAN-1-W", "name": "격주 12회", "cadence": "biweekly",
        "prepaid_rounds": 12, "term_rounds": 12, "round_price": 43000}).get_json()
    connection = operator.post("/api/v1/connections", json={
        "connector": "saleor", "name": "한빛몰 (sandbox)",
        "config": {"api_url": sandbox.graphql_url}}).get_json()
    app = sandbox.install_app(f"{hub_url}saleor/{connection['id']}/manifest")
    return {"operator": operator, "catalog": catalog, "plans": [catalog["plan"], second],
            "connection": connection, "app": app}
