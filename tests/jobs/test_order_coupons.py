"""An order's coupon and the channel's fee come in with the order: the coupon by its code (a
campaign of the hub, whose funder is data), the fee as the channel reports it."""

from __future__ import annotations

from sqlalchemy import select

from hub.db import session_scope
from hub.models import InboxEntry, Order
from tests.jobs.test_inbox_drain import add_rows, drain, partner, placed  # noqa: F401


def test_a_coupon_code_and_a_reported_fee_land_on_the_order(app, partner, operator):  # noqa: F811
    created = operator.post("/api/v1/coupons", json={
        "code": "HANBIT-5000", "label": "한빛 지역화폐 쿠폰", "funder": "municipality",
        "amount": 5000})
    assert created.status_code == 201, created.get_json()
    add_rows(app, partner["id"], [
        placed("C-1", coupon_code="HANBIT-5000", channel_fee=4950),
        placed("C-2", coupon_code="HANBIT-5000", coupon_amount=3000),
        placed("C-3", coupon_code="NO-SUCH-CODE")])
    drain(app, partner["id"], max_attempts=1)
    with session_scope(app.extensions["gudok"].session_factory) as session:
        orders = {o.external_id: o for o in session.scalars(select(Order))}
        assert (orders["C-1"].coupon_amount, orders["C-1"].channel_fee) == (5000, 4950)
        assert orders["C-1"].coupon_id == created.get_json()["id"]
        assert (orders["C-2"].coupon_amount, orders["C-2"].channel_fee) == (3000, None)
        assert "C-3" not in orders  # an unknown campaign waits for an operator, named
        dead = session.scalar(select(InboxEntry).where(InboxEntry.status == "dead"))
        assert dead is not None and "coupon_code" in (dead.last_error or "")
