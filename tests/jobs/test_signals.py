"""A committed change queues the jobs it calls for, right away: the mall's push and each
platform's notifications on a catalog change, the delivery of a queued notification."""

from __future__ import annotations

from flask import Flask

from hub.queue import QUEUE_KEY, embedded_queue
from jobs.partner import notify_catalog_changes
from jobs.registry import job_id
from tests.api.test_partner_feed import offer
from tests.api.test_partner_products import platform
from tests.conftest import ApiClient
from tests.factories import create_catalog


def test_a_stock_change_queues_the_push_and_the_notifications(app: Flask,
                                                              operator: ApiClient):
    world = create_catalog(operator)  # with a mall (saleor) connection
    partner_id, _client = platform(app, operator, "플랫폼A")
    assert offer(operator, partner_id, [world["box"]["id"]]).status_code == 200
    app.extensions.pop(QUEUE_KEY, None)  # forget what setting up queued
    queue = embedded_queue(app)
    assert queue.pending() == []
    assert operator.put("/api/v1/stock-levels", json={
        "item_id": world["items"][0]["id"], "location_id": world["location"]["id"],
        "on_hand": 7}).status_code in (200, 201)
    mall_id = world["connection"]["id"]
    assert sorted(queue.pending()) == sorted([job_id("push", mall_id),
                                            job_id("notify", partner_id)])


def test_a_queued_notification_queues_its_delivery(app: Flask, operator: ApiClient):
    world = create_catalog(operator)
    partner_id, _client = platform(app, operator, "플랫폼A")
    assert offer(operator, partner_id, [world["box"]["id"]]).status_code == 200
    app.extensions.pop(QUEUE_KEY, None)
    with app.app_context():
        assert notify_catalog_changes(partner_id).queued == 1
    assert job_id("deliver", partner_id) in embedded_queue(app).pending()


def test_nothing_is_queued_for_a_paused_connection(app: Flask, operator: ApiClient):
    world = create_catalog(operator)
    mall_id = world["connection"]["id"]
    assert operator.post(f"/api/v1/connections/{mall_id}/pause").status_code == 200
    app.extensions.pop(QUEUE_KEY, None)
    assert operator.patch(f"/api/v1/plans/{world['plan']['id']}",
                          json={"round_price": 41000}).status_code == 200
    assert embedded_queue(app).pending() == []
