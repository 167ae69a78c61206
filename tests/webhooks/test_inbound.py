"""POST /webhooks/<connection>: a verified delivery is one inbox row (202), a replay is a
200 that changes nothing, a bad signature a 401, and 5xx only when a retry is wanted."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest
import responses
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from connectors.base import InboundDelivery
from connectors.saleor import SaleorConnector
from hub.db import session_scope
from hub.models import InboxEntry
from hub.webhooks import inbound
from tests.connectors.saleor.saleor_fakes import (
    JWKS_URL,
    jwk,
    make_context,
    rsa_key,
    serve_jwks,
)
from tests.connectors.saleor.webhooks_helpers import BODY, signed
from tests.mappings.saleor.samples import ORDER, PRODUCT


def post(app: Flask, connection_id: int, headers: dict[str, str], body: bytes = BODY) -> Any:
    return app.test_client().post(f"/webhooks/{connection_id}", data=body, headers=headers)


def inbox(app: Flask) -> list[InboxEntry]:
    with session_scope(app.extensions["gudok"].session_factory) as session:
        return list(session.scalars(select(InboxEntry).order_by(InboxEntry.id)))


def test_a_signed_delivery_lands_in_the_inbox_once(app: Flask, mock: Any, tenants: dict,
                                                   saleor_connection: int) -> None:
    serve_jwks(mock, jwk(rsa_key("main"), "k1"))
    first = post(app, saleor_connection, signed())
    assert first.status_code == 202, first.get_json()
    replay = post(app, saleor_connection, signed())
    assert replay.status_code == 200 and replay.get_json()["status"] == "duplicate"
    [row] = inbox(app)
    assert row.connection_id == saleor_connection and row.tenant_id == tenants["hanbit"]
    assert row.event == "order_created" and row.body == BODY and row.status == "pending"
    assert row.delivery_key == hashlib.sha256(b"order_created" + BODY).hexdigest()
    assert row.attempts == 0 and row.received_at.tzinfo is not None
    # The stored delivery is what the sync engine will parse into canonical events.
    delivery = InboundDelivery(row.delivery_key, row.event, row.body, row.received_at)
    [event] = SaleorConnector().parse_webhook(make_context(), delivery)
    assert event["kind"] == "order.upserted" and event["external_id"] == ORDER["id"]


def test_the_same_body_for_another_event_is_another_delivery(app: Flask, mock: Any,
                                                             saleor_connection: int) -> None:
    serve_jwks(mock, jwk(rsa_key("main"), "k1"))
    body = json.dumps({"issuedAt": "2026-11-28T01:06:00+00:00", "product": PRODUCT}).encode()
    assert post(app, saleor_connection, signed("product_created", body), body).status_code \
        == 202
    assert post(app, saleor_connection, signed("product_updated", body), body).status_code \
        == 202
    assert [row.event for row in inbox(app)] == ["product_created", "product_updated"]


@pytest.mark.parametrize("case", ["tampered", "wrong key", "unsigned", "unknown kid"])
def test_bad_signatures_are_401_and_store_nothing(app: Flask, mock: Any,
                                                  saleor_connection: int, case: str) -> None:
    serve_jwks(mock, jwk(rsa_key("main"), "k1"))
    headers, body = {
        "tampered": (signed(), BODY.replace(b"78000", b"1")),
        "wrong key": (signed(key="attacker"), BODY),
        "unsigned": ({"Saleor-Event": "order_created"}, BODY),
        "unknown kid": (signed(key="attacker", kid="nope"), BODY),
    }[case]
    response = post(app, saleor_connection, headers, body)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert inbox(app) == []


def test_a_rotated_key_is_fetched_and_accepted(app: Flask, mock: Any,
                                               saleor_connection: int) -> None:
    fetch = serve_jwks(mock, jwk(rsa_key("main"), "k1"))
    assert post(app, saleor_connection, signed()).status_code == 202
    mock.replace(responses.GET, JWKS_URL, json={"keys": [jwk(rsa_key("rotated"), "k2")]})
    from connectors.saleor import JWKS_CACHE

    JWKS_CACHE.refetch_interval = 0.0  # the interval itself is tested with the connector
    try:
        body = BODY.replace(b"1042", b"1043")
        response = post(app, saleor_connection, signed(key="rotated", kid="k2", body=body),
                        body)
    finally:
        JWKS_CACHE.refetch_interval = 60.0
    assert response.status_code == 202
    assert fetch.call_count == 1 and len(inbox(app)) == 2


def test_legacy_hmac_only_on_a_connection_with_the_secret(app: Flask, operator: Any,
                                                          saleor_connection: int) -> None:
    secret = "legacy-secret-55aa"
    headers = {"Saleor-Event": "order_created",
               "Saleor-Signature": hmac.new(secret.encode(), BODY, hashlib.sha256).hexdigest()}
    assert post(app, saleor_connection, headers).status_code == 401
    patched = operator.patch(f"/api/v1/connections/{saleor_connection}",
                             json={"config": {"legacy_webhook_secret": secret}})
    assert patched.status_code == 200, patched.get_json()
    assert post(app, saleor_connection, headers).status_code == 202
    assert post(app, saleor_connection, headers, BODY + b" ").status_code == 401


def test_unknown_or_disabled_connections_are_404(app: Flask, operator: Any,
                                                    saleor_connection: int) -> None:
    assert post(app, 987654, signed()).status_code == 404
    # A partner connection whose inbound secret is not set yet: the hub's side is not ready,
    # so the platform is told to send it again later, and nothing is stored.
    partner = operator.post("/api/v1/connections", json={
        "connector": "partner", "name": "다온", "config": {"platform_name": "다온"}})
    waiting = post(app, partner.get_json()["id"], signed())
    assert waiting.status_code == 503 and waiting.headers["Retry-After"]
    assert inbox(app) == []
    operator.patch(f"/api/v1/connections/{saleor_connection}", json={"status": "disabled"})
    assert post(app, saleor_connection, signed()).status_code == 404


def test_unverifiable_now_is_503_so_saleor_retries(app: Flask, mock: Any,
                                                   saleor_connection: int) -> None:
    mock.add(responses.GET, JWKS_URL, status=500)
    response = post(app, saleor_connection, signed())
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert inbox(app) == []


def test_a_database_that_did_not_take_it_is_503(app: Flask, mock: Any,
                                                saleor_connection: int,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    serve_jwks(mock, jwk(rsa_key("main"), "k1"))

    def broken(*_args: Any, **_kwargs: Any) -> bool:
        raise OperationalError("INSERT", {}, Exception("disk full"))

    monkeypatch.setattr(inbound, "insert_delivery", broken)
    assert post(app, saleor_connection, signed()).status_code == 503
    monkeypatch.undo()
    assert post(app, saleor_connection, signed()).status_code == 202


def test_the_endpoint_needs_no_api_token_and_only_takes_post(app: Flask,
                                                             saleor_connection: int) -> None:
    response = app.test_client().get(f"/webhooks/{saleor_connection}")
    assert response.status_code == 405
    with session_scope(app.extensions["gudok"].session_factory) as session:
        assert session.scalar(select(func.count()).select_from(InboxEntry)) == 0


def test_the_same_delivery_twenty_times_at_once_is_one_inbox_row(
        app: Flask, mock: Any, saleor_connection: int) -> None:
    from concurrent.futures import ThreadPoolExecutor

    serve_jwks(mock, jwk(rsa_key("main"), "k1"))
    headers = signed()
    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = sorted(pool.map(lambda _n: post(app, saleor_connection, headers).status_code,
                                   range(20)))
    assert statuses == [200] * 19 + [202]
    assert len(inbox(app)) == 1
