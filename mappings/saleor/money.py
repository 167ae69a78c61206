"""Saleor amounts (JSON floats or decimal strings) as exact integer KRW, or a RecordError."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from hub.errors import RecordError

CURRENCY = "KRW"


def exact_krw(amount: Any, currency: Any, what: str, *, record: str | None = None) -> int:
    """Whole won from a Saleor Money amount; a fraction, another currency or junk is refused
    rather than rounded, since money is integer KRW everywhere in the hub."""
    if currency != CURRENCY:
        raise RecordError(f"{what}: currency {str(currency)[:10]!r} is not {CURRENCY}",
                          record=record)
    if isinstance(amount, bool) or not isinstance(amount, int | float | str | Decimal):
        raise RecordError(f"{what}: amount is not a number", record=record)
    try:
        # str() of a float is its shortest round-tripping decimal: 39000.0 -> "39000.0".
        value = Decimal(str(amount))
    except InvalidOperation:
        raise RecordError(f"{what}: amount {str(amount)[:30]!r} is not a number",
                          record=record) from None
    if not value.is_finite():
        raise RecordError(f"{what}: amount is not finite", record=record)
    if value != value.to_integral_value():
        raise RecordError(f"{what}: {value} KRW is not a whole number of won", record=record)
    if value < 0:
        raise RecordError(f"{what}: amount {value} is negative", record=record)
    return int(value)


def obj(value: Any) -> Mapping[str, Any]:
    """A JSON object of an untrusted payload, or an empty one when it is anything else."""
    return value if isinstance(value, Mapping) else {}


def money(value: Any, what: str, *, record: str | None = None) -> int:
    """A Saleor `Money` object ({amount, currency}) as whole won."""
    if not isinstance(value, dict):
        raise RecordError(f"{what}: missing", record=record)
    return exact_krw(value.get("amount"), value.get("currency"), what, record=record)


def gross(value: Any, what: str, *, record: str | None = None) -> int:
    """A Saleor `TaxedMoney` object's gross amount as whole won."""
    if not isinstance(value, dict):
        raise RecordError(f"{what}: missing", record=record)
    return money(value.get("gross"), what, record=record)
