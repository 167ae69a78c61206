"""The operator's view of a connection's sync: health, replay of dead rows, pause/resume."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from hub.db import session_scope, utcnow
from hub.errors import RateLimited
from hub.models import InboxEntry, OutboxMessage
from hub.services import notifications
from hub.services.sync_health import record_failure, record_success
from tests.api.test_partner_products import platform
from tests.conftest import ApiClient
from tests.factories import problem


@pytest.fixture
def connection(app: Flask, operator: ApiClient) -> int:
    connection_id, _client = platform(app, operator, "플랫폼A")
    now = utcnow()
    with session_scope(app.extensions["gudok"].session_factory) as session:
        from hub.models import Connection

        row = session.get_one(Connection, connection_id)
        for n, status in enumerate(("pending", "pending", "dead")):
            session.add(InboxEntry(tenant_id=row.tenant_id, connection_id=connection_id,
                                   delivery_key=f"msg_{n}", event="order.placed", body=b"{}",
                                   received_at=now - timedelta(seconds=60 * (n + 1)),
                                   status=status, attempts=5 if status == "dead" else 0,
                                   last_error="RecordError: data.lines" if status == "dead"
                                   else None))
        message = notifications.enqueue(session, row, "box.updated", {"box_id": 1}, now=now)
        message.status = "dead"
        record_success(session, connection_id, "inbox", now)
        record_failure(session, connection_id, "notifications",
                       RateLimited("the platform asked to wait", wait_seconds=30), now)
    return connection_id


def test_health_shows_rows_streams_circuit_and_the_last_error(connection, operator):
    response = operator.get(f"/api/v1/connections/{connection}/sync")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "active" and body["connector"] == "partner"
    assert (body["inbox"]["pending"], body["inbox"]["dead"]) == (2, 1)
    assert body["inbox"]["lag_seconds"] >= 120
    assert (body["outbox"]["pending"], body["outbox"]["dead"]) == (0, 1)
    assert body["circuit"]["state"] == "closed"
    streams = {s["stream"]: s for s in body["streams"]}
    assert streams["inbox"]["last_success_at"] and streams["inbox"]["last_error"] is None
    assert streams["notifications"]["last_error_class"] == "rate_limited"
    assert body["last_error"]["class"] == "rate_limited"
    assert body["last_error"]["stream"] == "notifications"


def test_retry_puts_dead_rows_back_in_line(app, connection, operator):
    response = operator.post(f"/api/v1/connections/{connection}/sync/retry", json={})
    assert response.get_json() == {"inbox": 1, "outbox": 1}
    with session_scope(app.extensions["gudok"].session_factory) as session:
        rows = session.scalars(select(InboxEntry).where(InboxEntry.connection_id == connection))
        assert {(r.status, r.attempts) for r in rows} == {("pending", 0)}
        assert [m.status for m in session.scalars(select(OutboxMessage))] == ["pending"]
    again = operator.post(f"/api/v1/connections/{connection}/sync/retry",
                          json={"outbox": False})
    assert again.get_json() == {"inbox": 0, "outbox": 0}


def test_pause_and_resume(connection, operator):
    paused = operator.post(f"/api/v1/connections/{connection}/pause")
    assert paused.status_code == 200 and paused.get_json()["status"] == "paused"
    assert operator.post(f"/api/v1/connections/{connection}/pause").status_code == 200
    assert operator.get(f"/api/v1/connections/{connection}/sync").get_json()["status"] == \
        "paused"
    resumed = operator.post(f"/api/v1/connections/{connection}/resume")
    assert resumed.get_json()["status"] == "active"
    assert operator.patch(f"/api/v1/connections/{connection}",
                          json={"status": "disabled"}).status_code == 200
    problem(operator.post(f"/api/v1/connections/{connection}/resume"), 409)


def test_another_tenant_sees_nothing(connection, other_operator: ApiClient) -> Any:
    problem(other_operator.get(f"/api/v1/connections/{connection}/sync"), 404)
