"""Tracking numbers reach the partner platform the order came from (against its sandbox):
queued after commit, sent once, retried after a 5xx; and the platform's settlement report
is pulled for a period, misreported order included."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select

from connectors.http.limits import local_breaker
from connectors.partner.sandbox import PartnerSandbox
from connectors.partner.signing import new_secret
from hub import create_app
from hub.db import session_scope
from hub.demo_mall import serving
from hub.errors import TransientError
from hub.models import Connection, ReconciliationRow
from hub.models.round import Round
from hub.services import signals
from hub.services.settlement_pull import pull_settlement_report
from hub.services.tokens import create_token
from hub.services.tracking import queue_tracking_push
from jobs.runner import execute
from tests.api.test_partner_feed import offer
from tests.conftest import ApiClient, app_config, make_token
from tests.services.test_vouchers import sold_round

LOOPBACK = ["127.0.0.1", "::1", "localhost"]


@pytest.fixture
def hub(app: Flask, database_url: str, tmp_path: Any) -> Iterator[Flask]:
    hub = create_app(app_config(database_url, outbound_allow_hosts=LOOPBACK,
                                var_dir=str(tmp_path), http_timeout_seconds=5,
                                http_breaker_failures=1000, http_rate_limit_per_second=1000,
                                http_rate_limit_burst=1000, http_max_attempts=1))
    yield hub
    hub.extensions["gudok"].engine.dispose()


@pytest.fixture
def shipped(hub: Flask, tenants: dict[str, int]) -> Iterator[dict[str, Any]]:
    """A delivered round with a tracking number, sold on a partner connection pointed at a
    running platform sandbox."""
    operator = ApiClient(hub.test_client(), make_token(hub, "operator", "hanbit"))
    sold = sold_round(hub, operator, tracking="6100-2233-4455")
    outbound = new_secret()
    with session_scope(hub.extensions["gudok"].session_factory) as session:
        _row, token = create_token(session, "partner", "hanbit", "sandbox", sold["connection"])
    with serving(hub) as hub_url, PartnerSandbox(
            "다온", hub_url=hub_url, connection_id=sold["connection"], api_token=token,
            inbound_secret=new_secret(), outbound_secret=outbound) as platform:
        pointed = operator.patch(f"/api/v1/connections/{sold['connection']}", json={"config": {
            "outbound_url": platform.notifications_url, "outbound_secret": outbound,
            "settlements_url": platform.settlements_url,
            "events_token": platform.events_token}})
        assert pointed.status_code == 200, pointed.get_json()
        yield {**sold, "platform": platform, "operator": operator}
    local_breaker(str(sold["connection"]), 1000, 30).record_success()


def pushed_at(hub: Flask, round_id: int) -> datetime | None:
    with session_scope(hub.extensions["gudok"].session_factory) as session:
        return session.get_one(Round, round_id).tracking_pushed_at


def test_a_tracking_number_is_queued_after_commit_and_sent_once(hub: Flask,
                                                                shipped: dict[str, Any]) -> None:
    platform = shipped["platform"]
    with hub.app_context(), session_scope(hub.extensions["gudok"].session_factory) as session:
        queue_tracking_push(session, session.get_one(Round, shipped["round"]))
        assert ("tracking", shipped["connection"]) in session.info[signals.JOBS]
    first = execute(hub, "tracking", shipped["connection"])
    assert first.status == "success", first.error
    assert first.report.pushed == [shipped["round"]]
    [sent] = platform.fulfilments
    assert sent.data["order_id"] == "DAON-V1"
    assert (sent.data["tracking_number"], sent.data["carrier"]) == ("6100-2233-4455",
                                                                    "CJ대한통운")
    assert sent.data["lines"] == [{"line_id": "1", "quantity": 2}]
    assert pushed_at(hub, shipped["round"]) is not None
    again = execute(hub, "tracking", shipped["connection"])
    assert again.status == "success" and again.report.pushed == []
    assert len(platform.fulfilments) == 1


def test_a_5xx_is_retried_and_the_round_pushed_afterwards(hub: Flask,
                                                          shipped: dict[str, Any]) -> None:
    platform = shipped["platform"]
    platform.faults.queue(503, times=3)
    failed = execute(hub, "tracking", shipped["connection"])
    assert failed.status == "retry" and isinstance(failed.error, TransientError)
    assert pushed_at(hub, shipped["round"]) is None and platform.fulfilments == []
    platform.faults.reset()
    retried = execute(hub, "tracking", shipped["connection"])
    assert retried.status == "success" and retried.report.pushed == [shipped["round"]]
    assert len(platform.fulfilments) == 1


def test_the_settlement_report_is_pulled_with_a_misreported_order(
        hub: Flask, shipped: dict[str, Any]) -> None:
    platform, operator = shipped["platform"], shipped["operator"]
    catalog_box = operator.get("/api/v1/boxes").get_json()["data"][0]
    assert offer(operator, shipped["connection"], [catalog_box["id"]]).status_code == 200
    platform.read_feed()
    first = platform.place_order("VBOX-1", "VPLAN-1", 2)
    second = platform.place_order("VBOX-1", "VPLAN-1", 1)
    platform.misreport_settlement(second, -3000)
    now = datetime.now(UTC)
    report = platform.settlement_report(datetime(2000, 1, 1, tzinfo=UTC), now.replace(
        year=now.year + 1))
    assert [(r["order_id"], r["gross"], r["fee"], r["payout"]) for r in report] == [
        (first, 60000, 6600, 53400), (second, 30000, 3300, 23700)]
    period = now.astimezone(ZoneInfo("Asia/Seoul")).strftime("%Y-%m")
    with hub.app_context(), session_scope(hub.extensions["gudok"].session_factory) as session:
        report_id = pull_settlement_report(session, shipped["connection"], period)
        rows = {row.external_order_id: (row.status, row.reported) for row in session.scalars(
            select(ReconciliationRow).where(ReconciliationRow.report_id == report_id))}
        assert session.get_one(Connection, shipped["connection"]).connector == "partner"
    assert rows[first][1] == 53400 and rows[second][1] == 23700
