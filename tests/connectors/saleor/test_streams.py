"""Orders and products pulled since a cursor: a lookback window, a fixed upper bound,
pages of at most 100, bad records skipped, and a cursor that never moves backwards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import responses

from connectors.saleor import SaleorConnector, streams
from hub.errors import RecordError
from tests.connectors.saleor.saleor_fakes import WAREHOUSE_ID, CatalogMall, FakeMall, make_context
from tests.mappings.saleor.samples import PRODUCT, order

connector = SaleorConnector()
T0 = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
UNTIL = T0 + timedelta(hours=1)


def at(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat()


class OrderMall:
    """Orders sorted by updatedAt, filtered by the window, in pages of `first`."""

    def __init__(self, mall: FakeMall, orders: list[dict[str, Any]]) -> None:
        self.orders = orders
        self.windows: list[tuple[str | None, str]] = []
        mall.on("GudokOrdersPage", self.page)

    def page(self, v: dict[str, Any]) -> dict[str, Any]:
        self.windows.append((v.get("gte"), v["lte"]))
        gte = datetime.fromisoformat(v["gte"]) if v.get("gte") else None
        lte = datetime.fromisoformat(v["lte"])
        chosen = sorted((o for o in self.orders
                         if (gte is None or datetime.fromisoformat(o["updatedAt"]) >= gte)
                         and datetime.fromisoformat(o["updatedAt"]) <= lte),
                        key=lambda o: o["updatedAt"])
        start = int(v.get("after") or 0)
        part = chosen[start:start + v["first"]]
        more = start + v["first"] < len(chosen)
        return {"orders": {"edges": [{"node": o} for o in part],
                           "pageInfo": {"hasNextPage": more,
                                        "endCursor": str(start + v["first"]) if more else None}}}


@pytest.fixture
def mock() -> Any:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as m:
        yield m


def orders_at(*minutes: float) -> list[dict[str, Any]]:
    return [order(id=f"O{i}", number=str(i), updatedAt=at(m)) for i, m in enumerate(minutes)]


def test_first_pull_reads_everything_up_to_the_bound(mock: Any) -> None:
    fake = OrderMall(FakeMall(mock), orders_at(1, 5, 90))
    page = connector.pull_orders(make_context(), None, UNTIL)
    assert [r["external_id"] for r in page.records] == ["O0", "O1"]
    assert page.cursor == (T0 + timedelta(minutes=5)).isoformat(timespec="microseconds")
    assert page.has_more is False
    assert fake.windows == [(None, UNTIL.isoformat(timespec="microseconds"))]


def test_next_pull_rereads_the_lookback_window_and_never_moves_back(mock: Any) -> None:
    fake = OrderMall(FakeMall(mock), orders_at(1, 5))
    cursor = (T0 + timedelta(minutes=5)).isoformat()
    page = connector.pull_orders(make_context({"lookback_seconds": 120}), cursor, UNTIL)
    assert fake.windows[0][0] == (T0 + timedelta(minutes=3)).isoformat(timespec="microseconds")
    assert [r["external_id"] for r in page.records] == ["O1"]  # re-read; dedupe is by id
    assert page.cursor is not None and datetime.fromisoformat(page.cursor) == \
        datetime.fromisoformat(cursor)
    empty = OrderMall(FakeMall(mock), [])
    again = connector.pull_orders(make_context(), page.cursor, UNTIL)
    assert again.records == [] and again.cursor == page.cursor
    assert empty.windows


def test_many_orders_page_by_100_and_hand_back_a_cursor(mock: Any,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(streams, "MAX_PAGES_PER_CALL", 2)
    OrderMall(FakeMall(mock), orders_at(*[i * 0.2 for i in range(250)]))
    ctx = make_context({"lookback_seconds": 0})
    first = connector.pull_orders(ctx, None, UNTIL)
    assert len(first.records) == 200 and first.has_more is True
    second = connector.pull_orders(ctx, first.cursor, UNTIL)
    assert second.has_more is False
    assert datetime.fromisoformat(second.cursor) > datetime.fromisoformat(first.cursor)
    seen = {r["external_id"] for r in first.records + second.records}
    assert len(seen) == 250


def test_an_unreadable_order_is_skipped_and_noted(mock: Any) -> None:
    bad = order(id="BAD", updatedAt=at(2), total={"gross": {"amount": 1.5, "currency": "KRW"}})
    OrderMall(FakeMall(mock), [*orders_at(1), bad])
    ctx = make_context()
    page = connector.pull_orders(ctx, None, UNTIL)
    assert [r["external_id"] for r in page.records] == ["O0"]
    assert ctx.extra["record_errors"][0]["external_id"] == "BAD"
    assert page.cursor == (T0 + timedelta(minutes=2)).isoformat(timespec="microseconds")


def test_a_garbled_cursor_is_refused() -> None:
    with pytest.raises(RecordError):
        connector.pull_orders(make_context(), "yesterday", UNTIL)


def test_catalog_pull_imports_products_of_the_subscription_type(mock: Any) -> None:
    mall = FakeMall(mock)
    catalog = CatalogMall(mall)
    empty = connector.pull_catalog(make_context(), None, UNTIL)
    assert empty.records == [] and empty.cursor is None  # no product type: nothing yet
    catalog.product_types["T"] = {"id": "T", "name": "구독 꾸러미", "slug": "s", "kind": "NORMAL"}
    sent: list[dict[str, Any]] = []

    def products(v: dict[str, Any]) -> dict[str, Any]:
        sent.append(v)
        return {"products": {"edges": [{"node": PRODUCT}],
                             "pageInfo": {"hasNextPage": False, "endCursor": None}}}

    mall.on("GudokProductsPage", products)
    page = connector.pull_catalog(make_context(), None, UNTIL)
    assert [r["box"]["code"] for r in page.records] == ["hanbit-seasonal"]
    assert page.cursor == "2026-11-20T00:00:00.000000+00:00"
    assert sent[0]["filter"]["productTypes"] == ["T"]
    assert sent[0]["channel"] == "default-channel"


def test_fulfilment_is_pushed_once(mock: Any) -> None:
    mall = FakeMall(mock)
    CatalogMall(mall)
    state = {"id": "O1", "status": "UNFULFILLED", "fulfillments": [],
             "lines": [{"id": "L1", "quantity": 2, "quantityFulfilled": 0,
                        "quantityToFulfill": 2}]}
    fulfilled: list[dict[str, Any]] = []

    def fulfil(v: dict[str, Any]) -> dict[str, Any]:
        fulfilled.append(v)
        state["lines"][0]["quantityToFulfill"] = 0  # type: ignore[index]
        state["fulfillments"] = [{"id": "F1", "status": "FULFILLED",
                                  "trackingNumber": v["input"].get("trackingNumber", "")}]
        return {"orderFulfill": {"fulfillments": state["fulfillments"], "errors": []}}

    mall.on("GudokOrderFulfilmentState", lambda v: {"order": state})
    mall.on("GudokOrderFulfil", fulfil)
    shipment = {"order_external_id": "O1", "tracking_number": "CJ1",
                "lines": [{"external_line_id": "L1", "quantity": 2}]}
    connector.push_fulfilment(make_context(), shipment)
    connector.push_fulfilment(make_context(), shipment)
    assert len(fulfilled) == 1
    assert fulfilled[0]["input"]["lines"][0]["stocks"] == [{"quantity": 2,
                                                            "warehouse": WAREHOUSE_ID}]


def test_a_later_rounds_tracking_number_is_an_order_note_once(mock: Any) -> None:
    """Round 1 fulfilled the mall's order line; round 2's parcel has nothing left to fulfil,
    so its tracking number reaches the order's history as a note, and only once."""
    mall = FakeMall(mock)
    CatalogMall(mall)
    state: dict[str, Any] = {
        "id": "O1", "status": "FULFILLED", "events": [],
        "fulfillments": [{"id": "F1", "status": "FULFILLED", "trackingNumber": "CJ1"}],
        "lines": [{"id": "L1", "quantity": 1, "quantityFulfilled": 1, "quantityToFulfill": 0}]}
    notes: list[dict[str, Any]] = []

    def note(v: dict[str, Any]) -> dict[str, Any]:
        notes.append(v)
        state["events"].append({"type": "NOTE_ADDED", "message": v["input"]["message"]})
        return {"orderNoteAdd": {"event": {"id": "E1", "type": "NOTE_ADDED",
                                           "message": v["input"]["message"]}, "errors": []}}

    mall.on("GudokOrderFulfilmentState", lambda v: {"order": state})
    mall.on("GudokOrderNoteAdd", note)
    later = {"order_external_id": "O1", "tracking_number": "CJ2", "carrier": "우체국택배",
             "round_number": 2, "lines": [{"external_line_id": "L1", "quantity": 1}]}
    connector.push_fulfilment(make_context(), later)
    connector.push_fulfilment(make_context(), later)
    assert [n["input"]["message"] for n in notes] == ["구독 2회차 발송: 우체국택배 CJ2"]
    first = {**later, "tracking_number": "CJ1", "round_number": 1}
    connector.push_fulfilment(make_context(), first)  # round 1's number is its fulfilment
    assert len(notes) == 1
