"""A partner platform's Standard Webhooks into /webhooks/<connection>: verified on the raw
bytes, one inbox row per webhook-id, 400 for malformed and 401 for wrong signatures."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from connectors.base import InboundDelivery
from connectors.partner import PartnerConnector
from connectors.partner.signing import MAX_ID_LENGTH, headers_for, new_secret
from hub.db import session_scope
from hub.errors import RecordError
from hub.models import InboxEntry
from mappings.partner.events import canonical_events
from tests.connectors.saleor.saleor_fakes import make_context

PLACED = {"type": "order.placed", "timestamp": "2026-11-29T10:00:00+09:00", "data": {
    "order_id": "DAON-1001", "status": "paid", "total": 90000, "customer_ref": "c-77",
    "lines": [{"line_id": "1", "listing_id": "L-9", "plan_code": "HB-BOX-001-M",
               "quantity": 2, "unit_price": 45000}]}}


def body_of(envelope: dict[str, Any]) -> bytes:
    return json.dumps(envelope, ensure_ascii=False).encode("utf-8")


@pytest.fixture
def secrets() -> dict[str, str]:
    return {"current": new_secret(), "previous": new_secret(), "stranger": new_secret()}


@pytest.fixture
def partner(operator: Any, secrets: dict[str, str]) -> int:
    created = operator.post("/api/v1/connections", json={
        "connector": "partner", "name": "다온 구독", "config": {
            "platform_name": "다온", "inbound_secret": secrets["current"],
            "inbound_secret_previous": secrets["previous"]}})
    assert created.status_code == 201, created.get_json()
    return int(created.get_json()["id"])


def send(app: Flask, connection: int, body: bytes, headers: dict[str, str]) -> Any:
    return app.test_client().post(f"/webhooks/{connection}", data=body, headers=headers)


def inbox(app: Flask) -> list[InboxEntry]:
    with session_scope(app.extensions["gudok"].session_factory) as session:
        return list(session.scalars(select(InboxEntry).order_by(InboxEntry.id)))


def test_a_signed_webhook_lands_once_per_webhook_id(app, partner, secrets):
    body = body_of(PLACED)
    headers = headers_for(secrets["current"], "msg_daon_1", body, time.time())
    assert send(app, partner, body, headers).status_code == 202
    assert send(app, partner, body, headers).status_code == 200  # a retry: same webhook-id
    [row] = inbox(app)
    assert (row.delivery_key, row.event, row.body) == ("msg_daon_1", "order.placed", body)
    delivery = InboundDelivery(row.delivery_key, row.event, row.body, row.received_at)
    [event] = PartnerConnector().parse_webhook(make_context(), delivery)
    assert event["kind"] == "order.upserted" and event["external_id"] == "DAON-1001"
    assert event["order"]["lines"][0]["sku"] == "HB-BOX-001-M"


def test_the_longest_webhook_id_the_signature_allows_is_stored_whole(app, partner, secrets):
    body = body_of(PLACED)
    webhook_id = "msg_" + "x" * (MAX_ID_LENGTH - 4)
    headers = headers_for(secrets["current"], webhook_id, body, time.time())
    assert send(app, partner, body, headers).status_code == 202
    assert send(app, partner, body, headers).status_code == 200
    assert [row.delivery_key for row in inbox(app)] == [webhook_id]


def test_the_previous_secret_is_accepted_while_it_rotates_out(app, partner, secrets):
    body = body_of(PLACED)
    rotated = headers_for(secrets["previous"], "msg_daon_2", body, time.time())
    assert send(app, partner, body, rotated).status_code == 202


@pytest.mark.parametrize("case", ["stranger", "stale", "future", "tampered"])
def test_wrong_signatures_are_401_and_store_nothing(app, partner, secrets, case):
    body, now = body_of(PLACED), time.time()
    secret = secrets["stranger"] if case == "stranger" else secrets["current"]
    moment = {"stale": now - 600, "future": now + 600}.get(case, now)
    headers = headers_for(secret, "msg_bad", body, moment)
    sent = body.replace(b"90000", b"10000") if case == "tampered" else body
    response = send(app, partner, sent, headers)
    assert response.status_code == 401 and response.mimetype == "application/problem+json"
    assert inbox(app) == []


@pytest.mark.parametrize("case", ["no-id", "no-signature", "bad-timestamp", "empty-body",
                                  "not-utf8"])
def test_malformed_deliveries_are_400(app, partner, secrets, case):
    body = {"empty-body": b"", "not-utf8": b"\xff\xfe\x00"}.get(case, body_of(PLACED))
    headers = headers_for(secrets["current"], "msg_x", body or b"x", time.time())
    if case == "no-id":
        del headers["webhook-id"]
    elif case == "no-signature":
        del headers["webhook-signature"]
    elif case == "bad-timestamp":
        headers["webhook-timestamp"] = "yesterday"
    response = send(app, partner, body, headers)
    assert response.status_code == 400, response.get_json()
    assert inbox(app) == []


def test_every_event_type_maps_to_a_canonical_event():
    kinds = {t: canonical_events({**PLACED, "type": t})[0]["kind"]
             for t in ("order.placed", "order.cancelled", "order.refunded")}
    assert kinds == {"order.placed": "order.upserted", "order.cancelled": "order.cancelled",
                     "order.refunded": "order.refunded"}
    [listing] = canonical_events({"type": "listing.changed", "timestamp": PLACED["timestamp"],
                                  "data": {"listing_id": "L-9", "box_code": "HB-BOX-001",
                                           "url": "https://daon.example.kr/p/L-9"}})
    assert listing["kind"] == "product.upserted" and listing["data"]["url"].endswith("L-9")


@pytest.mark.parametrize("envelope", [
    [], {"type": "order.exploded", "data": {}}, {"type": "order.placed", "data": []},
    {**PLACED, "data": {**PLACED["data"], "lines": []}},
    {**PLACED, "data": {**PLACED["data"], "total": 90000.5}},
    {**PLACED, "timestamp": "not a time"},
])
def test_what_does_not_fit_is_a_record_error(envelope):
    with pytest.raises(RecordError):
        canonical_events(envelope)
