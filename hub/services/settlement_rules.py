"""The money rules, as pure functions over plain facts: what a delivered round, a redeemed or
expired voucher, a refund and an early cancellation post, for which merchant and funder.

No I/O here: `hub/services/ledger.py` gathers the facts and writes what these return, and the
property tests call them directly. Every split goes through `allocate_by_weight`; every rate
is basis points and every product of a rate is truncated to the won."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from hub.services.allocation import allocate_by_weight

BP = 10000
PHYSICAL = 0  # the part key's second half for a merchant's physical components

# The amounts one part of a round carries, as ledger entry kinds (merchant side).
PART_KINDS = ("sales", "merchant_discount", "operator_fee", "channel_fee", "shipping_share")


@dataclass(frozen=True)
class Part:
    """One merchant's share of a box: its physical components together, or one voucher
    item (recognised when redeemed). `weight` is the components' frozen weight."""

    merchant_id: int
    weight: int
    voucher_item_id: int | None = None

    @property
    def key(self) -> tuple[int, int]:
        return (self.merchant_id, self.voucher_item_id or PHYSICAL)


@dataclass(frozen=True)
class Discount:
    """What a plan rule or a coupon takes off one round, and who pays for it."""

    amount: int
    funder: str  # municipality | merchant | operator | channel
    kind: str  # discount (a plan's term or round discount) | coupon
    label: str = ""


@dataclass(frozen=True)
class RoundTerms:
    """Everything one delivered round's money depends on."""

    key: str  # "round:<id>": the source event every entry key starts with
    list_price: int  # the plan's list price for the round's boxes
    discounts: tuple[Discount, ...]
    parts: tuple[Part, ...]
    commission_bp: Mapping[int, int]  # merchant id -> operator's fee rate
    channel_fee: int  # the channel's fee on this round
    boxes: int
    courier_cost_per_box: int
    subsidy_per_box: int
    # Supply-price merchants' parts (part key -> the supply value of its components in this
    # round's boxes): the operator's fee on them is what their net sales exceed it.
    supply_value: Mapping[tuple[int, int], int] = field(default_factory=dict)

    @property
    def customer_paid(self) -> int:
        return self.list_price - sum(d.amount for d in self.discounts)

    @property
    def funders_paid(self) -> int:
        """Non-merchant discounts plus the shipping subsidy: money from funders."""
        return sum(d.amount for d in self.discounts if d.funder != "merchant") \
            + self.subsidy_per_box * self.boxes


@dataclass(frozen=True)
class Posting:
    key: str
    merchant_id: int
    kind: str
    amount: int


@dataclass(frozen=True)
class Funding:
    key: str
    funder: str
    merchant_id: int
    kind: str  # discount | coupon | shipping_subsidy | clawback
    amount: int
    label: str = ""


@dataclass
class PartMoney:
    """One part's amounts of one round (ledger signs: what reduces a payable is negative)."""

    amounts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PART_KINDS, 0))
    funding: list[tuple[str, str, str, int]] = field(default_factory=list)  # funder, kind, label


def supply_margin(net_sales: int, supply_value: int) -> int:
    """The operator's fee on a supply-price merchant's line: what its net sales exceed the
    supply value of its components, never below zero (a negative entry)."""
    return -max(0, net_sales - supply_value)


def part_fee(terms: RoundTerms, key: tuple[int, int], net_sales: int,
             supply_value: int | None = None) -> int:
    """The operator's fee on one part: the supply-price margin for a supply-price merchant,
    else its rate of the net sales."""
    if key in terms.supply_value:
        value = terms.supply_value[key] if supply_value is None else supply_value
        return supply_margin(net_sales, value)
    return operator_fee(net_sales, terms.commission_bp.get(key[0], 0))


def operator_fee(net_sales: int, rate_bp: int) -> int:
    """The operator's fee on a merchant's line, truncated to the won (a negative entry)."""
    return -(max(0, net_sales) * rate_bp // BP)


def split_round(terms: RoundTerms) -> dict[tuple[int, int], PartMoney]:
    """Each part's money for one round: sales at list price, merchant-funded discounts,
    the operator's fee on net sales, the channel's fee, and the shipping share; plus what
    each funder paid, by part, for reporting."""
    weights = {part.key: part.weight for part in terms.parts}
    money = {key: PartMoney() for key in weights}

    def spread(total: int, kind: str, sign: int = 1) -> None:
        for key, amount in allocate_by_weight(total, weights).items():
            money[key].amounts[kind] += sign * amount

    spread(terms.list_price, "sales")
    for discount in terms.discounts:
        if discount.funder == "merchant":
            spread(discount.amount, "merchant_discount", -1)
        else:
            for key, amount in allocate_by_weight(discount.amount, weights).items():
                money[key].funding.append((discount.funder, discount.kind, discount.label,
                                           amount))
    spread(terms.channel_fee, "channel_fee", -1)
    boxes = terms.boxes
    spread((terms.courier_cost_per_box - terms.subsidy_per_box) * boxes, "shipping_share", -1)
    if terms.subsidy_per_box:
        for key, amount in allocate_by_weight(terms.subsidy_per_box * boxes, weights).items():
            money[key].funding.append(("municipality", "shipping_subsidy", "", amount))
    for key, part in money.items():
        net = part.amounts["sales"] + part.amounts["merchant_discount"]
        part.amounts["operator_fee"] = part_fee(terms, key, net)
    return money


def round_postings(terms: RoundTerms) -> tuple[list[Posting], list[Funding]]:
    """The entries a delivered round posts now: every physical part's amounts (voucher
    parts wait for redemption), and every part's funding, which the round settles."""
    postings: list[Posting] = []
    funding: list[Funding] = []
    for (merchant_id, item), part in sorted(split_round(terms).items()):
        if item == PHYSICAL:
            postings.extend(Posting(f"{terms.key}:{kind}:{merchant_id}", merchant_id, kind,
                                    amount)
                            for kind, amount in part.amounts.items() if amount)
        for index, (funder, kind, label, amount) in enumerate(part.funding):
            if amount:
                funding.append(Funding(f"{terms.key}:{kind}:{funder}:{merchant_id}:{item}:"
                                       f"{index}", funder, merchant_id, kind, amount, label))
    return postings, funding


def voucher_postings(terms: RoundTerms, item_id: int, merchant_id: int, unit: int, units: int,
                     voucher_key: str, share_bp: int = BP) -> list[Posting]:
    """One voucher's entries when it is redeemed (`share_bp` = all) or expires (the item's
    expiry share): its unit's part of the voucher item's amounts in the round. On expiry the
    costs it caused (discount, channel fee, shipping) stay its merchant's in full and only
    its sales are paid at the share, truncated; the operator's fee is on what is recognised.
    What is not paid out (never negative) stays with the programme."""
    part = split_round(terms)[(merchant_id, item_id)]
    units_weights = dict.fromkeys(range(1, units + 1), 1)
    mine = {kind: allocate_by_weight(part.amounts[kind], units_weights)[unit]
            for kind in ("sales", "merchant_discount", "channel_fee", "shipping_share")}
    mine["sales"] = mine["sales"] * share_bp // BP
    key = (merchant_id, item_id)
    supply = allocate_by_weight(terms.supply_value[key], units_weights)[unit] * share_bp // BP \
        if key in terms.supply_value else None
    mine["operator_fee"] = part_fee(terms, key, mine["sales"] + mine["merchant_discount"],
                                    supply)
    return [Posting(f"{voucher_key}:{kind}:{merchant_id}", merchant_id, kind, amount)
            for kind, amount in mine.items() if amount]


def refund_postings(key: str, amount: int, fee_return: int,
                    weights: Mapping[int, int]) -> list[Posting]:
    """A refund and the channel fee returned with it, on the merchants it falls on: one
    component's merchant alone, or the box's merchants by weight."""
    postings = []
    refunds = allocate_by_weight(-amount, weights)
    returns = allocate_by_weight(fee_return, weights)
    for merchant_id in sorted(weights):
        if refunds[merchant_id]:
            postings.append(Posting(f"{key}:refund:{merchant_id}", merchant_id, "refund",
                                    refunds[merchant_id]))
        if returns[merchant_id]:
            postings.append(Posting(f"{key}:channel_fee_return:{merchant_id}", merchant_id,
                                    "channel_fee_return", returns[merchant_id]))
    return postings


def fee_returned(order_fee: int, order_total: int, refund: int) -> int:
    """The channel's fee that comes back with a refund: its share of the order, truncated."""
    if order_total <= 0 or refund <= 0:
        return 0
    return min(order_fee, order_fee * min(refund, order_total) // order_total)


def spread_over_rounds(total: int, rounds: int) -> dict[int, int]:
    """An order-level amount (a coupon, a reported channel fee) over its prepaid rounds."""
    return allocate_by_weight(total, dict.fromkeys(range(1, rounds + 1), 1))


@dataclass(frozen=True)
class Cancellation:
    """What an early cancellation gives back: the customer's refund for prepaid rounds not
    delivered, less the term benefits the plan claws back; and who gets the clawback."""

    refund: int
    clawback: int
    postings: tuple[Posting, ...]
    funding: tuple[Funding, ...]


def cancellation(key: str, undelivered_paid: int, received: Sequence[Discount],
                 weights: Mapping[int, int], claws_back: bool) -> Cancellation:
    """`received`: the plan discounts of rounds already delivered. Clawed back, the
    merchant-funded part returns to the merchants by weight; other funders get theirs back."""
    discounts = [d for d in received if d.kind == "discount" and d.amount > 0]
    clawback = min(undelivered_paid, sum(d.amount for d in discounts)) if claws_back else 0
    postings: list[Posting] = []
    funding: list[Funding] = []
    if clawback:
        by_funder: dict[str, int] = {}
        for discount in discounts:
            by_funder[discount.funder] = by_funder.get(discount.funder, 0) + discount.amount
        for funder, amount in sorted(allocate_by_weight(clawback, by_funder).items()):
            for merchant_id, share in sorted(allocate_by_weight(amount, weights).items()):
                if not share:
                    continue
                if funder == "merchant":
                    postings.append(Posting(f"{key}:merchant_discount:{merchant_id}",
                                            merchant_id, "merchant_discount", share))
                else:
                    funding.append(Funding(f"{key}:clawback:{funder}:{merchant_id}", funder,
                                           merchant_id, "clawback", -share))
    return Cancellation(undelivered_paid - clawback, clawback, tuple(postings), tuple(funding))


def fee_vat(fee_total: int, vat_bp: int) -> int:
    """VAT on a merchant's operator fees of a period (fees are negative), truncated."""
    return -(abs(fee_total) * vat_bp // BP)


def merchant_weights(parts: Iterable[Part]) -> dict[int, int]:
    weights: dict[int, int] = {}
    for part in parts:
        weights[part.merchant_id] = weights.get(part.merchant_id, 0) + part.weight
    return weights


class PlanRule(Protocol):
    """A plan's pricing rule as the money rules read it (hub.models.PricingRule)."""

    from_round: int
    kind: str
    percent_bp: int | None
    amount: int | None
    funder: str
    label: str | None


def plan_discounts(list_price: int, rules: Iterable[PlanRule], sequence: int,
                   boxes: int) -> list[Discount]:
    """The plan's term and round discounts that apply to paid round `sequence`: a rate of
    the list price (truncated) or a fixed amount per box, never more than what is left."""
    left = list_price
    discounts = []
    for rule in rules:
        if rule.from_round > sequence:
            continue
        if rule.kind == "percent":
            amount = list_price * int(rule.percent_bp or 0) // BP
        else:
            amount = int(rule.amount or 0) * boxes
        amount = min(amount, left)
        if amount > 0:
            left -= amount
            discounts.append(Discount(amount, rule.funder, "discount", rule.label or ""))
    return discounts
