"""The one way money is split: largest remainder over integer weights.

Every split in the system (a round among its merchants, a coupon over prepaid rounds, a fee
or a shipping cost by weight) goes through `allocate_by_weight`, so parts always sum to the
whole and the same inputs always give the same parts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

K = TypeVar("K", bound=Any)


def allocate_by_weight(total: int, weights: Mapping[K, int]) -> dict[K, int]:
    """Split `total` won (negative totals split as their negation) in proportion to the
    weights: each part its floor, then the won left over one each to the largest remainders;
    ties go to the larger weight, then to the lower key (the lower merchant id)."""
    if not weights:
        if total:
            raise ValueError("an amount cannot be split among no one")
        return {}
    if any(weight < 0 for weight in weights.values()):
        raise ValueError("weights are not negative")
    whole = sum(weights.values())
    if whole == 0:
        raise ValueError("weights sum to zero")
    if total < 0:
        return {key: -part for key, part in allocate_by_weight(-total, weights).items()}
    parts = {key: total * weight // whole for key, weight in weights.items()}
    left = total - sum(parts.values())
    by_remainder = sorted(weights, key=lambda key: (-(total * weights[key] % whole),
                                                    -weights[key], key))
    for key in by_remainder[:left]:
        parts[key] += 1
    return parts
