"""The money rules as properties over random rounds: splits by weight, money conserved per
round and per period (with VAT), voucher breakage, refunds, early cancellations, and entry
keys that never collide, so nothing is counted twice or in two periods."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.services.allocation import allocate_by_weight
from hub.services.settlement_rules import (
    BP,
    PHYSICAL,
    Discount,
    Funding,
    Part,
    Posting,
    RoundTerms,
    cancellation,
    fee_returned,
    fee_vat,
    merchant_weights,
    operator_fee,
    refund_postings,
    round_postings,
    split_round,
    supply_margin,
    voucher_postings,
)

PROPERTY = settings(max_examples=250, deadline=None, derandomize=True)
FUNDERS = ("municipality", "merchant", "operator", "channel")
DISCOUNT_KINDS = ("discount", "coupon")
EXPIRY_SHARES = (0, 3000, BP)
VAT_BP = 1000
PERIODS = ("2025-01", "2025-02", "2025-03")
# The merchant-side kinds a voucher carries besides the operator's fee.
VOUCHER_KINDS = ("sales", "merchant_discount", "channel_fee", "shipping_share")


# --- strategies ------------------------------------------------------------------------------

def _part_key(spec: tuple[int, int, int | None]) -> tuple[int, int]:
    return (spec[0], spec[2] or PHYSICAL)


def _item(spec: tuple[int, int, int | None]) -> int:
    # a voucher item belongs to one merchant; physical parts are unique by merchant already
    return spec[2] if spec[2] is not None else -spec[0]


part_specs = st.lists(
    st.tuples(st.integers(1, 5), st.integers(1, 20),
              st.one_of(st.none(), st.integers(1, 50))),
    min_size=1, max_size=4, unique_by=(_part_key, _item))


@st.composite
def round_terms(draw: st.DrawFn, key: str = "round:1") -> RoundTerms:
    parts = tuple(Part(merchant, weight, item) for merchant, weight, item in draw(part_specs))
    list_price = draw(st.integers(0, 500_000))
    discounts = []
    left = list_price
    for index in range(draw(st.integers(0, 4))):
        amount = draw(st.integers(0, left))
        left -= amount
        discounts.append(Discount(amount, draw(st.sampled_from(FUNDERS)),
                                  draw(st.sampled_from(DISCOUNT_KINDS)), f"d{index}"))
    commission = {merchant: draw(st.integers(0, 2000))
                  for merchant in sorted({part.merchant_id for part in parts})}
    courier = draw(st.integers(0, 6000))
    # Some merchants sell at their items' supply price: a supply value for each of their parts.
    supplied = {merchant for merchant in commission if draw(st.booleans())}
    supply = {part.key: draw(st.integers(0, list_price)) for part in parts
              if part.merchant_id in supplied}
    return RoundTerms(
        key=key, list_price=list_price, discounts=tuple(discounts), parts=parts,
        commission_bp=commission, channel_fee=draw(st.integers(0, left)),
        boxes=draw(st.integers(1, 3)), courier_cost_per_box=courier,
        subsidy_per_box=draw(st.integers(0, courier)), supply_value=supply)


@dataclass(frozen=True)
class Voucher:
    key: str
    merchant_id: int
    item_id: int
    unit: int
    units: int


@st.composite
def rounds_with_vouchers(draw: st.DrawFn, key: str = "round:1",
                         first_voucher: int = 1) -> tuple[RoundTerms, list[Voucher]]:
    """A round and one voucher per unit of each of its voucher parts (1-3 units each)."""
    terms = draw(round_terms(key))
    vouchers: list[Voucher] = []
    for part in terms.parts:
        if part.voucher_item_id is None:
            continue
        units = draw(st.integers(1, 3))
        for unit in range(1, units + 1):
            vouchers.append(Voucher(f"voucher:{first_voucher + len(vouchers)}", part.merchant_id,
                                    part.voucher_item_id, unit, units))
    return terms, vouchers


def _voucher_entries(terms: RoundTerms, vouchers: Iterable[Voucher],
                     share_bp: int = BP) -> list[Posting]:
    return [posting for voucher in vouchers
            for posting in voucher_postings(terms, voucher.item_id, voucher.merchant_id,
                                            voucher.unit, voucher.units, voucher.key, share_bp)]


# --- ledger arithmetic -----------------------------------------------------------------------

def _sum(entries: Iterable[Posting | Funding], *kinds: str) -> int:
    return sum(entry.amount for entry in entries if not kinds or entry.kind in kinds)


def _courier(terms: RoundTerms) -> int:
    return terms.courier_cost_per_box * terms.boxes


def _merchant_discounts(terms: RoundTerms) -> int:
    return sum(d.amount for d in terms.discounts if d.funder == "merchant")


def _money_out(postings: list[Posting], channel_fees: int, courier: int) -> int:
    """Merchants' payables, the operator's fees (and VAT), the channel's fees, the courier."""
    return (_sum(postings) - _sum(postings, "operator_fee", "operator_fee_vat")
            + channel_fees + courier)


def _exact_gap(total: int, weight: int, whole: int, part: int) -> int:
    """whole * (part - exact share): an integer, so no fractions are needed."""
    return part * whole - total * weight


# --- 1. allocate_by_weight -------------------------------------------------------------------

weight_maps = st.dictionaries(st.integers(1, 30), st.integers(0, 20), min_size=1, max_size=8) \
    .filter(lambda weights: sum(weights.values()) > 0)


@PROPERTY
@given(st.integers(-10**9, 10**9), weight_maps)
def test_parts_sum_to_the_total_each_within_a_won_of_its_share(total, weights):
    parts = allocate_by_weight(total, weights)
    whole = sum(weights.values())
    assert parts.keys() == weights.keys()
    assert sum(parts.values()) == total
    for key, weight in weights.items():
        assert abs(_exact_gap(total, weight, whole, parts[key])) < whole
        if weight == 0:
            assert parts[key] == 0
    assert allocate_by_weight(-total, weights) == {key: -part for key, part in parts.items()}


@PROPERTY
@given(st.integers(0, 10**7), weight_maps)
def test_the_won_left_over_goes_by_remainder_then_larger_weight_then_lower_key(total, weights):
    parts = allocate_by_weight(total, weights)
    whole = sum(weights.values())
    up = {key for key in weights if parts[key] * whole > total * weights[key]}
    for key in weights:
        assert parts[key] in (total * weights[key] // whole, total * weights[key] // whole + 1)

    def rank(key: int) -> tuple[int, int, int]:
        return (total * weights[key] % whole, weights[key], -key)

    for winner in up:
        for other in weights.keys() - up:
            assert rank(winner) > rank(other), (winner, other)


@PROPERTY
@given(st.integers(2, 8), st.integers(1, 20), st.integers(0, 10**6),
       st.sampled_from((1, -1)))
def test_equal_weights_give_the_extra_won_to_the_lowest_keys(count, weight, total, sign):
    keys = list(range(10, 10 + count))
    parts = allocate_by_weight(sign * total, dict.fromkeys(reversed(keys), weight))
    for rank, key in enumerate(keys):
        assert parts[key] == sign * (total // count + (1 if rank < total % count else 0))


@PROPERTY
@given(st.lists(st.integers(1, 20), min_size=2, max_size=8), st.integers(0, 50))
def test_equal_remainders_go_to_the_larger_weight_then_the_lower_key(weights, multiple):
    """Half the (even) whole: every odd weight has remainder whole/2, every even weight none,
    so the won left over go to the larger odd weights, equal ones to the lower key."""
    if sum(weights) % 2:
        weights = [*weights, 1]
    mapping = {key: weight for key, weight in zip(range(len(weights), 0, -1), weights,
                                                  strict=True)}
    whole = sum(weights)
    total = whole // 2 + multiple * whole
    parts = allocate_by_weight(total, mapping)
    odd = sorted((key for key, weight in mapping.items() if weight % 2),
                 key=lambda key: (-mapping[key], key))
    winners = set(odd[:len(odd) // 2])
    for key, weight in mapping.items():
        assert parts[key] == total * weight // whole + (1 if key in winners else 0)


def test_documented_tie_examples():
    # remainders 2 and 2 of 4: the larger weight wins
    assert allocate_by_weight(2, {1: 1, 2: 3}) == {1: 0, 2: 2}
    assert allocate_by_weight(2, {2: 1, 1: 3}) == {2: 0, 1: 2}
    # equal weights: the lower key wins, whatever the mapping's order
    assert allocate_by_weight(1, {3: 1, 1: 1, 2: 1}) == {1: 1, 2: 0, 3: 0}
    assert allocate_by_weight(-1, {3: 1, 1: 1, 2: 1}) == {1: -1, 2: 0, 3: 0}


@PROPERTY
@given(st.integers(-10**7, 10**7), weight_maps, st.randoms(use_true_random=False))
def test_allocation_is_deterministic_and_ignores_the_mappings_order(total, weights, random):
    expected = allocate_by_weight(total, weights)
    assert allocate_by_weight(total, weights) == expected
    items = list(weights.items())
    random.shuffle(items)
    assert allocate_by_weight(total, dict(items)) == expected
    # part keys as split_round uses them
    tupled = {(key, key % 3): weight for key, weight in items}
    assert allocate_by_weight(total, tupled) == \
        {(key, key % 3): part for key, part in expected.items()}


@PROPERTY
@given(st.integers(-10**7, 10**7), st.integers(0, 2000))
def test_the_operators_fee_is_never_charged_on_a_loss(net, rate):
    fee = operator_fee(net, rate)
    assert fee == (-(net * rate // BP) if net > 0 else 0)
    assert fee * BP > -(max(0, net) * rate) - BP


# --- 2. conservation per round and per period ------------------------------------------------

@PROPERTY
@given(rounds_with_vouchers())
def test_a_round_with_its_vouchers_redeemed_conserves_money(drawn):
    terms, vouchers = drawn
    postings, funding = round_postings(terms)
    postings += _voucher_entries(terms, vouchers)

    assert _sum(funding) == terms.funders_paid
    assert all(entry.amount > 0 for entry in funding)
    assert _sum(funding, "shipping_subsidy") == terms.subsidy_per_box * terms.boxes
    assert all(entry.funder != "merchant" for entry in funding)
    # every kind adds up to the round's figure once every voucher is redeemed
    assert _sum(postings, "sales") == terms.list_price
    assert _sum(postings, "merchant_discount") == -_merchant_discounts(terms)
    assert _sum(postings, "channel_fee") == -terms.channel_fee
    assert _sum(postings, "shipping_share") == \
        -(terms.courier_cost_per_box - terms.subsidy_per_box) * terms.boxes
    assert all(entry.amount <= 0 for entry in postings if entry.kind != "sales")

    channel_fees = -_sum(postings, "channel_fee")
    assert _money_out(postings, channel_fees, _courier(terms)) == \
        terms.customer_paid + _sum(funding)


@PROPERTY
@given(rounds_with_vouchers())
def test_operator_fees_are_the_rate_of_net_sales_truncated(drawn):
    terms, vouchers = drawn
    postings, _ = round_postings(terms)
    postings += _voucher_entries(terms, vouchers)
    by_source: dict[tuple[str, int], dict[str, int]] = {}
    for entry in postings:
        source = entry.key.rsplit(":", 2)[0]
        by_source.setdefault((source, entry.merchant_id), {})[entry.kind] = entry.amount
    supplied = {merchant for merchant, _ in terms.supply_value}
    for (source, merchant_id), amounts in by_source.items():
        net = amounts.get("sales", 0) + amounts.get("merchant_discount", 0)
        if merchant_id in supplied:  # the supply-price margin instead of a rate
            fee = amounts.get("operator_fee", 0)
            assert fee <= 0 and -fee <= max(0, net)
            if source == terms.key:
                assert fee == supply_margin(net, terms.supply_value[(merchant_id, 0)])
            continue
        rate = terms.commission_bp[merchant_id]
        fee = amounts.get("operator_fee", 0)
        assert fee == operator_fee(net, rate) == -(max(0, net) * rate // BP)
        assert fee <= 0
        assert -fee * BP <= max(0, net) * rate


@PROPERTY
@given(st.lists(st.sampled_from(PERIODS), min_size=1, max_size=4).flatmap(
    lambda periods: st.tuples(st.just(periods), st.tuples(*(
        rounds_with_vouchers(f"round:{index}", 10 * index)
        for index in range(1, len(periods) + 1))))))
def test_a_period_conserves_money_with_vat_on_the_operators_fees(drawn):
    periods, rounds = drawn
    for period in sorted(set(periods)):
        postings: list[Posting] = []
        funded = customer = channel_fees = courier = 0
        for (terms, vouchers), of in zip(rounds, periods, strict=True):
            if of != period:
                continue
            entries, funding = round_postings(terms)
            postings += entries + _voucher_entries(terms, vouchers)
            funded += _sum(funding)
            customer += terms.customer_paid
            channel_fees += terms.channel_fee
            courier += _courier(terms)
        fees: dict[int, int] = {}
        for entry in postings:
            if entry.kind == "operator_fee":
                fees[entry.merchant_id] = fees.get(entry.merchant_id, 0) + entry.amount
        vat = [Posting(f"vat:{period}:{merchant_id}", merchant_id, "operator_fee_vat",
                       fee_vat(fee, VAT_BP)) for merchant_id, fee in sorted(fees.items())]
        for entry in vat:
            fee = fees[entry.merchant_id]
            assert entry.amount <= 0
            assert -entry.amount == -fee * VAT_BP // BP
        postings += [entry for entry in vat if entry.amount]
        assert channel_fees == -_sum(postings, "channel_fee")
        assert _money_out(postings, channel_fees, courier) == customer + funded


# --- 3. vouchers that expire -----------------------------------------------------------------

def _breakage(terms: RoundTerms, posted: list[Posting]) -> int:
    """What the voucher parts carried (the merchant's side, before the operator's fee) and
    the expiry did not post: it stays with the operator."""
    money = split_round(terms)
    carried = sum(money[(part.merchant_id, part.voucher_item_id)].amounts[kind]
                  for part in terms.parts if part.voucher_item_id is not None
                  for kind in VOUCHER_KINDS)
    return carried - _sum(posted, *VOUCHER_KINDS)


def _unit_sales(terms: RoundTerms, vouchers: list[Voucher]) -> list[int]:
    """Each voucher unit's sales, as redemption would post them."""
    sales = []
    for voucher in vouchers:
        full = voucher_postings(terms, voucher.item_id, voucher.merchant_id, voucher.unit,
                                voucher.units, voucher.key, BP)
        sales.append(sum(entry.amount for entry in full if entry.kind == "sales"))
    return sales


@PROPERTY
@given(rounds_with_vouchers(), st.sampled_from(EXPIRY_SHARES))
def test_expired_vouchers_conserve_money_with_the_breakage_on_the_operators_side(drawn, share):
    terms, vouchers = drawn
    postings, funding = round_postings(terms)
    expired = _voucher_entries(terms, vouchers, share)
    postings += expired
    breakage = _breakage(terms, expired)

    operator_side = -_sum(postings, "operator_fee") + breakage
    assert _sum(postings) + operator_side + terms.channel_fee + _courier(terms) == \
        terms.customer_paid + _sum(funding)
    # Only sales are paid at the share: what stays is exactly the unpaid part of the sales.
    assert breakage == sum(sales - sales * share // BP for sales in _unit_sales(terms, vouchers))
    assert breakage >= 0
    if share == BP:
        assert breakage == 0


def _expired_alone(terms: RoundTerms, share: int) -> int:
    vouchers = [Voucher("voucher:1", 2, 7, 1, 1)]
    return _breakage(terms, _voucher_entries(terms, vouchers, share))


def test_an_expired_voucher_part_that_costs_more_than_it_sells_keeps_its_costs():
    terms = RoundTerms("round:1", 0, (), (Part(1, 1), Part(2, 1, 7)), {1: 0, 2: 0}, 0, 1,
                       6000, 0)
    entries = _voucher_entries(terms, [Voucher("voucher:1", 2, 7, 1, 1)], 0)
    assert _sum(entries, "shipping_share") == -3000  # its merchant's, as if redeemed
    assert _expired_alone(terms, 0) == 0


def test_an_expired_voucher_pays_only_its_share_of_sales():
    # one voucher part: sales 4, channel fee -1, shipping -3; 30 % pays sales 1, costs in full
    terms = RoundTerms("round:1", 4, (), (Part(2, 1, 7),), {2: 0}, 1, 1, 3, 0)
    entries = _voucher_entries(terms, [Voucher("voucher:1", 2, 7, 1, 1)], 3000)
    assert {entry.kind: entry.amount for entry in entries} == {
        "sales": 1, "channel_fee": -1, "shipping_share": -3}
    assert _expired_alone(terms, 3000) == 3


# --- 4. refunds ------------------------------------------------------------------------------

@PROPERTY
@given(rounds_with_vouchers(), st.data())
def test_a_refund_and_its_fee_return_keep_money_conserved(drawn, data):
    terms, vouchers = drawn
    postings, funding = round_postings(terms)
    postings += _voucher_entries(terms, vouchers)
    recognised = _sum(postings, "sales", "merchant_discount")
    amount = data.draw(st.integers(0, max(0, recognised)), label="refund")
    fee_return = fee_returned(terms.channel_fee, terms.customer_paid, amount)
    assert 0 <= fee_return <= terms.channel_fee
    if amount >= terms.customer_paid > 0:
        assert fee_return == terms.channel_fee

    weights = merchant_weights(terms.parts)
    refunds = refund_postings("claim:1", amount, fee_return, weights)
    assert _sum(refunds) == -amount + fee_return
    assert _sum(refunds, "refund") == -amount
    assert _sum(refunds, "channel_fee_return") == fee_return
    assert all(entry.amount < 0 for entry in refunds if entry.kind == "refund")
    assert all(entry.amount > 0 for entry in refunds if entry.kind == "channel_fee_return")
    assert {entry.merchant_id for entry in refunds} <= weights.keys()

    channel_fees = terms.channel_fee - fee_return
    assert _money_out(postings + refunds, channel_fees, _courier(terms)) == \
        terms.customer_paid - amount + _sum(funding)

    # one component's merchant alone carries all of it
    merchant = data.draw(st.sampled_from(sorted(weights)), label="component merchant")
    alone = refund_postings("claim:2", amount, fee_return, {merchant: weights[merchant]})
    assert {entry.merchant_id for entry in alone} <= {merchant}
    assert _sum(alone, "refund") == -amount
    assert _sum(alone, "channel_fee_return") == fee_return


@PROPERTY
@given(st.integers(0, 100_000), st.integers(0, 2_000_000), st.integers(0, 2_000_000))
def test_the_fee_returned_is_the_refunds_share_of_the_order_fee(order_fee, total, refund):
    returned = fee_returned(order_fee, total, refund)
    assert 0 <= returned <= order_fee
    if total > 0 and refund > 0:
        assert returned == order_fee * min(refund, total) // total
        assert fee_returned(order_fee, total, refund + 1) >= returned
    else:
        assert returned == 0


# --- 5. cancellation -------------------------------------------------------------------------

received_discounts = st.lists(
    st.builds(Discount, st.integers(0, 200_000), st.sampled_from(FUNDERS),
              st.sampled_from(DISCOUNT_KINDS), st.sampled_from(("", "term", "welcome"))),
    max_size=8)


@PROPERTY
@given(st.integers(0, 2_000_000), received_discounts,
       st.one_of(part_specs.map(lambda specs: merchant_weights(
           Part(merchant, weight, item) for merchant, weight, item in specs)),
           st.just({0: 1})),
       st.booleans())
def test_a_cancellation_refunds_what_it_does_not_claw_back(undelivered, received, weights,
                                                           claws_back):
    result = cancellation("contract:1", undelivered, received, weights, claws_back)
    term = [d for d in received if d.kind == "discount" and d.amount > 0]
    assert result.refund + result.clawback == undelivered
    assert 0 <= result.clawback <= min(undelivered, sum(d.amount for d in term))
    if claws_back:
        assert result.clawback == min(undelivered, sum(d.amount for d in term))
    else:
        assert result.clawback == 0
        assert result.postings == () and result.funding == ()

    assert _sum(result.postings) - _sum(result.funding) == result.clawback
    assert all(entry.kind == "merchant_discount" and entry.amount > 0
               for entry in result.postings)
    assert all(entry.kind == "clawback" and entry.amount < 0 and entry.funder != "merchant"
               for entry in result.funding)
    assert {entry.merchant_id for entry in result.postings} <= weights.keys()
    assert {entry.merchant_id for entry in result.funding} <= weights.keys()
    # no funder gets back more than it funded
    funded: dict[str, int] = {}
    for discount in term:
        funded[discount.funder] = funded.get(discount.funder, 0) + discount.amount
    assert _sum(result.postings) <= funded.get("merchant", 0)
    for funder in FUNDERS:
        returned = -sum(entry.amount for entry in result.funding if entry.funder == funder)
        assert returned <= funded.get(funder, 0)
    keys = [entry.key for entry in result.postings] + [entry.key for entry in result.funding]
    assert len(keys) == len(set(keys))


# --- 6. every entry once, in one period ------------------------------------------------------

@st.composite
def period_history(draw: st.DrawFn) -> list[tuple[str, str, list[Posting], list[Funding]]]:
    """Rounds, their vouchers (redeemed or expired), refunds and cancellations, each event in
    a random period: (period, source key, postings, funding)."""
    events: list[tuple[str, str, list[Posting], list[Funding]]] = []
    next_voucher = 1
    for index in range(1, draw(st.integers(1, 5)) + 1):
        terms, vouchers = draw(rounds_with_vouchers(f"round:{index}", next_voucher))
        next_voucher += len(vouchers)
        entries, funding = round_postings(terms)
        events.append((draw(st.sampled_from(PERIODS)), terms.key, entries, funding))
        for voucher in vouchers:
            share = draw(st.sampled_from(EXPIRY_SHARES))
            events.append((draw(st.sampled_from(PERIODS)), voucher.key,
                           _voucher_entries(terms, [voucher], share), []))
        weights = merchant_weights(terms.parts)
        refund = draw(st.integers(0, terms.customer_paid))
        events.append((draw(st.sampled_from(PERIODS)), f"claim:{index}", refund_postings(
            f"claim:{index}", refund, fee_returned(terms.channel_fee, terms.customer_paid,
                                                   refund), weights), []))
        result = cancellation(f"contract:{index}", draw(st.integers(0, 500_000)),
                              terms.discounts, weights, draw(st.booleans()))
        events.append((draw(st.sampled_from(PERIODS)), f"contract:{index}",
                       list(result.postings), list(result.funding)))
    return events


def _periods_by_key(entries: Iterable[tuple[str, str]]) -> Mapping[str, list[str]]:
    found: dict[str, list[str]] = {}
    for key, period in entries:
        found.setdefault(key, []).append(period)
    return found


@PROPERTY
@given(period_history())
def test_no_entry_key_is_posted_twice_or_in_two_periods(events):
    posting_keys = [entry.key for _, _, postings, _ in events for entry in postings]
    funding_keys = [entry.key for _, _, _, funding in events for entry in funding]
    assert len(posting_keys) == len(set(posting_keys))
    assert len(funding_keys) == len(set(funding_keys))

    period_of = _periods_by_key((entry.key, period) for period, _, postings, funding in events
                                for entry in [*postings, *funding])
    assert all(len(periods) == 1 for periods in period_of.values())
    for _, source, postings, funding in events:
        # an entry's key names its source event, so the same event posted again collides
        assert all(entry.key.startswith(f"{source}:") for entry in [*postings, *funding])


@PROPERTY
@given(rounds_with_vouchers())
def test_the_same_round_posts_the_same_keys_again(drawn):
    terms, vouchers = drawn
    assert round_postings(terms) == round_postings(terms)
    assert _voucher_entries(terms, vouchers) == _voucher_entries(terms, vouchers)
