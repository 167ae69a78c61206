"""Voucher codes issued by a delivered round: counts, idempotence, unique unguessable codes,
validity in the tenant's calendar, redemption rules and the expiry run."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from hub.db import session_scope
from hub.models import Box
from hub.models.order import Contract, Order, OrderLine
from hub.models.round import Round, Voucher
from hub.services import vouchers
from hub.services.validation import Conflict
from hub.services.vouchers import VoucherExpired, expire_vouchers, issue_for_round, redeem
from jobs.vouchers import expire_all
from tests.factories import merchant_body
from tests.services.test_orders import partner_connection

# 2026-11-30 23:30 UTC is 2026-12-01 08:30 in Seoul: the tenant's date decides validity.
DELIVERED = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)


def sold_round(app: Flask, api: Any, *, boxes: int = 2, per_box: int = 2,
               valid_days: int | None = 30, seed: int = 1,
               tracking: str | None = None) -> dict[str, Any]:
    """A box with a physical item and a voucher item (per_box codes each), sold on a
    partner connection, and its first round delivered with `boxes` boxes."""
    merchant = api.post("/api/v1/merchants", json=merchant_body(seed)).get_json()
    apple = api.post("/api/v1/items", json={
        "merchant_id": merchant["id"], "sku": f"APPLE-{seed}", "name": "사과 1kg",
        "list_price": 10000, "tax_category": "exempt"}).get_json()
    voucher_body: dict[str, Any] = {
        "merchant_id": merchant["id"], "sku": f"TOUR-{seed}", "name": "한빛 관광 입장권",
        "list_price": 5000, "tax_category": "taxable", "kind": "voucher",
        "voucher_expiry_share_bp": 5000}
    if valid_days is not None:
        voucher_body["voucher_valid_days"] = valid_days
    ticket = api.post("/api/v1/items", json=voucher_body)
    assert ticket.status_code == 201, ticket.get_json()
    box = api.post("/api/v1/boxes", json={
        "code": f"VBOX-{seed}", "title": "관광 꾸러미", "status": "active",
        "capacity_per_round": 50,
        "components": [{"item_id": apple["id"], "quantity": 1, "weight": 1},
                       {"item_id": ticket.get_json()["id"], "quantity": per_box,
                        "weight": 1}]}).get_json()
    plan = api.post("/api/v1/plans", json={
        "box_id": box["id"], "code": f"VPLAN-{seed}", "name": "월간 3회",
        "cadence": "monthly", "prepaid_rounds": 3, "term_rounds": 3,
        "round_price": 30000}).get_json()
    connection_id = partner_connection(api, f"다온 {seed}")
    with session_scope(app.extensions["gudok"].session_factory) as session:
        box_row = session.get_one(Box, box["id"])
        order = Order(tenant_id=box_row.tenant_id, connection_id=connection_id,
                      external_id=f"DAON-V{seed}", number=str(seed), status="paid",
                      status_rank=1, placed_at=DELIVERED - timedelta(days=3),
                      source_updated_at=DELIVERED - timedelta(days=3), source_digest="x",
                      total=30000 * boxes * 3)
        line = OrderLine(external_line_id="1", box_id=box["id"],
                         box_version_id=box_row.current_version_id, plan_id=plan["id"],
                         quantity=boxes, unit_price=30000)
        order.lines.append(line)
        session.add(order)
        session.flush()
        contract = Contract(tenant_id=box_row.tenant_id, order_id=order.id,
                            order_line_id=line.id, plan_id=plan["id"], box_id=box["id"],
                            cadence="monthly", prepaid_rounds=3)
        session.add(contract)
        session.flush()
        round_ = Round(tenant_id=box_row.tenant_id, contract_id=contract.id, number=1,
                       sequence=1, scheduled_on=date(2026, 12, 1),
                       cutoff_at=DELIVERED - timedelta(days=2), quantity=boxes,
                       status="delivered", shipped_at=DELIVERED - timedelta(days=1),
                       delivered_at=DELIVERED, carrier="CJ대한통운",
                       tracking_number=tracking)
        session.add(round_)
        session.flush()
        return {"round": round_.id, "order": order.id, "connection": connection_id,
                "merchant": merchant["id"], "ticket": ticket.get_json()["id"],
                "tenant": box_row.tenant_id}


def issue(app: Flask, round_id: int) -> list[dict[str, Any]]:
    with session_scope(app.extensions["gudok"].session_factory) as session:
        issued = issue_for_round(session, session.get_one(Round, round_id))
        return [{"code": v.code, "unit": v.unit, "item": v.item_id, "merchant": v.merchant_id,
                 "valid_until": v.valid_until, "status": v.status} for v in issued]


def count(app: Flask) -> int:
    with session_scope(app.extensions["gudok"].session_factory) as session:
        return int(session.scalar(select(func.count()).select_from(Voucher)) or 0)


def test_two_boxes_of_two_vouchers_issue_four_codes_once(app: Flask, operator: Any) -> None:
    sold = sold_round(app, operator)
    first = issue(app, sold["round"])
    assert [v["unit"] for v in first] == [1, 2, 3, 4]
    assert {(v["item"], v["merchant"], v["status"]) for v in first} == {
        (sold["ticket"], sold["merchant"], "issued")}
    # Delivered 2026-12-01 in Seoul (still 11-30 in UTC), valid for 30 days from then.
    assert {v["valid_until"] for v in first} == {date(2026, 12, 31)}
    assert all(re.fullmatch(r"GV-[0-9A-HJKMNP-TV-Z]{12}", v["code"]) for v in first)
    assert len({v["code"] for v in first}) == 4
    assert issue(app, sold["round"]) == first
    assert count(app) == 4


def test_validity_defaults_to_ninety_days(app: Flask, operator: Any) -> None:
    sold = sold_round(app, operator, boxes=1, per_box=1, valid_days=None)
    [voucher] = issue(app, sold["round"])
    assert voucher["valid_until"] == date(2026, 12, 1) + timedelta(days=90)


def test_a_code_collision_is_retried_with_a_new_code(app: Flask, operator: Any,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    sold = sold_round(app, operator, boxes=1, per_box=1, seed=1)
    [taken] = issue(app, sold["round"])
    other = sold_round(app, operator, boxes=1, per_box=2, seed=2)
    codes = iter([taken["code"], taken["code"], "GV-AAAAAAAAAAAA", "GV-BBBBBBBBBBBB"])
    monkeypatch.setattr(vouchers, "new_code", lambda: next(codes))
    issued = issue(app, other["round"])
    assert [v["code"] for v in issued] == ["GV-AAAAAAAAAAAA", "GV-BBBBBBBBBBBB"]


def test_codes_are_read_as_people_type_them() -> None:
    assert vouchers.normalise_code(" gv-abcd efgh ijkl ") == "GV-ABCDEFGH1JK1"
    assert vouchers.normalise_code("ABCD-EFGH-0000") == "GV-ABCDEFGH0000"
    assert len({vouchers.new_code() for _ in range(1000)}) == 1000


def test_redeem_duplicate_and_expired(app: Flask, operator: Any) -> None:
    sold = sold_round(app, operator, boxes=1, per_box=2)
    issue(app, sold["round"])
    with session_scope(app.extensions["gudok"].session_factory) as session:
        first, second = session.scalars(select(Voucher).order_by(Voucher.unit))
        at = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)
        assert redeem(session, first, redeemed_at=at, place="한빛 전망대").changed
        again = redeem(session, first, redeemed_at=at, place="한빛 전망대")
        assert not again.changed and first.status == "redeemed"
        assert not redeem(session, first).changed
        with pytest.raises(Conflict):
            redeem(session, first, redeemed_at=at + timedelta(days=1))
        # 2026-12-31 23:30 in Seoul is still valid; 00:30 on 2027-01-01 is not.
        late = datetime(2026, 12, 31, 15, 30, tzinfo=UTC)
        with pytest.raises(VoucherExpired):
            redeem(session, second, redeemed_at=late)
        assert redeem(session, second, redeemed_at=late - timedelta(hours=1)).changed
        assert first.posted_at is None and second.posted_at is None


def test_expiry_marks_issued_vouchers_past_their_day_once(app: Flask, operator: Any) -> None:
    sold = sold_round(app, operator, boxes=1, per_box=2)
    issue(app, sold["round"])
    factory = app.extensions["gudok"].session_factory
    with session_scope(factory) as session:
        first = session.scalars(select(Voucher).order_by(Voucher.unit)).first()
        assert first is not None
        redeem(session, first, redeemed_at=datetime(2026, 12, 2, tzinfo=UTC))
        assert expire_vouchers(session, sold["tenant"], date(2026, 12, 31)) == 0
    with app.app_context():
        # 2026-12-31 16:00 UTC is 2027-01-01 in Seoul: the last valid day has passed.
        assert expire_all(datetime(2026, 12, 31, 14, 0, tzinfo=UTC))[sold["tenant"]] == 0
        assert expire_all(datetime(2026, 12, 31, 16, 0, tzinfo=UTC))[sold["tenant"]] == 1
        assert expire_all(datetime(2027, 1, 2, tzinfo=UTC))[sold["tenant"]] == 0
    with session_scope(factory) as session:
        states = [(v.unit, v.status, v.expired_at is not None, v.posted_at)
                  for v in session.scalars(select(Voucher).order_by(Voucher.unit))]
    assert states == [(1, "redeemed", False, None), (2, "expired", True, None)]
