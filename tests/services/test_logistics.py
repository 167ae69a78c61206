"""Logistics of rounds: pick lists take the box version each order was sold with, grouped by
centre and by merchant; marks move a round forward only, and a delivered round counts on
its contract once, however often or concurrently it is marked; a mall's fulfilment ships
the round it stands for."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, date, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from hub.db import session_scope
from hub.models import Box, Connection, Contract, InboxEntry, Order, Round, StockLocation
from hub.services import logistics
from hub.services.validation import Conflict, RecordInvalid
from jobs.inbox import drain_inbox
from tests.factories import create_catalog
from tests.mappings.saleor.samples import order as mall_order
from tests.services.test_orders import apply, order_event, partner_connection

DAY = date(2026, 12, 30)


def factory(app: Flask) -> Any:
    return app.extensions["gudok"].session_factory


def add_round(app: Flask, contract_id: int, number: int, on: date, quantity: int,
              status: str = "scheduled") -> int:
    with session_scope(factory(app)) as session:
        contract = session.get_one(Contract, contract_id)
        row = Round(tenant_id=contract.tenant_id, contract_id=contract_id, number=number,
                    sequence=number, scheduled_on=on, quantity=quantity, status=status,
                    cutoff_at=datetime(on.year, on.month, on.day, tzinfo=UTC))
        session.add(row)
        session.flush()
        return row.id


def contract_of(app: Flask, external_id: str) -> int:
    with session_scope(factory(app)) as session:
        return int(session.scalar(select(Contract.id).join(Order, Order.id == Contract.order_id)
                                  .where(Order.external_id == external_id)))


def pack_at(app: Flask, box_id: int, location_code: str | None) -> None:
    with session_scope(factory(app)) as session:
        location = session.scalar(select(StockLocation.id).where(
            StockLocation.code == location_code)) if location_code else None
        session.get_one(Box, box_id).packed_at_id = location


@pytest.fixture
def sold(app: Flask, operator: Any) -> dict[str, Any]:
    """Box 1 (packed at LC-1) sold on version 1 (item 1 x1, item 2 x2) to OLD, then on
    version 2 (item 1 x3) to NEW; box 2 (no centre) sold to OTHER; rounds on DAY."""
    first, second = create_catalog(operator, 1), create_catalog(operator, 2)
    partner = partner_connection(operator)
    apply(app, partner, order_event("order.upserted", "paid", 1, external_id="OLD"))
    items = first["items"]
    changed = operator.patch(f"/api/v1/boxes/{first['box']['id']}", json={"components": [
        {"item_id": items[0]["id"], "quantity": 3, "weight": 1}]})
    assert changed.status_code == 200, changed.get_json()
    apply(app, partner,
          order_event("order.upserted", "paid", 2, external_id="NEW", quantity=1),
          order_event("order.upserted", "paid", 3, external_id="OTHER", quantity=1,
                      sku="PLAN-2"),
          order_event("order.upserted", "paid", 4, external_id="GONE", quantity=5))
    pack_at(app, first["box"]["id"], "LC-1")
    contracts = {name: contract_of(app, name) for name in ("OLD", "NEW", "OTHER", "GONE")}
    rounds = {"old": add_round(app, contracts["OLD"], 1, DAY, 2),
              "new": add_round(app, contracts["NEW"], 1, DAY, 1, status="shipped"),
              "other": add_round(app, contracts["OTHER"], 1, DAY, 1),
              "gone": add_round(app, contracts["GONE"], 1, DAY, 5, status="cancelled"),
              "later": add_round(app, contracts["OLD"], 2, date(2027, 1, 30), 2)}
    return {"first": first, "second": second, "partner": partner, "contracts": contracts,
            "rounds": rounds}


def lists(app: Flask, on: date = DAY) -> logistics.PickLists:
    with session_scope(factory(app)) as session:
        tenant_id = session.scalar(select(Connection.tenant_id).limit(1))
        return logistics.pick_lists(session, int(tenant_id), on)


def test_pick_lists_pack_the_version_each_order_was_sold_with_per_centre(app, sold):
    by_centre = lists(app).by_centre()
    assert [(g["centre"].code, g["centre"].name) for g in by_centre] == [
        ("LC-1", "한빛 물류센터"), ("unassigned", "미지정")]
    centre, unassigned = by_centre
    assert [(b.box_code, b.version, b.boxes) for b in centre["boxes"]] == [
        ("BOX-1", 1, 2), ("BOX-1", 2, 1)]
    # OLD: 2 boxes x (1, 2) on version 1; NEW: 1 box x 3 on version 2; GONE is cancelled.
    assert [(i.sku, i.unit, i.quantity) for i in centre["items"]] == [
        ("SKU-1-1", "1kg", 5), ("SKU-1-2", "2kg", 4)]
    assert [(b.box_code, b.boxes) for b in unassigned["boxes"]] == [("BOX-2", 1)]
    assert [(i.sku, i.quantity) for i in unassigned["items"]] == [("SKU-2-1", 1),
                                                                  ("SKU-2-2", 2)]
    assert lists(app, date(2027, 1, 30)).by_centre()[0]["items"][0].quantity == 2
    assert lists(app, date(2027, 2, 1)).by_centre() == []


def test_pick_lists_per_merchant_name_what_each_brings_to_each_centre(app, sold):
    by_merchant = lists(app).by_merchant()
    assert [(g["merchant"]["name"], [(c["centre"].code, [(i.sku, i.quantity) for i in
                                                          c["items"]])
                                     for c in g["centres"]]) for g in by_merchant] == [
        ("한빛농원 1", [("LC-1", [("SKU-1-1", 5), ("SKU-1-2", 4)])]),
        ("한빛농원 2", [("unassigned", [("SKU-2-1", 1), ("SKU-2-2", 2)])])]


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[int]]:
    """The round ids the voucher and tracking services were called with (and still run)."""
    from hub.services import tracking, vouchers

    seen: dict[str, list[int]] = {"vouchers": [], "tracking": []}
    issue, queue = vouchers.issue_for_round, tracking.queue_tracking_push

    def spy_issue(session: Any, round_: Round) -> Any:
        seen["vouchers"].append(round_.id)
        return issue(session, round_)

    def spy_queue(session: Any, round_: Round) -> None:
        seen["tracking"].append(round_.id)
        queue(session, round_)

    monkeypatch.setattr(vouchers, "issue_for_round", spy_issue)
    monkeypatch.setattr(tracking, "queue_tracking_push", spy_queue)
    return seen


def mark(app: Flask, round_id: int, status: str, **kwargs: Any) -> str:
    with session_scope(factory(app)) as session:
        return logistics.mark_round(session, session.get_one(Round, round_id), status,
                                    **kwargs)


def stored(app: Flask, model: Any, row_id: int) -> Any:
    with session_scope(factory(app)) as session:
        row = session.get_one(model, row_id)
        session.expunge(row)
        return row


def test_marks_move_forward_once_and_count_the_delivery_once(app, sold, calls):
    old = sold["rounds"]["old"]
    assert mark(app, old, "shipped", carrier="CJ대한통운", tracking_number="5001") == "applied"
    assert mark(app, old, "shipped", carrier="CJ대한통운", tracking_number="5001") == \
        "unchanged"
    assert calls["tracking"] == [old]
    assert mark(app, old, "shipped", carrier="CJ대한통운", tracking_number="5002") == "applied"
    assert calls["tracking"] == [old, old] and stored(app, Round, old).tracking_number == "5002"
    assert mark(app, old, "delivered") == "applied"
    assert mark(app, old, "delivered") == "unchanged"
    with pytest.raises(Conflict):
        mark(app, old, "shipped", carrier="CJ대한통운", tracking_number="5003")
    row = stored(app, Round, old)
    assert (row.status, row.tracking_number) == ("delivered", "5002")
    assert row.shipped_at <= row.delivered_at
    assert stored(app, Contract, sold["contracts"]["OLD"]).rounds_delivered == 1
    assert calls["vouchers"] == [old]


def test_delivering_a_scheduled_round_implies_it_shipped_and_dead_rounds_refuse(app, sold,
                                                                                 calls):
    other = sold["rounds"]["other"]
    at = datetime(2026, 11, 29, 9, 0)  # no offset: the tenant's time zone (Seoul)
    assert mark(app, other, "delivered", at=at) == "applied"
    row = stored(app, Round, other)
    assert row.status == "delivered" and row.delivered_at == row.shipped_at == datetime(
        2026, 11, 29, 0, 0, tzinfo=UTC)
    assert calls == {"vouchers": [other], "tracking": []}
    with pytest.raises(Conflict):
        mark(app, sold["rounds"]["gone"], "delivered")
    with pytest.raises(RecordInvalid) as error:
        mark(app, sold["rounds"]["later"], "shipped", carrier="CJ", tracking_number="1",
             at=datetime(2030, 1, 1, tzinfo=UTC), at_field="shipped_at")
    assert error.value.errors[0]["path"] == "shipped_at"
    assert stored(app, Round, sold["rounds"]["later"]).status == "scheduled"


def test_two_deliveries_at_once_count_the_round_once(app, sold, calls):
    old = sold["rounds"]["old"]
    barrier = threading.Barrier(2, timeout=30)
    outcomes: list[str] = []

    def deliver() -> None:
        barrier.wait()
        with app.app_context(), session_scope(factory(app)) as session:
            row = session.get_one(Round, old)
            outcomes.append(logistics.mark_round(session, row, "delivered"))
            time.sleep(0.2)  # hold the lock while the other caller waits on it

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["applied", "unchanged"]
    assert stored(app, Contract, sold["contracts"]["OLD"]).rounds_delivered == 1
    assert calls["vouchers"] == [old]


# -- the mall's fulfilment, through the inbox drain -------------------------------------------

ISSUED = "2026-11-28T01:06:00+00:00"  # 10:06 in Seoul: rounds due by 11-29 may ship


def mall_row(app: Flask, connection_id: int, event: str, payload: dict[str, Any]) -> None:
    with session_scope(factory(app)) as session:
        tenant_id = session.get_one(Connection, connection_id).tenant_id
        session.add(InboxEntry(tenant_id=tenant_id, connection_id=connection_id,
                               delivery_key=f"{event}-{time.monotonic_ns()}", event=event,
                               body=json.dumps(payload).encode(),
                               received_at=datetime.now(UTC), status="pending", attempts=0))


def drain(app: Flask, connection_id: int) -> Any:
    with app.app_context():
        return drain_inbox(connection_id)


@pytest.fixture
def mall_contract(app: Flask, operator: Any) -> dict[str, Any]:
    """A paid mall order of PLAN-1 with three rounds: due 11-20, 11-29 and 12-20."""
    catalog = create_catalog(operator)
    connection = catalog["connection"]["id"]
    line = {**mall_order()["lines"][0], "productSku": "PLAN-1"}
    paid = mall_order(created="2026-10-20T01:00:00+00:00", lines=[line])
    mall_row(app, connection, "order_fully_paid", {"issuedAt": ISSUED, "order": paid})
    assert drain(app, connection).applied == 1
    contract = contract_of(app, paid["id"])
    rounds = [add_round(app, contract, number, on, 2) for number, on in
              enumerate((date(2026, 11, 20), date(2026, 11, 29), date(2026, 12, 20)), 1)]
    return {"connection": connection, "contract": contract, "rounds": rounds, "line": line}


def statuses(app: Flask, rounds: list[int]) -> list[tuple[str, str | None]]:
    return [(r.status, r.tracking_number) for r in (stored(app, Round, i) for i in rounds)]


def fulfilment(line: dict[str, Any], tracking: str | None = "CJ-7") -> dict[str, Any]:
    return {"issuedAt": ISSUED, "order": mall_order(
        status="FULFILLED", created="2026-10-20T01:00:00+00:00", lines=[line]),
        "fulfillment": {"id": "RnVsZmlsbG1lbnQ6MQ==", "status": "FULFILLED",
                        "trackingNumber": tracking,
                        "lines": [{"quantity": 2, "orderLine": {"id": line["id"]}}]}}


def test_a_mall_fulfilment_ships_the_earliest_round_due_once(app, mall_contract, calls):
    rounds, connection = mall_contract["rounds"], mall_contract["connection"]
    mall_row(app, connection, "fulfillment_created", fulfilment(mall_contract["line"]))
    assert drain(app, connection).applied == 1
    assert statuses(app, rounds) == [("shipped", "CJ-7"), ("scheduled", None),
                                     ("scheduled", None)]
    assert calls["tracking"] == []  # the mall reported the number: nothing to push back
    mall_row(app, connection, "fulfillment_created", fulfilment(mall_contract["line"]))
    report = drain(app, connection)
    assert (report.applied, report.unchanged) == (0, 1)
    assert statuses(app, rounds)[1] == ("scheduled", None)


def test_an_order_reported_fulfilled_first_takes_the_tracking_number_later(app,
                                                                           mall_contract):
    rounds, connection = mall_contract["rounds"], mall_contract["connection"]
    line = mall_contract["line"]
    updated = mall_order(status="FULFILLED", created="2026-10-20T01:00:00+00:00",
                         updatedAt="2026-11-28T01:07:00+00:00", lines=[line])
    mall_row(app, connection, "order_updated", {"issuedAt": ISSUED, "order": updated})
    drain(app, connection)
    assert statuses(app, rounds)[:2] == [("shipped", None), ("scheduled", None)]
    mall_row(app, connection, "fulfillment_created", fulfilment(line))
    drain(app, connection)
    assert statuses(app, rounds) == [("shipped", "CJ-7"), ("scheduled", None),
                                     ("scheduled", None)]
