"""The partner sandbox against a real hub on loopback: it reads the feed, reports its links,
submits a product, sends order webhooks (duplicated, reordered, badly signed) and receives
the hub's notifications across faults, verified and kept once per webhook-id."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import select

from connectors.base import InboundDelivery
from connectors.http.limits import local_breaker
from connectors.partner import PartnerConnector
from connectors.partner.sandbox import PartnerSandbox
from connectors.partner.signing import new_secret
from hub import create_app
from hub.db import session_scope
from hub.demo_mall import serving
from hub.models import Connection, InboxEntry, OutboxMessage
from hub.services.notifications import enqueue
from hub.services.tokens import create_token
from hub.webhooks.context import close_context, connection_context
from jobs.notifications import DeliveryReport, deliver_due
from tests.api.test_partner_feed import add_box, offer
from tests.conftest import ApiClient, app_config, make_token
from tests.factories import create_catalog

LOOPBACK = ["127.0.0.1", "::1", "localhost"]
BOX_CHANGED = {"box_id": 7, "code": "BOX-1", "availability": 12, "price": 45000}


class Clock:
    """Real time, unless a test sets `at` (the platform checks signatures against it)."""

    def __init__(self) -> None:
        self.at: datetime | None = None

    def __call__(self) -> datetime:
        return self.at or datetime.now(UTC)


@dataclass
class World:
    hub: Flask
    operator: ApiClient
    connection_id: int
    catalog: dict[str, Any]
    platform: PartnerSandbox
    clock: Clock


@pytest.fixture
def hub(app: Flask, database_url: str, tmp_path: Any) -> Iterator[Flask]:
    """The hub on the test database (`app` empties it afterwards), allowed to reach
    loopback, with limits that stay out of the way."""
    hub = create_app(app_config(database_url, outbound_allow_hosts=LOOPBACK,
                                var_dir=str(tmp_path), http_timeout_seconds=5,
                                http_breaker_failures=1000, http_rate_limit_per_second=1000,
                                http_rate_limit_burst=1000))
    yield hub
    hub.extensions["gudok"].engine.dispose()


@pytest.fixture
def world(hub: Flask, tenants: dict[str, int]) -> Iterator[World]:
    """hanbit offers two boxes to the platform 다온, which runs as a sandbox whose
    notification endpoint and event log the connection is then pointed at."""
    operator = ApiClient(hub.test_client(), make_token(hub, "operator", "hanbit"))
    catalog = create_catalog(operator)
    catalog["second"] = add_box(operator, "FEED-1", catalog["items"][0]["id"])
    inbound, outbound = new_secret(), new_secret()
    created = operator.post("/api/v1/connections", json={
        "connector": "partner", "name": "다온 구독", "config": {
            "platform_name": "다온", "inbound_secret": inbound, "outbound_secret": outbound}})
    assert created.status_code == 201, created.get_json()
    connection_id = int(created.get_json()["id"])
    boxes = [catalog["box"]["id"], catalog["second"]["id"]]
    assert offer(operator, connection_id, boxes).status_code == 200
    with session_scope(hub.extensions["gudok"].session_factory) as session:
        _row, token = create_token(session, "partner", "hanbit", "sandbox", connection_id)
    clock = Clock()
    with serving(hub) as hub_url, PartnerSandbox(
            "다온", hub_url=hub_url, connection_id=connection_id, api_token=token,
            inbound_secret=inbound, outbound_secret=outbound, clock=clock) as platform:
        pointed = operator.patch(f"/api/v1/connections/{connection_id}", json={"config": {
            "outbound_url": platform.notifications_url, "events_url": platform.events_url,
            "events_token": platform.events_token}})
        assert pointed.status_code == 200, pointed.get_json()
        yield World(hub, operator, connection_id, catalog, platform, clock)
    local_breaker(str(connection_id), 1000, 30).record_success()  # no state for later tests


def inbox(hub: Flask) -> list[InboxEntry]:
    with session_scope(hub.extensions["gudok"].session_factory) as session:
        return list(session.scalars(select(InboxEntry).order_by(InboxEntry.id)))


def parsed(hub: Flask, row: InboxEntry) -> dict[str, Any]:
    delivery = InboundDelivery(row.delivery_key, row.event, row.body, row.received_at)
    with hub.app_context():
        ctx = _context(hub, row.connection_id)
        [event] = PartnerConnector().parse_webhook(ctx, delivery)
        close_context(ctx)
    return event


def _context(hub: Flask, connection_id: int) -> Any:
    with session_scope(hub.extensions["gudok"].session_factory) as session:
        return connection_context(session.get_one(Connection, connection_id))


def fetch(url: str) -> requests.Response:
    with requests.Session() as session:
        session.trust_env = False
        return session.get(url, timeout=5)


def test_the_platform_reads_the_feed_reports_links_and_submits_a_product(world):
    platform, operator, catalog = world.platform, world.operator, world.catalog
    boxes = platform.read_feed()
    assert set(boxes) == {"BOX-1", "FEED-1"}
    assert [p["code"] for p in boxes["BOX-1"]["plans"]] == ["PLAN-1"]
    links = platform.list_boxes()
    assert platform.list_boxes() == links  # the same product ids and URLs every time
    assert platform.report_links() == 2
    shown = operator.get(f"/api/v1/bindings?connection_id={world.connection_id}").get_json()
    assert sorted((b["internal_id"], b["external_id"], b["url"]) for b in shown["data"]) == \
        sorted([(catalog["box"]["id"], links["BOX-1"].product_id, links["BOX-1"].url),
                (catalog["second"]["id"], links["FEED-1"].product_id, links["FEED-1"].url)])
    page = fetch(links["BOX-1"].url)
    assert page.status_code == 200 and "제철 과일 꾸러미" in page.text
    assert platform.report_links() == 2  # again: nothing new at the hub
    assert len(operator.get(f"/api/v1/bindings?connection_id={world.connection_id}")
               .get_json()["data"]) == 2
    # A withdrawn box leaves the platform at its next read.
    assert offer(operator, world.connection_id, [catalog["box"]["id"]]).status_code == 200
    assert set(platform.read_feed()) == {"BOX-1"}
    # Its own product, submitted for the mall with its page here as the URL.
    first = platform.submit_product("DAON-SUB-1", "제철 반찬 구독", "매주 오는 반찬", 29000,
                                    "weekly")
    assert (first.status, first.body["status"]) == (201, "pending"), first.body
    assert first.body["url"] == platform.product_url("DAON-SUB-1")
    assert platform.submit_product("DAON-SUB-1", "제철 반찬 구독", "매주 오는 반찬", 29000,
                                   "weekly").status == 200
    assert "제철 반찬 구독" in fetch(first.body["url"]).text
    assert platform.withdraw_product("DAON-SUB-1").status == 204


def test_orders_land_in_the_inbox_once_each_in_the_order_they_arrive(world):
    platform, hub = world.platform, world.hub
    platform.read_feed()
    product_id = platform.list_boxes()["BOX-1"].product_id
    order = platform.place_order("BOX-1", "PLAN-1", quantity=2)
    placed = platform.deliveries[-1]
    assert placed.statuses == [202]
    platform.faults.duplicate(3, concurrent=True)
    platform.cancel_order(order)
    cancelled = platform.deliveries[-1]
    assert sorted(cancelled.statuses) == [200, 200, 202]
    platform.faults.out_of_order(2)
    second = platform.place_order("BOX-1", "PLAN-1")
    assert platform.deliveries[-1].status is None and len(platform.held) == 1
    assert platform.refund(order, 10000) == 202  # sent, then the held order after it
    second_placed, refunded = platform.deliveries[-2:]
    assert second_placed.statuses == [202] and not platform.held

    rows = inbox(hub)
    assert [r.delivery_key for r in rows] == [placed.webhook_id, cancelled.webhook_id,
                                              refunded.webhook_id, second_placed.webhook_id]
    events = [parsed(hub, row) for row in rows]
    assert [(e["kind"], e["external_id"]) for e in events] == [
        ("order.upserted", order), ("order.cancelled", order), ("order.refunded", order),
        ("order.upserted", second)]
    first = events[0]["order"]
    assert (first["total"], first["status"]) == (90000, "paid")
    assert [(line["external_product_id"], line["sku"], line["quantity"], line["unit_price"])
            for line in first["lines"]] == [(product_id, "PLAN-1", 2, 45000)]
    assert events[2]["order"]["refunded"] == 10000


def test_badly_signed_webhooks_are_refused_and_the_event_log_keeps_them(world):
    platform, hub = world.platform, world.hub
    platform.read_feed()
    platform.faults.wrong_signature()
    order = platform.place_order("BOX-1", "PLAN-1")
    platform.faults.stale_timestamp()
    assert platform.cancel_order(order) == 401
    assert [d.statuses for d in platform.deliveries] == [[401], [401]]
    assert inbox(hub) == []
    # The safety net: the connection reads both from the platform's own log.
    with hub.app_context():
        ctx = _context(hub, world.connection_id)
        try:
            page = PartnerConnector().pull_orders(ctx, None, datetime.now(UTC))
        finally:
            close_context(ctx)
    assert [(r["delivery_key"], r["kind"], r["external_id"]) for r in page.records] == [
        (platform.deliveries[0].webhook_id, "order.upserted", order),
        (platform.deliveries[1].webhook_id, "order.cancelled", order)]
    assert page.cursor == platform.deliveries[1].webhook_id


def test_notifications_arrive_verified_once_with_one_webhook_id_across_faults(world):
    platform, hub, clock = world.platform, world.hub, world.clock
    t0 = datetime.now(UTC).replace(microsecond=0)
    clock.at = t0
    with session_scope(hub.extensions["gudok"].session_factory) as session:
        connection = session.get_one(Connection, world.connection_id)
        message = enqueue(session, connection, "box.changed", BOX_CHANGED, now=t0)
        message_id, webhook_id = message.id, message.webhook_id
    platform.faults.queue(429, retry_after=120)
    platform.faults.queue(503)

    def run(now: datetime) -> DeliveryReport:
        clock.at = now
        with hub.app_context():
            return deliver_due(world.connection_id, now=now)

    assert run(t0).rescheduled == 1  # 429: after Retry-After
    assert run(t0 + timedelta(seconds=120)).rescheduled == 1  # 503: after the schedule
    assert run(t0 + timedelta(seconds=130)).delivered == 1
    assert run(t0 + timedelta(seconds=200)).delivered == 0
    assert [(a.webhook_id, a.status) for a in platform.notification_attempts] == [
        (webhook_id, 429), (webhook_id, 503), (webhook_id, 200)]
    [kept] = platform.notifications
    assert (kept.webhook_id, kept.type, kept.data) == (webhook_id, "box.changed", BOX_CHANGED)
    with session_scope(hub.extensions["gudok"].session_factory) as session:
        assert session.get_one(OutboxMessage, message_id).status == "delivered"


def test_polling_takes_what_the_webhooks_lost_into_orders_once(world):
    """The polling path: events the hub refused as webhooks are read from the platform's
    log into the inbox and drained into one order; reading again adds nothing, and a
    delivery that did arrive as a webhook is not counted twice."""
    from hub.models import Order
    from jobs.inbox import drain_inbox
    from jobs.polling import poll_orders

    platform, hub = world.platform, world.hub
    platform.read_feed()
    platform.faults.wrong_signature()
    lost = platform.place_order("BOX-1", "PLAN-1")
    kept = platform.place_order("BOX-1", "PLAN-1")  # arrives as a webhook too
    with hub.app_context():
        assert poll_orders(world.connection_id).inserted == 1  # the lost one only
        assert poll_orders(world.connection_id).inserted == 0
        drained = drain_inbox(world.connection_id)
    assert drained.applied == 2 and drained.dead == 0
    with session_scope(hub.extensions["gudok"].session_factory) as session:
        orders = sorted((o.external_id, o.status) for o in session.scalars(select(Order)))
    assert orders == sorted([(lost, "paid"), (kept, "paid")])
