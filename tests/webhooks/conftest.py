"""Fixtures for the webhook and app-install endpoints: a Saleor connection of the operator's
tenant, a stand-in transport for calls to the mall, and an empty key cache per test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import responses
from flask import Flask

from connectors.saleor import JWKS_CACHE
from hub.webhooks.context import TRANSPORT_FACTORY
from tests.connectors.saleor.saleor_fakes import API_URL, StandInTransport


@pytest.fixture
def transport(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[StandInTransport]]:
    made: list[StandInTransport] = []

    def factory(_connection_id: int) -> StandInTransport:
        made.append(StandInTransport())
        return made[-1]

    monkeypatch.setitem(app.extensions, TRANSPORT_FACTORY, factory)
    JWKS_CACHE.clear()
    yield made
    JWKS_CACHE.clear()


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as m:
        yield m


@pytest.fixture
def saleor_connection(operator: Any, transport: Any) -> int:
    response = operator.post("/api/v1/connections", json={
        "connector": "saleor", "name": "한빛몰", "config": {"api_url": API_URL}})
    assert response.status_code == 201, response.get_json()
    return int(response.get_json()["id"])
