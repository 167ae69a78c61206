"""Connectors are found by key, built-in or installed by another package (entry points)."""

from __future__ import annotations

import importlib
import logging
import sys
import textwrap
from pathlib import Path

import pytest

import connectors
from connectors.base import CAPABILITIES, Connector

PLUGIN = '''
from marshmallow import fields
from connectors.base import Connector, ConnectorConfigSchema, Secret

class LocalFarmConfig(ConnectorConfigSchema):
    shop_url = fields.Url(required=True)
    api_key = Secret(required=True)

class LocalFarmConnector(Connector):
    key = "localfarm"
    display_name = "Local farm market"
    capabilities = frozenset({"orders.pull"})
    config_schema = LocalFarmConfig

class NotAConnector:
    key = "bogus"

class TakesSaleorsKey(LocalFarmConnector):
    key = "saleor"
'''


@pytest.fixture
def installed_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An outside package installed the way pip leaves it: module plus dist-info."""
    (tmp_path / "gudok_localfarm.py").write_text(textwrap.dedent(PLUGIN), encoding="utf-8")
    dist = tmp_path / "gudok_localfarm-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: gudok-localfarm\n"
                                   "Version: 1.0\n", encoding="utf-8")
    (dist / "entry_points.txt").write_text(
        "[gudok.connectors]\n"
        "localfarm = gudok_localfarm:LocalFarmConnector\n"
        "bogus = gudok_localfarm:NotAConnector\n"
        "broken = gudok_localfarm_missing:Nothing\n"
        "squatter = gudok_localfarm:TakesSaleorsKey\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    yield tmp_path
    sys.modules.pop("gudok_localfarm", None)


def test_built_in_connectors_are_registered():
    found = connectors.registry()
    assert {"saleor", "partner"} <= set(found)
    for key, connector in found.items():
        assert connector.key == key and connector.display_name
        assert set(connector.capabilities) <= set(CAPABILITIES)


def test_an_installed_outside_connector_is_registered(installed_plugin, caplog):
    caplog.set_level(logging.WARNING, logger="gudok.connectors")
    found = connectors.registry()
    assert found["localfarm"].display_name == "Local farm market"
    assert issubclass(found["localfarm"], Connector)
    assert found["localfarm"].secret_fields() == {"api_key"}
    assert "bogus" not in found
    assert found["saleor"] is connectors.SaleorConnector  # a taken key is not overridden
    warnings = " ".join(r.getMessage() for r in caplog.records)
    assert "broken" in warnings and "bogus" in warnings and "taken" in warnings


def test_an_outside_connector_can_be_configured_through_the_api(installed_plugin, operator):
    response = operator.post("/api/v1/connections", json={
        "connector": "localfarm", "name": "로컬팜",
        "config": {"shop_url": "https://farm.example.kr/", "api_key": "lf-secret-key-123"}})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["config"] == {"shop_url": "https://farm.example.kr/",
                                             "api_key": "********"}
    listed = operator.get("/api/v1/connectors").get_json()
    assert "localfarm" in {c["key"] for c in listed}


def test_an_unknown_connector_key_is_refused():
    with pytest.raises(connectors.UnknownConnector):
        connectors.get_connector("no-such-platform")
