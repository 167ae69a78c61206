"""The partner connector passes the shared conformance suite: failure classification through
the real transport, and idempotency, cursors and log redaction against the sandbox platform
(its event log for reads, its notification endpoint for writes)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from requests.structures import CaseInsensitiveDict

import connectors.partner
from connectors.base import (
    ConnectionInfo,
    InboundDelivery,
    Page,
    SyncContext,
    WebhookSignatureError,
    redacting_logger,
)
from connectors.conformance import ConnectorConformance
from connectors.http import HttpClient
from connectors.partner import PartnerConnector
from connectors.partner.sandbox import PartnerSandbox
from connectors.partner.signing import new_secret
from hub.errors import ConfigurationError
from hub.services.notifications import envelope_body

LOOPBACK = ["127.0.0.1", "::1", "localhost"]
INBOUND_SECRET, OUTBOUND_SECRET = new_secret(), new_secret()
EVENTS_TOKEN = "conformance-events-token-7c1f09"
CONNECTION = ConnectionInfo(id=9101, tenant_id=1, connector="partner",
                            name="conformance platform")
NOTIFICATION_ID = "msg_conformance_box_changed_1"
NOTIFICATION = envelope_body("box.changed", {"box_id": 7, "code": "HB-BOX-001",
                                             "availability": 12},
                             datetime(2026, 12, 1, 3, 0, tzinfo=UTC)).encode("utf-8")
SEEDED = 4  # events in the platform's log: three orders placed, one cancelled
_connection_ids = itertools.count(1)


class Clock:
    """Real time, unless a test sets `at`."""

    def __init__(self) -> None:
        self.at: datetime | None = None

    def __call__(self) -> datetime:
        return self.at or datetime.now(UTC)


class ReceivingHub:
    """The hub's webhook endpoint in miniature: the connector verifies each delivery, which
    is kept once per webhook-id (202 new, 200 repeat, the signature error's status)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.kept: dict[str, InboundDelivery] = {}

    def __call__(self, url: str, headers: Mapping[str, str], body: bytes) -> int:
        ctx = SyncContext(connection=CONNECTION, config={"inbound_secret": INBOUND_SECRET},
                          http=None, log=redacting_logger("partner.receiving", []),
                          clock=self.clock)
        try:
            delivery = PartnerConnector().verify_webhook(ctx, CaseInsensitiveDict(headers),
                                                         body)
        except WebhookSignatureError as error:
            return int(getattr(error, "status", 401))
        if delivery.delivery_key in self.kept:
            return 200
        self.kept[delivery.delivery_key] = delivery
        return 202


def order_data(number: int) -> dict[str, Any]:
    return {"order_id": f"CONF-{number}", "status": "paid", "total": 45000 * number,
            "customer_ref": f"c-{number}",
            "lines": [{"line_id": "1", "listing_id": "p-conf-0001", "plan_code": "PLAN-1",
                       "quantity": number, "unit_price": 45000}]}


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="module")
def receiving_hub(clock: Clock) -> ReceivingHub:
    return ReceivingHub(clock)


@pytest.fixture(scope="module")
def sandbox(clock: Clock, receiving_hub: ReceivingHub) -> Iterator[PartnerSandbox]:
    """A running platform whose log holds events sent ten minutes apart, in the past."""
    platform = PartnerSandbox(
        "적합성 플랫폼", hub_url="http://127.0.0.1:9/", connection_id=CONNECTION.id,
        api_token="unused", inbound_secret=INBOUND_SECRET, outbound_secret=OUTBOUND_SECRET,
        events_token=EVENTS_TOKEN, clock=clock, sender=receiving_hub).start()
    try:
        start = datetime.now(UTC) - timedelta(minutes=50)
        for number in range(1, SEEDED):
            clock.at = start + timedelta(minutes=10 * number)
            platform.send_event("order.placed", order_data(number))
        clock.at = start + timedelta(minutes=10 * SEEDED)
        platform.send_event("order.cancelled", order_data(1))
        clock.at = None
        yield platform
    finally:
        clock.at = None
        platform.stop()


@pytest.fixture(autouse=True)
def _no_leftover_faults(sandbox: PartnerSandbox) -> Iterator[None]:
    yield
    sandbox.faults.reset()


def pull(ctx: SyncContext, cursor: str | None = None, until: datetime | None = None) -> Page:
    return PartnerConnector().pull_orders(ctx, cursor, until or datetime.now(UTC))


class TestPartnerConformance(ConnectorConformance):
    connector = PartnerConnector

    @pytest.fixture
    def valid_config(self, sandbox: PartnerSandbox) -> dict[str, Any]:
        return {"platform_name": "적합성 플랫폼", "inbound_secret": INBOUND_SECRET,
                "inbound_secret_previous": None, "outbound_url": sandbox.notifications_url,
                "outbound_secret": OUTBOUND_SECRET, "events_url": sandbox.events_url,
                "events_token": EVENTS_TOKEN, "tolerance_seconds": 300}

    @pytest.fixture
    def make_context(self) -> Iterator[Callable[[dict[str, Any]], SyncContext]]:
        clients: list[HttpClient] = []

        def make(config: dict[str, Any]) -> SyncContext:
            # A fresh connection id each time: no circuit breaker or token bucket carries
            # failures from one test into the next.
            http = HttpClient(f"partner-conformance-{next(_connection_ids)}",
                              allow_hosts=LOOPBACK, sleep=lambda _seconds: None,
                              max_attempts=2, connect_timeout=2.0, read_timeout=5.0,
                              rate_per_second=1000.0, burst=1000)
            clients.append(http)
            secrets = [str(config[name]) for name in PartnerConnector.secret_fields()
                       if config.get(name)]
            return SyncContext(connection=CONNECTION, config=dict(config), http=http,
                               log=redacting_logger(f"partner.{CONNECTION.id}", secrets))

        yield make
        for client in clients:
            client.close()

    @pytest.fixture
    def platform_url(self, sandbox: PartnerSandbox) -> str:
        return sandbox.url

    @pytest.fixture
    def read_once(self) -> Callable[[SyncContext], Page]:
        return lambda ctx: pull(ctx)

    @pytest.fixture
    def write_once(self) -> Callable[[SyncContext], int]:
        return lambda ctx: PartnerConnector().send_notification(
            ctx, NOTIFICATION_ID, NOTIFICATION, datetime.now(UTC))

    @pytest.fixture
    def platform_state(self, sandbox: PartnerSandbox) -> Callable[[], list[Any]]:
        return lambda: sandbox.notifications

    @pytest.fixture
    def stream_page(self) -> Callable[[SyncContext, str | None], Page]:
        return lambda ctx, cursor: pull(ctx, cursor)

    @pytest.fixture
    def cursor_order(self, sandbox: PartnerSandbox) -> Callable[[str], int]:
        """A cursor is the id of the last event read: ordered by its place in the log."""
        ids = [event["id"] for event in sandbox.events]
        return ids.index

    # --- partner-specific checks that make the generic ones meaningful ------------------

    def test_the_log_holds_what_the_platform_sent_as_webhooks(
            self, sandbox: PartnerSandbox, receiving_hub: ReceivingHub,
            make_context: Callable[[dict[str, Any]], SyncContext],
            valid_config: dict[str, Any]) -> None:
        page = pull(make_context(valid_config))
        assert len(page.records) == SEEDED and page.has_more is False
        assert [r["delivery_key"] for r in page.records] == [e["id"] for e in sandbox.events]
        assert page.cursor == sandbox.events[-1]["id"]
        # Each record is what the webhook with the same id parses to, plus its id.
        connector, ctx = PartnerConnector(), make_context(valid_config)
        for record in page.records:
            delivery = receiving_hub.kept[record["delivery_key"]]
            [event] = connector.parse_webhook(ctx, delivery)
            assert record == {**event, "delivery_key": delivery.delivery_key}
        assert [r["kind"] for r in page.records] == ["order.upserted"] * 3 + ["order.cancelled"]

    def test_until_leaves_later_events_for_the_next_read(
            self, sandbox: PartnerSandbox, make_context: Callable[[dict[str, Any]], SyncContext],
            valid_config: dict[str, Any]) -> None:
        ctx = make_context(valid_config)
        ids = [event["id"] for event in sandbox.events]
        second = datetime.fromisoformat(sandbox.events[1]["timestamp"].replace("Z", "+00:00"))
        early = pull(ctx, None, second)
        assert [r["delivery_key"] for r in early.records] == ids[:2]
        assert early.cursor == ids[1]
        rest = pull(ctx, early.cursor)
        assert [r["delivery_key"] for r in rest.records] == ids[2:]
        before_all = pull(ctx, None, second - timedelta(hours=1))
        assert (before_all.records, before_all.cursor) == ([], None)

    def test_small_pages_read_the_same_records(
            self, make_context: Callable[[dict[str, Any]], SyncContext],
            valid_config: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
        ctx = make_context(valid_config)
        whole = pull(ctx)
        monkeypatch.setattr(connectors.partner, "EVENTS_PAGE_SIZE", 3)
        paged = pull(ctx)
        assert paged == whole

    def test_the_notification_is_verified_and_recorded_once(
            self, sandbox: PartnerSandbox, write_once: Callable[[SyncContext], int],
            make_context: Callable[[dict[str, Any]], SyncContext],
            valid_config: dict[str, Any]) -> None:
        assert write_once(make_context(valid_config)) == 200
        assert write_once(make_context(valid_config)) == 200
        [kept] = [n for n in sandbox.notifications if n.webhook_id == NOTIFICATION_ID]
        assert (kept.type, kept.data["code"]) == ("box.changed", "HB-BOX-001")
        statuses = {a.status for a in sandbox.notification_attempts
                    if a.webhook_id == NOTIFICATION_ID}
        assert statuses == {200}
        # Signed with a key the platform does not share: refused, nothing recorded.
        stranger = make_context({**valid_config, "outbound_secret": new_secret()})
        before = sandbox.notifications
        with pytest.raises(ConfigurationError):
            PartnerConnector().send_notification(stranger, "msg_stranger_1", NOTIFICATION,
                                                 datetime.now(UTC))
        assert sandbox.notifications == before

    def test_without_an_events_url_pulling_is_a_configuration_error_with_a_fix(
            self, make_context: Callable[[dict[str, Any]], SyncContext],
            valid_config: dict[str, Any]) -> None:
        with pytest.raises(ConfigurationError) as raised:
            pull(make_context({**valid_config, "events_url": None}))
        assert "events_url" in (raised.value.fix or "")
