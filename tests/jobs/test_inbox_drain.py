"""Draining the inbox: signed deliveries, however often they arrive, become one order; a
poison row is retried, then dead with its error, while the rest is applied; an operator
replays it; a configuration error stops the run with nothing counted; two runs at once
apply every row once."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import func, select

from connectors.partner import PartnerConnector
from connectors.partner.signing import headers_for, new_secret
from hub.db import session_scope
from hub.demo_mall import serving
from hub.errors import ConfigurationError
from hub.models import Connection, Contract, InboxEntry, Order, OrderLine
from jobs.inbox import DrainReport, drain_inbox, replay_dead
from tests.factories import create_catalog

PLACED = {"type": "order.placed", "timestamp": "2026-11-29T10:00:00+09:00", "data": {
    "order_id": "DAON-1001", "status": "paid", "total": 90000, "customer_ref": "c-77",
    "lines": [{"line_id": "1", "listing_id": "L-9", "plan_code": "PLAN-1", "quantity": 2,
               "unit_price": 45000}]}}
NOW = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)


def placed(order_id: str, **changes: Any) -> bytes:
    envelope = {**PLACED, "data": {**PLACED["data"], "order_id": order_id, **changes}}
    return json.dumps(envelope, ensure_ascii=False).encode("utf-8")


@pytest.fixture
def partner(app: Flask, operator: Any) -> dict[str, Any]:
    create_catalog(operator)
    secret = new_secret()
    created = operator.post("/api/v1/connections", json={
        "connector": "partner", "name": "다온 구독",
        "config": {"platform_name": "다온", "inbound_secret": secret}})
    assert created.status_code == 201, created.get_json()
    return {"id": int(created.get_json()["id"]), "secret": secret}


def add_rows(app: Flask, connection_id: int, bodies: list[bytes]) -> list[int]:
    with session_scope(app.extensions["gudok"].session_factory) as session:
        tenant_id = session.get_one(Connection, connection_id).tenant_id
        rows = [InboxEntry(tenant_id=tenant_id, connection_id=connection_id,
                           delivery_key=f"msg_{index}_{time.monotonic_ns()}",
                           event="order.placed", body=body, received_at=NOW, status="pending",
                           attempts=0) for index, body in enumerate(bodies)]
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


def drain(app: Flask, connection_id: int, **kwargs: Any) -> DrainReport:
    with app.app_context():
        return drain_inbox(connection_id, **kwargs)


def inbox(app: Flask) -> dict[int, InboxEntry]:
    with session_scope(app.extensions["gudok"].session_factory) as session:
        return {row.id: row for row in session.scalars(select(InboxEntry))}


def count(app: Flask, model: Any) -> int:
    with session_scope(app.extensions["gudok"].session_factory) as session:
        return int(session.scalar(select(func.count()).select_from(model)))


def test_the_same_delivery_many_times_and_under_two_ids_is_one_order(app, partner):
    body = placed("DAON-1001")
    with serving(app) as hub_url, requests.Session() as http:
        http.trust_env = False
        url = f"{hub_url}webhooks/{partner['id']}"

        def post(webhook_id: str) -> int:
            headers = headers_for(partner["secret"], webhook_id, body, time.time())
            return http.post(url, data=body, headers=headers, timeout=10).status_code

        statuses = [post("msg_1") for _ in range(10)]
        with ThreadPoolExecutor(max_workers=20) as pool:
            statuses += list(pool.map(lambda _: post("msg_1"), range(20)))
        statuses.append(post("msg_2"))  # the same order, sent again under a new id
    assert statuses.count(202) == 2 and all(200 <= s < 300 for s in statuses), statuses
    assert sorted(row.delivery_key for row in inbox(app).values()) == ["msg_1", "msg_2"]
    report = drain(app, partner["id"])
    assert (report.applied, report.unchanged, report.failed) == (1, 1, 0)
    assert (count(app, Order), count(app, OrderLine), count(app, Contract)) == (1, 1, 1)
    assert {row.status for row in inbox(app).values()} == {"done"}
    assert drain(app, partner["id"]) == DrainReport(partner["id"])  # nothing left to do


def test_a_poison_row_dies_after_its_attempts_and_an_operator_replays_it(app, partner):
    refund_of_nothing = json.dumps({"type": "order.refunded", "timestamp": PLACED["timestamp"],
                                    "data": {**PLACED["data"], "order_id": "DAON-2"}})
    bodies = [placed("DAON-1"), b"{not json", placed("DAON-3"),
              # too many to store: the database refuses it when the batch is flushed
              placed("DAON-4", lines=[{"line_id": "1", "plan_code": "PLAN-1",
                                       "quantity": 10**20, "unit_price": 1}]),
              refund_of_nothing.encode(), placed("DAON-5")]
    ids = add_rows(app, partner["id"], bodies)
    poison = {ids[1]: "RecordError: the body is not JSON", ids[3]: None}
    for attempt in (1, 2, 3):
        report = drain(app, partner["id"], max_attempts=3, now=NOW)
        rows = inbox(app)
        if attempt == 1:
            assert (report.applied, report.failed, report.dead) == (4, 2, 0)
        for row_id, message in poison.items():
            assert rows[row_id].attempts == attempt and rows[row_id].locked_until is None
            assert rows[row_id].status == ("dead" if attempt == 3 else "pending")
            assert rows[row_id].last_error and len(rows[row_id].last_error) <= 300
            if message:
                assert rows[row_id].last_error == message
    assert (report.applied, report.failed, report.dead) == (0, 0, 2)
    assert {rows[i].status for i in ids if i not in poison} == {"done"}
    assert count(app, Order) == 4  # the refund came with its order's lines: applied too
    with session_scope(app.extensions["gudok"].session_factory) as session:
        assert replay_dead(session, partner["id"], [ids[1]]) == 1
    row = inbox(app)[ids[1]]
    assert (row.status, row.attempts) == ("pending", 0)
    assert inbox(app)[ids[3]].status == "dead"


def test_a_configuration_error_stops_the_run_and_counts_nothing(app, partner, monkeypatch):
    parse = PartnerConnector.parse_webhook

    def parse_or_refuse(self: Any, ctx: Any, delivery: Any) -> list[dict[str, Any]]:
        if delivery.body == b"needs a person":
            raise ConfigurationError("the platform's feed moved", fix="Point events_url at it.")
        return parse(self, ctx, delivery)

    monkeypatch.setattr(PartnerConnector, "parse_webhook", parse_or_refuse)
    ids = add_rows(app, partner["id"], [placed("DAON-1"), b"needs a person", placed("DAON-2")])
    report = drain(app, partner["id"])
    assert report.stopped and "Point events_url at it." in report.stopped
    assert report.outcome == "failed" and report.applied == 1
    rows = inbox(app)
    assert [(rows[i].status, rows[i].attempts, rows[i].locked_until) for i in ids] == [
        ("done", 0, None), ("pending", 0, None), ("pending", 0, None)]


def test_two_runs_at_once_apply_every_row_once(app, partner):
    orders = [f"DAON-{n}" for n in range(64)]
    # Every order twice, under two delivery ids, a batch apart: the runs, taking batches in
    # turn, also race to create the same orders.
    chunks = [orders[i:i + 16] for i in range(0, len(orders), 16)]
    add_rows(app, partner["id"], [placed(o) for chunk in chunks for o in chunk + chunk])
    start = threading.Barrier(2)

    def run(_: int) -> DrainReport:
        start.wait()
        return drain(app, partner["id"], batch=16)

    with ThreadPoolExecutor(max_workers=2) as pool:
        reports = list(pool.map(run, range(2)))
    assert sum(r.applied for r in reports) == sum(r.unchanged for r in reports) == len(orders)
    assert sum(r.failed + r.dead for r in reports) == 0
    assert {row.status for row in inbox(app).values()} == {"done"}
    assert (count(app, Order), count(app, OrderLine), count(app, Contract)) == (64, 64, 64)
