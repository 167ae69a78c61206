"""Applying a channel's events: orders by rank and the platform's time, lines resolved to the
box version and plan sold, contracts, claims, stock held by open orders, stock reports and
listings. The final state never depends on the order in which reports arrive."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from connectors.partner.signing import new_secret
from hub.db import session_scope
from hub.errors import RecordError
from hub.models import (
    Binding,
    Box,
    Connection,
    Contract,
    Customer,
    Order,
    Round,
    StockLevel,
    StockLocation,
    StockMovement,
)
from hub.services.availability import box_availability
from hub.services.contract_lifecycle import cancel_contract, pause_contract
from hub.services.orders import apply_event, held_quantities
from hub.services.rounds import schedule_rounds
from tests.api.test_partner_feed import offer
from tests.factories import create_catalog

T0 = datetime(2026, 11, 29, 15, 30, tzinfo=UTC)  # 2026-11-30 00:30 in Seoul


def at(minutes: int) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat()


def order_event(kind: str, status: str, minutes: int, *, external_id: str = "DAON-1",
                refunded: int = 0, quantity: int = 2, sku: str = "PLAN-1",
                listing: str | None = "L-9", claim: dict[str, Any] | None = None,
                customer_ref: str = "c-77") -> dict[str, Any]:
    """A canonical order event as the partner mapping makes it (times as ISO text)."""
    return {"kind": kind, "external_id": external_id, "occurred_at": at(minutes),
            "data": {"claim": claim} if claim else {},
            "order": {"external_id": external_id, "number": "1001", "status": status,
                      "placed_at": T0.isoformat(), "updated_at": at(minutes),
                      "currency": "KRW", "total": 45000 * quantity, "refunded": refunded,
                      "customer_ref": customer_ref,
                      "lines": [{"external_line_id": "1", "external_product_id": listing,
                                 "external_variant_id": None, "sku": sku,
                                 "quantity": quantity, "unit_price": 45000}]}}


def stock_event(minutes: int, quantity: int, sku: str = "SKU-1-1") -> dict[str, Any]:
    return {"kind": "stock.updated", "external_id": f"V-{sku}", "occurred_at": at(minutes),
            "data": {"sku": sku, "quantity": quantity}}


def partner_connection(operator: Any, name: str = "다온 구독") -> int:
    created = operator.post("/api/v1/connections", json={
        "connector": "partner", "name": name,
        "config": {"platform_name": name, "inbound_secret": new_secret()}})
    assert created.status_code == 201, created.get_json()
    return int(created.get_json()["id"])


def apply(app: Flask, connection_id: int, *events: dict[str, Any]) -> list[str]:
    with session_scope(app.extensions["gudok"].session_factory) as session:
        connection = session.get_one(Connection, connection_id)
        return [apply_event(session, connection, event) for event in events]


def configure(app: Flask, connection_id: int, **config: Any) -> None:
    """Set config keys the connector's schema does not know yet (stock_location)."""
    with session_scope(app.extensions["gudok"].session_factory) as session:
        connection = session.get_one(Connection, connection_id)
        connection.config = {**connection.config, **config}


def order_state(app: Flask, connection_id: int, external_id: str) -> dict[str, Any] | None:
    """Everything an order event can change, without the ids of this very row."""
    with session_scope(app.extensions["gudok"].session_factory) as session:
        order = session.scalar(select(Order).where(Order.connection_id == connection_id,
                                                   Order.external_id == external_id))
        if order is None:
            return None
        lines = [(line.external_line_id, line.box_id, line.box_version_id, line.plan_id,
                  line.quantity, line.unit_price, line.cancelled_quantity,
                  line.refunded_quantity, None if line.contract is None else (
                      line.contract.status, line.contract.plan_id,
                      line.contract.next_round_on, line.contract.prepaid_rounds))
                 for line in order.lines]
        claims = sorted((c.key, c.kind, c.amount, c.refunded_total,
                         json.dumps(c.lines, sort_keys=True), c.occurred_at)
                        for c in order.claims)
        return {"order": (order.status, order.status_rank, order.placed_at,
                          order.source_updated_at, order.total, order.refunded,
                          order.customer.masked if order.customer else None),
                "lines": lines, "claims": claims}


def version_of(app: Flask, box_id: int) -> int | None:
    with session_scope(app.extensions["gudok"].session_factory) as session:
        return session.get_one(Box, box_id).current_version_id


def availability(app: Flask, box_id: int, exclude: int | None = None) -> int:
    with session_scope(app.extensions["gudok"].session_factory) as session:
        box = session.get_one(Box, box_id)
        return box_availability(session, box, exclude_connection_id=exclude)


@pytest.fixture
def world(app: Flask, operator: Any) -> dict[str, Any]:
    """hanbit's catalog (a box of item 1 ×1 and item 2 ×2, 40 of each in stock, plan PLAN-1
    monthly with 6 prepaid rounds) and a partner platform."""
    catalog = create_catalog(operator)
    assert operator.put("/api/v1/stock-levels", json={
        "item_id": catalog["items"][1]["id"], "location_id": catalog["location"]["id"],
        "on_hand": 40}).status_code == 200
    catalog["partner"] = partner_connection(operator)
    return catalog


def test_a_paid_order_starts_a_contract_and_holds_its_rounds_stock(app, world):
    partner, box_id = world["partner"], world["box"]["id"]
    items = [item["id"] for item in world["items"]]
    assert availability(app, box_id) == 20  # min(40 / 1, 40 / 2)
    assert apply(app, partner, order_event("order.upserted", "paid", 1)) == ["created"]
    state = order_state(app, partner, "DAON-1")
    assert state is not None
    [line] = state["lines"]
    assert line[1:4] == (box_id, version_of(app, world["box"]["id"]), world["plan"]["id"])
    # Placed 2026-11-30 in Seoul (still the 29th in UTC): the first round a month later.
    assert line[8] == ("active", world["plan"]["id"], date(2026, 12, 30), 6)
    assert state["order"][6].startswith("c-****")
    with session_scope(app.extensions["gudok"].session_factory) as session:
        [customer] = session.scalars(select(Customer))
        assert "c-77" not in (customer.masked, customer.ref_digest)
        assert held_quantities(session, world["box"]["tenant_id"]) == {items[0]: 2,
                                                                      items[1]: 4}
    assert availability(app, box_id) == 18  # item 2: (40 - 4) / 2
    assert availability(app, box_id, exclude=partner) == 20  # the channel's own orders
    assert apply(app, partner, order_event("order.cancelled", "cancelled", 5)) == ["updated"]
    assert availability(app, box_id) == 20  # released
    assert order_state(app, partner, "DAON-1")["lines"][0][6:8] == (2, 0)


def test_a_report_again_or_an_older_one_changes_nothing(app, world, operator):
    partner = world["partner"]
    paid = order_event("order.upserted", "paid", 1)
    assert apply(app, partner, paid, paid) == ["created", "unchanged"]
    fulfilled = order_event("order.upserted", "fulfilled", 9)
    assert apply(app, partner, fulfilled, order_event("order.upserted", "paid", 5)) == [
        "updated", "unchanged"]
    assert order_state(app, partner, "DAON-1")["order"][:2] == ("fulfilled", 2)
    # Another channel's order with the same id is another order.
    other = partner_connection(operator, "다른 플랫폼")
    assert apply(app, other, paid) == ["created"]


def test_a_line_naming_nothing_of_the_hub_is_kept_and_resolved_later(app, world):
    partner = world["partner"]
    unknown = order_event("order.upserted", "paid", 1, sku="NOT-A-PLAN", listing="L-404")
    assert apply(app, partner, unknown) == ["created"]
    [line] = order_state(app, partner, "DAON-1")["lines"]
    assert line[1:4] == (None, None, None) and line[8] is None  # kept, no contract
    with session_scope(app.extensions["gudok"].session_factory) as session:
        session.add(Binding(tenant_id=world["box"]["tenant_id"], connection_id=partner,
                            entity_type="box", internal_id=world["box"]["id"],
                            external_id="L-404", status="active"))
    later = order_event("order.upserted", "fulfilled", 3, sku="NOT-A-PLAN", listing="L-404")
    assert apply(app, partner, later) == ["updated"]
    [line] = order_state(app, partner, "DAON-1")["lines"]
    assert line[1:4] == (world["box"]["id"], version_of(app, world["box"]["id"]), None)


def test_refunds_are_claims_once_each_per_component_and_in_full(app, world):
    partner, sku = world["partner"], world["items"][0]["sku"]
    claim = {"key": "R-1", "lines": [{"external_line_id": "1", "sku": sku, "quantity": 1}]}
    partial = order_event("order.refunded", "refunded", 3, refunded=10000, claim=claim)
    full = order_event("order.refunded", "refunded", 6, refunded=90000)
    outcomes = apply(app, partner, order_event("order.upserted", "paid", 1), partial, partial,
                     full)
    assert outcomes == ["created", "updated", "unchanged", "updated"]
    state = order_state(app, partner, "DAON-1")
    assert [(key, kind, amount) for key, kind, amount, *_ in state["claims"]] == [
        ("R-1", "refund", 10000), ("refund:90000", "refund", 80000)]
    assert json.loads(state["claims"][0][4]) == [
        {"external_line_id": "1", "item_id": world["items"][0]["id"], "quantity": 1}]
    assert state["lines"][0][6:9] == (0, 2, ("cancelled", world["plan"]["id"],
                                             date(2026, 12, 30), 6))
    wrong = {"lines": [{"external_line_id": "9", "quantity": 1}]}
    with pytest.raises(RecordError, match="not a line of this order"):
        apply(app, partner, order_event("order.refunded", "refunded", 7, refunded=90000,
                                        claim=wrong))


def test_stock_reports_set_the_channels_location_latest_report_first(app, world):
    partner, item = world["partner"], world["items"][0]["id"]
    assert apply(app, partner, stock_event(5, 12)) == ["ignored"]  # no stock_location
    configure(app, partner, stock_location=world["location"]["code"])
    assert apply(app, partner, stock_event(5, 12), stock_event(2, 30), stock_event(5, 12),
                 stock_event(6, 7, sku="NO-SUCH-SKU")) == [
        "updated", "unchanged", "unchanged", "ignored"]
    with session_scope(app.extensions["gudok"].session_factory) as session:
        level = session.scalar(select(StockLevel).where(StockLevel.item_id == item))
        assert level is not None and level.on_hand == 12


def test_a_partner_listing_links_the_offered_box(app, world, operator):
    partner, box = world["partner"], world["box"]
    listing = {"kind": "product.upserted", "external_id": "L-9", "occurred_at": at(1),
               "data": {"box_code": box["code"], "url": "https://daon.example.kr/p/L-9",
                        "status": "active"}}
    assert apply(app, partner, listing) == ["ignored"]  # not offered to this platform
    assert offer(operator, partner, [box["id"]]).status_code == 200
    assert apply(app, partner, listing, listing) == ["created", "unchanged"]
    gone = {**listing, "data": {**listing["data"], "status": "deleted"}}
    assert apply(app, partner, gone) == ["updated"]
    with session_scope(app.extensions["gudok"].session_factory) as session:
        binding = session.scalar(select(Binding).where(Binding.connection_id == partner))
        assert (binding.internal_id, binding.url, binding.status) == (
            box["id"], "https://daon.example.kr/p/L-9", "tombstoned")


def test_a_fulfilment_raises_the_order_by_rank_and_time(app, world):
    partner = world["partner"]
    fulfilment = {"kind": "fulfilment.created", "external_id": "F-1", "occurred_at": at(4),
                  "data": {"order_id": "DAON-1"}}
    with pytest.raises(RecordError, match="has not received"):
        apply(app, partner, fulfilment)
    assert apply(app, partner, order_event("order.upserted", "paid", 1), fulfilment,
                 fulfilment) == ["created", "updated", "unchanged"]
    assert order_state(app, partner, "DAON-1")["order"][:2] == ("fulfilled", 2)


# -- any arrival order ends in the state of the canonical order ------------------------------

EVENTS = [  # the canonical order: by the platform's time
    order_event("order.upserted", "unpaid", 1),
    stock_event(2, 30),
    order_event("order.upserted", "paid", 3),
    stock_event(4, 12),
    order_event("order.cancelled", "cancelled", 5),
    order_event("order.refunded", "refunded", 6, refunded=45000),
    stock_event(7, 25),
    order_event("order.refunded", "refunded", 8, refunded=90000),
]
_runs = itertools.count()


def _renamed(event: dict[str, Any], external_id: str) -> dict[str, Any]:
    if "order" not in event:
        return event
    return {**event, "external_id": external_id,
            "order": {**event["order"], "external_id": external_id}}


def _stock(app: Flask, location_code: str, item_id: int) -> int | None:
    with session_scope(app.extensions["gudok"].session_factory) as session:
        return session.scalar(select(StockLevel.on_hand).join(StockLocation).where(
            StockLocation.code == location_code, StockLevel.item_id == item_id))


@pytest.fixture
def two_channels(app: Flask, world: dict[str, Any], operator: Any) -> dict[str, Any]:
    """Two platforms counting stock at their own locations: one receives the events shuffled,
    the other in canonical order."""
    channels = {}
    for name in ("shuffled", "canonical"):
        location = operator.post("/api/v1/stock-locations", json={
            "code": f"LC-{name}", "name": name}).get_json()
        channels[name] = partner_connection(operator, name)
        configure(app, channels[name], stock_location=location["code"])
    return channels


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_arrival_order_with_duplicates_ends_in_the_canonical_state(app, world,
                                                                      two_channels, data):
    chosen = sorted(data.draw(st.sets(st.sampled_from(range(len(EVENTS))), min_size=1)))
    extra = data.draw(st.lists(st.sampled_from(chosen), max_size=4))
    arrival = data.draw(st.permutations(chosen + extra))
    external_id = f"P-{next(_runs)}"
    item = world["items"][0]["id"]
    with session_scope(app.extensions["gudok"].session_factory) as session:
        levels = select(StockLevel.id).join(StockLocation).where(
            StockLocation.code.in_(["LC-shuffled", "LC-canonical"]))
        session.execute(delete(StockMovement).where(StockMovement.stock_level_id.in_(levels)))
        session.execute(delete(StockLevel).where(StockLevel.id.in_(levels)))
    apply(app, two_channels["shuffled"], *[_renamed(EVENTS[i], external_id) for i in arrival])
    apply(app, two_channels["canonical"], *[_renamed(EVENTS[i], external_id) for i in chosen])
    assert order_state(app, two_channels["shuffled"], external_id) == \
        order_state(app, two_channels["canonical"], external_id)
    assert _stock(app, "LC-shuffled", item) == _stock(app, "LC-canonical", item)


def test_open_subscriptions_take_slots_of_the_boxs_capacity(app, world, operator):
    partner, box_id = world["partner"], world["box"]["id"]
    assert operator.patch(f"/api/v1/boxes/{box_id}",
                          json={"capacity_per_round": 3}).status_code == 200
    assert availability(app, box_id) == 3  # stock would allow 20
    apply(app, partner, order_event("order.upserted", "paid", 1))  # two boxes a round
    assert availability(app, box_id) == 1
    assert availability(app, box_id, exclude=partner) == 3
    apply(app, partner, order_event("order.cancelled", "cancelled", 5))
    assert availability(app, box_id) == 3


def test_a_contract_cancelled_by_the_operator_stays_cancelled_when_its_order_changes(
        app, world):
    """The channel's refund of the cancelled rounds (a partial refund) must not bring back a
    contract an operator or the platform cancelled."""
    partner, sku = world["partner"], world["items"][0]["sku"]
    assert apply(app, partner, order_event("order.upserted", "paid", 1)) == ["created"]
    factory = app.extensions["gudok"].session_factory
    with session_scope(factory) as session:
        contract = session.scalars(select(Contract)).one()
        cancel_contract(session, contract, date(2026, 12, 1), now=T0 + timedelta(minutes=2),
                        reason="이사 (moving away)")
    claim = {"key": "R-9", "lines": [{"external_line_id": "1", "sku": sku, "quantity": 1}]}
    assert apply(app, partner, order_event("order.refunded", "refunded", 3, refunded=10000,
                                           claim=claim)) == ["updated"]
    with session_scope(factory) as session:
        contract = session.scalars(select(Contract)).one()
        assert (contract.status, contract.cancel_reason) == ("cancelled", "이사 (moving away)")
        assert contract.cancelled_on == date(2026, 12, 1)


def test_a_contract_cancelled_by_its_order_says_so(app, world):
    partner = world["partner"]
    apply(app, partner, order_event("order.upserted", "paid", 1),
          order_event("order.cancelled", "cancelled", 2))
    with session_scope(app.extensions["gudok"].session_factory) as session:
        contract = session.scalars(select(Contract)).one()
        assert contract.status == "cancelled"
        assert contract.cancel_reason == "the order was cancelled on its channel"


def test_a_paused_contract_stays_paused_when_its_order_is_partly_refunded(app, world):
    partner, sku = world["partner"], world["items"][0]["sku"]
    apply(app, partner, order_event("order.upserted", "paid", 1))
    factory = app.extensions["gudok"].session_factory
    with session_scope(factory) as session:
        pause_contract(session, session.scalars(select(Contract)).one(), date(2026, 12, 1),
                       now=T0 + timedelta(minutes=2))
    claim = {"key": "R-7", "lines": [{"external_line_id": "1", "sku": sku, "quantity": 1}]}
    apply(app, partner, order_event("order.refunded", "refunded", 3, refunded=10000,
                                    claim=claim))
    with session_scope(factory) as session:
        assert session.scalars(select(Contract.status)).one() == "paused"
    # Refunded in full, it is cancelled with its order, paused or not.
    apply(app, partner, order_event("order.refunded", "refunded", 4, refunded=90000))
    with session_scope(factory) as session:
        contract = session.scalars(select(Contract)).one()
        assert (contract.status, contract.cancel_reason) == (
            "cancelled", "the order was refunded in full on its channel")


def test_an_order_cancelled_on_its_channel_cancels_its_rounds_not_yet_shipped(app, world):
    """Its rounds must not be picked, shipped or paid to a merchant: the customer has their
    money back. A round already shipped stays shipped (the refund claim settles it)."""
    partner = world["partner"]
    apply(app, partner, order_event("order.upserted", "paid", 1))
    factory = app.extensions["gudok"].session_factory
    with session_scope(factory) as session:
        contract = session.scalars(select(Contract)).one()
        schedule_rounds(session, contract.tenant_id, date(2026, 11, 30), 100)
        first = session.scalars(select(Round).order_by(Round.number)).first()
        assert first is not None
        first.status = "shipped"
    apply(app, partner, order_event("order.cancelled", "cancelled", 5))
    with session_scope(factory) as session:
        assert session.scalars(select(Contract.status)).one() == "cancelled"
        assert [(r.scheduled_on, r.status) for r in session.scalars(
            select(Round).order_by(Round.number))] == [
            (date(2026, 12, 30), "shipped"), (date(2027, 1, 30), "cancelled"),
            (date(2027, 2, 28), "cancelled")]
        assert schedule_rounds(session, world["box"]["tenant_id"], date(2026, 11, 30),
                               100).created == 0


def test_a_box_refunded_from_a_line_leaves_its_rounds_not_yet_shipped(app, world):
    """Two boxes a round; the channel refunds one box for good: the rounds still to ship
    carry one box (picked, shipped and paid as one), the shipped one stays as it went."""
    partner = world["partner"]
    apply(app, partner, order_event("order.upserted", "paid", 1))
    factory = app.extensions["gudok"].session_factory
    with session_scope(factory) as session:
        contract = session.scalars(select(Contract)).one()
        assert schedule_rounds(session, contract.tenant_id, date(2026, 11, 30),
                               100).created == 3
        first = session.scalars(select(Round).order_by(Round.number)).first()
        assert first is not None and first.quantity == 2
        first.status = "shipped"
    claim = {"key": "R-5", "lines": [{"external_line_id": "1", "quantity": 1}]}
    assert apply(app, partner, order_event("order.refunded", "refunded", 5, refunded=45000,
                                           claim=claim)) == ["updated"]
    with session_scope(factory) as session:
        assert session.scalars(select(Contract.status)).one() == "active"
        assert schedule_rounds(session, world["box"]["tenant_id"], date(2026, 11, 30),
                               100).created == 0
        assert [(r.status, r.quantity) for r in session.scalars(
            select(Round).order_by(Round.number))] == [
            ("shipped", 2), ("scheduled", 1), ("scheduled", 1)]
