"""Saleor orders as canonical order records: status, exact KRW, no personal data."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hub.errors import RecordError
from mappings.saleor.money import exact_krw
from mappings.saleor.orders import customer_ref, fulfil_input, order_record, order_status
from tests.mappings.saleor.samples import ORDER, order


def test_a_paid_order_becomes_a_canonical_record() -> None:
    record = order_record(ORDER)
    assert record["external_id"] == ORDER["id"]
    assert record["number"] == "1042"
    assert record["status"] == "paid"
    assert record["total"] == 78000 and isinstance(record["total"], int)
    assert record["refunded"] == 0
    assert record["placed_at"] == datetime(2026, 11, 28, 1, 0, 0, 123456, tzinfo=UTC)
    assert record["updated_at"] == datetime(2026, 11, 28, 1, 5, tzinfo=UTC)
    assert record["lines"] == [{
        "external_line_id": "T3JkZXJMaW5lOjE=", "external_product_id": "UHJvZHVjdDo1",
        "external_variant_id": "UHJvZHVjdFZhcmlhbnQ6MTA=", "sku": "gudok-1-monthly-3",
        "quantity": 2, "unit_price": 39000}]


def test_the_customer_is_an_opaque_reference_never_a_name_or_email() -> None:
    record = order_record(ORDER)
    text = repr(record)
    assert "kim@example.kr" not in text and ORDER["user"]["id"] not in text
    assert record["customer_ref"] == customer_ref(ORDER["user"])
    assert record["customer_ref"].startswith("saleor:")
    assert order_record(order(user=None))["customer_ref"] is None


@pytest.mark.parametrize(("changes", "status"), [
    ({"status": "UNCONFIRMED", "paymentStatus": "NOT_CHARGED", "chargeStatus": "NONE",
      "isPaid": False}, "unpaid"),
    ({"status": "UNFULFILLED", "paymentStatus": "NOT_CHARGED", "chargeStatus": "FULL",
      "isPaid": True}, "paid"),
    ({"status": "FULFILLED"}, "fulfilled"),
    ({"status": "CANCELED", "paymentStatus": "NOT_CHARGED", "isPaid": False}, "cancelled"),
    ({"status": "EXPIRED", "paymentStatus": "NOT_CHARGED", "isPaid": False}, "cancelled"),
    ({"status": "CANCELED", "paymentStatus": "FULLY_REFUNDED"}, "refunded"),
    ({"status": "FULFILLED", "paymentStatus": "FULLY_CHARGED",
      "totalRefunded": {"amount": 78000.0, "currency": "KRW"}}, "refunded"),
    ({"status": "RETURNED", "paymentStatus": "PARTIALLY_REFUNDED",
      "totalRefunded": {"amount": 39000.0, "currency": "KRW"}}, "paid"),
])
def test_status_comes_from_order_and_payment_status(changes: dict, status: str) -> None:
    assert order_status(order(**changes)) == status
    assert order_record(order(**changes))["status"] == status



def test_the_malls_voucher_code_names_the_coupon_campaign() -> None:
    assert order_record(order(voucherCode="HANBIT-5000"))["coupon_code"] == "HANBIT-5000"
    assert order_record(order(voucherCode=None))["coupon_code"] is None
    assert order_record(ORDER)["coupon_code"] is None

def test_refunded_amount_is_carried() -> None:
    record = order_record(order(totalRefunded={"amount": 39000, "currency": "KRW"}))
    assert record["refunded"] == 39000


@pytest.mark.parametrize("amount", [39000.0, 39000, "39000", "39000.000"])
def test_amounts_convert_exactly(amount: object) -> None:
    assert exact_krw(amount, "KRW", "x") == 39000


@pytest.mark.parametrize(("amount", "currency"), [
    (39000.5, "KRW"), ("0.1", "KRW"), (float("nan"), "KRW"), (float("inf"), "KRW"),
    (True, "KRW"), (None, "KRW"), ("abc", "KRW"), (-1, "KRW"), (39000, "USD")])
def test_non_integral_or_foreign_amounts_are_record_errors(amount: object,
                                                           currency: str) -> None:
    with pytest.raises(RecordError):
        exact_krw(amount, currency, "x")


def test_a_fractional_total_refuses_the_order_rather_than_rounding() -> None:
    with pytest.raises(RecordError, match="whole number of won"):
        order_record(order(total={"gross": {"amount": 78000.4, "currency": "KRW"}}))


@pytest.mark.parametrize("changes", [
    {"id": None}, {"lines": None}, {"lines": ["x"]}, {"total": None},
    {"created": "yesterday"}, {"updatedAt": "2026-11-28T01:05:00"},
])
def test_malformed_orders_are_record_errors(changes: dict) -> None:
    with pytest.raises(RecordError):
        order_record(order(**changes))


STATE = {"id": ORDER["id"], "status": "UNFULFILLED",
         "lines": [{"id": "T3JkZXJMaW5lOjE=", "quantity": 2, "quantityFulfilled": 0,
                    "quantityToFulfill": 2}],
         "fulfillments": []}


def test_fulfil_input_covers_what_is_left_to_fulfil() -> None:
    wanted = {"order_external_id": ORDER["id"], "tracking_number": "CJ123",
              "lines": [{"external_line_id": "T3JkZXJMaW5lOjE=", "quantity": 5}]}
    assert fulfil_input(wanted, STATE, "V2FyZWhvdXNlOjE=") == {
        "lines": [{"orderLineId": "T3JkZXJMaW5lOjE=",
                   "stocks": [{"quantity": 2, "warehouse": "V2FyZWhvdXNlOjE="}]}],
        "notifyCustomer": True, "trackingNumber": "CJ123"}


def test_fulfil_input_is_none_when_already_fulfilled() -> None:
    wanted = {"tracking_number": "CJ123",
              "lines": [{"external_line_id": "T3JkZXJMaW5lOjE=", "quantity": 2}]}
    done = {**STATE, "fulfillments": [{"id": "F1", "status": "FULFILLED",
                                        "trackingNumber": "CJ123"}]}
    assert fulfil_input(wanted, done, "W") is None
    nothing_left = {**STATE, "lines": [{**STATE["lines"][0], "quantityToFulfill": 0}]}
    assert fulfil_input({**wanted, "tracking_number": None}, nothing_left, "W") is None
    with pytest.raises(RecordError):
        fulfil_input({"lines": [{"external_line_id": "other", "quantity": 1}]}, STATE, "W")
