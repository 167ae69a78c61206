"""Catalog notifications to partner platforms: one notice per box whose listing, as the
platform sees it, changed; queued with the cursor in one transaction."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from hub.db import session_scope
from hub.models import OutboxMessage, StreamCursor
from hub.services import notifications
from jobs.partner import STREAM, notify_catalog_changes
from tests.api.test_partner_feed import add_box, offer
from tests.api.test_partner_products import platform
from tests.conftest import ApiClient
from tests.factories import create_catalog


@pytest.fixture
def shop(app: Flask, operator: ApiClient) -> dict[str, Any]:
    world = create_catalog(operator)
    boxes = [world["box"], add_box(operator, "N-1", world["items"][0]["id"]),
             add_box(operator, "N-2", world["items"][1]["id"])]
    a_id, a = platform(app, operator, "플랫폼A")
    b_id, b = platform(app, operator, "플랫폼B")
    for connection_id in (a_id, b_id):
        assert offer(operator, connection_id,
                     [box["id"] for box in boxes]).status_code == 200
    return {"world": world, "boxes": boxes, "a_id": a_id, "a": a, "b_id": b_id, "b": b}


def notified(app: Flask, connection_id: int) -> list[dict[str, Any]]:
    """(type, data) of every queued notification, oldest first; the queue is then emptied."""
    with session_scope(app.extensions["gudok"].session_factory) as session:
        rows = list(session.scalars(select(OutboxMessage).where(
            OutboxMessage.connection_id == connection_id).order_by(OutboxMessage.id)))
        for row in rows:
            session.delete(row)
        return [json.loads(row.payload) for row in rows]


def run(app: Flask, connection_id: int, **kwargs: Any) -> Any:
    with app.app_context():
        return notify_catalog_changes(connection_id, **kwargs)


def test_every_offered_box_once_then_only_what_changed(app, shop, operator):
    report = run(app, shop["a_id"], limit=2)  # two pages
    assert report.queued == 3
    first = notified(app, shop["a_id"])
    assert sorted(n["data"]["box_id"] for n in first) == sorted(b["id"] for b in shop["boxes"])
    assert {n["type"] for n in first} == {"box.updated"}
    assert all(n["data"]["offered"] and n["data"]["plans"] is not None for n in first)
    assert run(app, shop["a_id"]).queued == 0

    world = shop["world"]
    assert operator.put("/api/v1/stock-levels", json={
        "item_id": world["items"][1]["id"], "location_id": world["location"]["id"],
        "on_hand": 4}).status_code in (200, 201)
    run(app, shop["a_id"])
    changed = notified(app, shop["a_id"])
    # Item 2 is in BOX-1 (2 per box: 4 // 2) and N-2 (1 per box): their availability moved.
    assert {n["data"]["code"]: n["data"]["available"] for n in changed} == {"BOX-1": 2,
                                                                            "N-2": 4}


def test_a_platforms_own_link_is_news_to_the_others_only(app, shop):
    run(app, shop["a_id"])
    run(app, shop["b_id"])
    notified(app, shop["a_id"])
    notified(app, shop["b_id"])
    box = shop["boxes"][1]
    assert shop["a"].put(f"/api/v1/partner/listings/{box['code']}", json={
        "external_id": "A-1", "url": "http://127.0.0.1:9/p/A-1"}).status_code == 200
    assert run(app, shop["a_id"]).queued == 0
    assert run(app, shop["b_id"]).queued == 1
    [notice] = notified(app, shop["b_id"])
    assert notice["type"] == "box.updated"
    assert [link["url"] for link in notice["data"]["links"]] == ["http://127.0.0.1:9/p/A-1"]


def test_a_withdrawn_box_is_announced_to_its_platform(app, shop, operator):
    run(app, shop["a_id"])
    notified(app, shop["a_id"])
    kept = [b["id"] for b in shop["boxes"][1:]]
    assert offer(operator, shop["a_id"], kept).status_code == 200
    run(app, shop["a_id"])
    [notice] = notified(app, shop["a_id"])
    assert notice["type"] == "box.withdrawn"
    assert notice["data"] == {"box_id": shop["boxes"][0]["id"], "code": "BOX-1",
                              "offered": False}
    assert run(app, shop["b_id"]).queued == 3  # B still carries all three


def test_a_run_that_dies_half_way_queues_nothing_and_the_rerun_everything_once(
        app, shop, monkeypatch):
    real = notifications.enqueue
    calls = {"n": 0}

    def failing(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("worker killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(notifications, "enqueue", failing)
    with pytest.raises(RuntimeError):
        run(app, shop["a_id"])
    assert notified(app, shop["a_id"]) == []
    monkeypatch.setattr(notifications, "enqueue", real)
    assert run(app, shop["a_id"]).queued == 3
    assert len(notified(app, shop["a_id"])) == 3
    with session_scope(app.extensions["gudok"].session_factory) as session:
        assert session.scalar(select(StreamCursor.cursor).where(
            StreamCursor.connection_id == shop["a_id"], StreamCursor.stream == STREAM))


def test_nothing_is_queued_without_an_outbound_url(app, operator):
    create_catalog(operator)
    connection_id, _client = platform(app, operator, "플랫폼D", outbound=False)
    report = run(app, connection_id)
    assert (report.queued, report.skipped) == (0, "no outbound_url")


def test_a_full_resync_with_nothing_changed_queues_nothing(app, shop, operator):
    assert run(app, shop["a_id"]).queued == 3
    notified(app, shop["a_id"])
    report = run(app, shop["a_id"], full=True, limit=2)
    assert (report.queued, report.unchanged) == (0, 3)
    world = shop["world"]
    assert operator.patch(f"/api/v1/plans/{world['plan']['id']}",
                          json={"round_price": 41000}).status_code == 200
    assert run(app, shop["a_id"], full=True).queued == 1
