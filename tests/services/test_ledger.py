"""The ledger in the database: append-only (refused by the database itself), posting once,
vouchers recognised when redeemed or by their expiry rule, refunds capped at what was
recognised, and early cancellations clawing back term discounts by the plan's rule."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from hub.db import session_scope
from hub.models import Claim, FundingEntry, LedgerEntry
from hub.services.ledger import Poster
from hub.services.vouchers import expire_vouchers, issue_for_round, redeem
from tests.services.settlement_world import (
    add_order,
    build_world,
    deliver,
    kst,
    one_delivered_round,
    post_all,
    refund,
)


def entries(session, **where):
    query = select(LedgerEntry.merchant_id, LedgerEntry.kind, LedgerEntry.amount)
    for column, value in where.items():
        query = query.where(getattr(LedgerEntry, column) == value)
    return sorted(tuple(row) for row in session.execute(query))


@pytest.mark.parametrize("statement", ["UPDATE ledger_entry SET amount = 0",
                                       "DELETE FROM ledger_entry",
                                       "UPDATE funding_entry SET amount = 0",
                                       "DELETE FROM funding_entry"])
def test_the_database_refuses_to_change_posted_money(app, tenants, statement):
    factory = app.extensions["gudok"].session_factory
    with session_scope(factory) as session:
        world = one_delivered_round(session, tenants["hanbit"])
        post_all(session, world.tenant)
    with pytest.raises(DatabaseError, match="append-only"), session_scope(factory) as session:
        session.execute(text(statement))
    with session_scope(factory) as session:
        assert session.scalar(select(LedgerEntry.amount).where(
            LedgerEntry.kind == "sales").limit(1)) > 0


def test_vouchers_are_recognised_when_redeemed_or_by_their_expiry_share(app, tenants):
    factory = app.extensions["gudok"].session_factory
    with session_scope(factory) as session:
        world = build_world(session, tenants["hanbit"], voucher=True)
        c = world.merchants[2].id
        add_order(session, world, "M1", world.mall, kst(2026, 10, 1), 104000)
        row = deliver(session, world, "M1", 1, kst(2026, 10, 8))
        row.quantity = 2  # two boxes: two vouchers of C's tour
        vouchers = issue_for_round(session, row)
        assert len(vouchers) == 2 and len({v.code for v in vouchers}) == 2
        post_all(session, world.tenant)
        # Delivered: A and B are paid for their goods; C's voucher part waits.
        assert all(merchant != c for merchant, _, _ in entries(session, round_id=row.id))
        redeem(session, vouchers[0], redeemed_at=kst(2026, 10, 20))
        assert expire_vouchers(session, world.tenant.id, date(2026, 12, 1),
                               now=kst(2026, 11, 10)) == 1
        post_all(session, world.tenant)
        # Two boxes: C's part is 12,000 sales, -1,200 discount, -1,000 shipping; 6,000,
        # -600 and -500 a voucher. Redeemed: all of it, fee 5% of 5,400 = 270.
        assert entries(session, voucher_id=vouchers[0].id) == sorted([
            (c, "sales", 6000), (c, "merchant_discount", -600), (c, "operator_fee", -270),
            (c, "shipping_share", -500)])
        # Expired at the item's 50%: half the sales, the costs in full, fee on 2,400.
        assert entries(session, voucher_id=vouchers[1].id) == sorted([
            (c, "sales", 3000), (c, "merchant_discount", -600), (c, "operator_fee", -120),
            (c, "shipping_share", -500)])
        periods = set(session.scalars(select(LedgerEntry.period).where(
            LedgerEntry.voucher_id.is_not(None))))
        assert periods == {"2026-10", "2026-11"}
        assert Poster(session, world.tenant).post_vouchers() == 0


def test_a_refund_beyond_what_was_recognised_is_not_the_merchants(app, tenants):
    factory = app.extensions["gudok"].session_factory
    with session_scope(factory) as session:
        world = build_world(session, tenants["hanbit"])
        add_order(session, world, "P1", world.platform, kst(2026, 10, 1), 104000)
        deliver(session, world, "P1", 1, kst(2026, 10, 8))
        refund(session, world, "P1", 60000, kst(2026, 10, 9))  # prepaid rounds too
        post_all(session, world.tenant)
        refunded = sum(amount for _, kind, amount in entries(session) if kind == "refund")
        assert refunded == -27000  # the one delivered round's 30,000 less its discount


def test_an_early_cancellation_refunds_undelivered_rounds_and_claws_back(app, tenants):
    factory = app.extensions["gudok"].session_factory
    with session_scope(factory) as session:
        world = build_world(session, tenants["hanbit"])
        add_order(session, world, "M1", world.mall, kst(2026, 10, 1), 104000)
        deliver(session, world, "M1", 1, kst(2026, 10, 8))
        deliver(session, world, "M1", 2, kst(2026, 10, 15))
        contract = world.lines["M1"].contract
        contract.status = "cancelled"
        post_all(session, world.tenant)
        claim = session.scalar(select(Claim).where(Claim.key == f"contract:{contract.id}"))
        # Rounds 3 and 4 were paid 26,000 each; the term discounts received on rounds 1 and
        # 2 (3,000 + 3,000 from the merchants, 1,000 from the municipality) come back.
        assert claim.kind == "cancel" and claim.amount == 52000 - 7000
        clawed = [(m, amount) for m, kind, amount in entries(session, order_id=claim.order_id)
                  if kind == "merchant_discount" and amount > 0]
        assert sum(amount for _, amount in clawed) == 6000
        funded = session.scalars(select(FundingEntry.amount).where(
            FundingEntry.kind == "clawback")).all()
        assert sum(funded) == -1000
        assert Poster(session, world.tenant).post_cancellations() == 0




def test_a_channel_refund_after_an_early_cancellation_is_not_taken_from_the_merchants(
        app, tenants):
    """The platform refunds what the cancellation left undelivered: that money was never the
    merchants'. A refund for goods before the cancellation, and one beyond what it left,
    still fall on them."""
    factory = app.extensions["gudok"].session_factory
    with session_scope(factory) as session:
        world = build_world(session, tenants["hanbit"])
        order = add_order(session, world, "P1", world.platform, kst(2026, 10, 1), 104000)
        deliver(session, world, "P1", 1, kst(2026, 10, 8))
        deliver(session, world, "P1", 2, kst(2026, 10, 15))
        goods = refund(session, world, "P1", 2000, kst(2026, 10, 10), world.items[0])
        post_all(session, world.tenant)
        contract = world.lines["P1"].contract
        contract.status, contract.cancelled_on = "cancelled", date(2026, 10, 16)
        # The platform's refund of the rest arrives before the next settlement run.
        rest = refund(session, world, "P1", 45000, kst(2026, 10, 16, 18))
        post_all(session, world.tenant)
        cancel = session.scalar(select(Claim).where(Claim.key == f"contract:{contract.id}"))
        assert cancel.amount == 45000
        later = refund(session, world, "P1", 3000, kst(2026, 10, 20), world.items[0])
        post_all(session, world.tenant)

        def refunded(claim: Claim) -> int:
            return sum(amount for _, kind, amount in entries(session, claim_id=claim.id)
                       if kind == "refund")

        assert (refunded(goods), refunded(rest), refunded(later)) == (-2000, 0, -3000)
        assert {m for m, kind, _ in entries(session, order_id=order.id, claim_id=later.id)
                if kind == "refund"} == {world.merchants[0].id}


@pytest.mark.parametrize(("supply", "fee"), [(7000, -1100), (9000, None)])
def test_a_supply_price_merchant_is_paid_its_supply_value(app, tenants, supply, fee):
    """B sells at its items' supply price: the operator keeps what B's net sales exceed it.
    A mall round: B's share 9,000 less its 900 discount = 8,100 against a supply value of
    7,000: the operator's fee is 1,100 (not an 8% commission). At a supply value of 9,000
    the net falls below it and B pays no fee."""
    with session_scope(app.extensions["gudok"].session_factory) as session:
        world = build_world(session, tenants["hanbit"])
        a, b, c = world.merchants
        b.fee_model, b.commission_rate_bp = "supply_price", None
        world.items[1].supply_price = supply
        add_order(session, world, "M1", world.mall, kst(2026, 10, 1), 104000)
        row = deliver(session, world, "M1", 1, kst(2026, 10, 8))
        post_all(session, world.tenant)
        fees = {m: amount for m, kind, amount in entries(session, round_id=row.id)
                if kind == "operator_fee"}
        assert fees.get(b.id) == fee
        assert (fees[a.id], fees[c.id]) == (-1350, -270)
