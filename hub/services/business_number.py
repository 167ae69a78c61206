"""Korean business registration numbers (사업자등록번호) and their check digit."""

from __future__ import annotations

import re

_WEIGHTS = (1, 3, 7, 1, 3, 7, 1, 3, 5)
_SHAPE = re.compile(r"^\d{3}-?\d{2}-?\d{5}$")


class BusinessNumberError(ValueError):
    pass


def check_digit(first_nine: str) -> int:
    digits = [int(c) for c in first_nine]
    total = sum(d * w for d, w in zip(digits, _WEIGHTS, strict=True))
    total += (digits[8] * 5) // 10
    return (10 - total % 10) % 10


def normalize_business_number(value: str) -> str:
    """Ten digits without hyphens; raises BusinessNumberError saying what is wrong."""
    value = value.strip()
    if not _SHAPE.match(value):
        raise BusinessNumberError("Must be 10 digits, optionally as NNN-NN-NNNNN.")
    digits = value.replace("-", "")
    if check_digit(digits[:9]) != int(digits[9]):
        raise BusinessNumberError("The check digit does not match; the number is mistyped.")
    return digits


def format_business_number(digits: str) -> str:
    return f"{digits[:3]}-{digits[3:5]}-{digits[5:]}" if len(digits) == 10 else digits
