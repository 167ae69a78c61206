"""Two worked months, computed by hand and asserted to the won.

The world (tests/services/settlement_world.py): merchants A (10% fee), B (8%), C (5%) share
every box 5:3:2; a round lists at 30,000 won with a merchant-funded 10% term discount and,
from the second round, 1,000 won off paid by the municipality; courier 4,000 won a box,
1,500 of it subsidised; the mall takes no fee, the platform 5.5% of what its customer paid;
coupon WELCOME (municipality) takes 4,000 won off an order, 1,000 on each prepaid round.

Per merchant and round (sales, discount, operator fee, channel fee, shipping):
- a mall round: A 15000-1500-1350-0-1250 = 10900, B 9000-900-648-0-750 = 6702,
  C 6000-600-270-0-500 = 4630 (the same from round 2: the municipality's 1,000 is not theirs);
- a platform round 1 without coupon: paid 27,000, fee 1,485 split 742.5/445.5/297: the odd
  won goes to A (equal remainders, larger weight): A 10157, B 6257, C 4333;
- a platform round 1 with the coupon: paid 26,000, fee 1,430 = 715/429/286:
  A 10185, B 6273, C 4344;
- a platform round 2 with the coupon: paid 25,000, fee 1,375 = 688/412/275 (A again):
  A 10212, B 6290, C 4355.
Fee VAT is 10% of each merchant's fees in the period, truncated."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from hub.db import session_scope
from hub.models import FundingEntry, LedgerEntry, SettlementPeriod
from hub.services.ledger import Poster
from hub.services.periods import period_row
from hub.services.statements import close_period, statements_for
from tests.services.settlement_world import (
    add_order,
    build_world,
    by_merchant,
    deliver,
    kst,
    one_delivered_round,
    post_all,
    refund,
    totals,
)


def statements(session: Any, tenant: Any, key: str) -> dict[int, dict[str, Any]]:
    return by_merchant(statements_for(session, tenant, period_row(session, tenant, key)))


def test_september_to_november_to_the_won(app, tenants):
    factory = app.extensions["gudok"].session_factory
    with session_scope(factory) as session:
        world = build_world(session, tenants["hanbit"])
        a, b, c = (m.id for m in world.merchants)
        tenant = world.tenant
        add_order(session, world, "X", world.platform, kst(2026, 9, 1), 104000)
        deliver(session, world, "X", 1, kst(2026, 9, 8))
        post_all(session, tenant)
        september = statements(session, tenant, "2026-09")
        assert totals(september[a]) == {"sales": 15000, "merchant_discount": -1500,
                                        "operator_fee": -1350, "operator_fee_vat": -135,
                                        "channel_fee": -743, "shipping_share": -1250}
        assert september[a]["payable"] == 10022
        assert [september[m]["payable"] for m in (b, c)] == [0, 0]  # under 10,000: carried
        assert september[b]["carried_forward"] == 6257 - 64
        assert september[c]["carried_forward"] == 4333 - 27
        close_period(session, tenant, "2026-09")

    # October: two rounds on the mall, a platform round with the coupon, and a refund of
    # 5,000 won of B's component of September's platform round, with its fee returned:
    # 5,720 (the order's fee) x 5,000 / 104,000 = 275.
    with session_scope(factory) as session:
        tenant = world.tenant = session.merge(world.tenant)
        for name in ("X",):
            world.orders[name] = session.merge(world.orders[name])
            world.lines[name] = session.merge(world.lines[name])
        add_order(session, world, "M1", world.mall, kst(2026, 10, 1), 104000)
        add_order(session, world, "P2", world.platform, kst(2026, 10, 2), 100000, coupon=True)
        deliver(session, world, "M1", 1, kst(2026, 10, 8))
        deliver(session, world, "M1", 2, kst(2026, 10, 15))
        deliver(session, world, "P2", 1, kst(2026, 10, 9))
        refund(session, world, "X", 5000, kst(2026, 10, 20), session.merge(world.items[1]))
        post_all(session, tenant)
        october = statements(session, tenant, "2026-10")
        assert totals(october[b]) == {
            "sales": 27000, "merchant_discount": -2700, "operator_fee": -1944,
            "operator_fee_vat": -194, "channel_fee": -429, "shipping_share": -2250,
            "refund": -5000, "channel_fee_return": 275, "carry_forward": 6193}
        assert {m: october[m]["payable"] for m in (a, b, c)} == {
            a: 10900 * 2 + 10185 - 405, b: 6702 * 2 + 6273 - 5000 + 275 + 6193 - 194,
            c: 4630 * 2 + 4344 + 4306 - 81}
        closed = close_period(session, tenant, "2026-10")
        assert closed.status == "closed" and closed.digest
        frozen = statements(session, tenant, "2026-10")
        assert {m: frozen[m]["payable"] for m in (a, b, c)} == {a: 31580, b: 20951, c: 17829}
        assert all(frozen[m]["status"] == "closed" and frozen[m]["digest"] for m in (a, b, c))

    # November: the mall's third round, the platform's second with the coupon, and a
    # refund of 2,000 won of C's component of October's platform round, dated 28 October
    # but processed after October closed: it lands in November. Fee returned:
    # 5,500 x 2,000 / 100,000 = 110. C ends under the minimum payout: carried to December.
    with session_scope(factory) as session:
        tenant = world.tenant = session.merge(world.tenant)
        for name in ("X", "M1", "P2"):
            world.orders[name] = session.merge(world.orders[name])
            world.lines[name] = session.merge(world.lines[name])
        deliver(session, world, "M1", 3, kst(2026, 11, 5))
        deliver(session, world, "P2", 2, kst(2026, 11, 6))
        late = refund(session, world, "P2", 2000, kst(2026, 10, 28),
                      session.merge(world.items[2]))
        post_all(session, tenant)
        assert set(session.scalars(select(LedgerEntry.period).where(
            LedgerEntry.claim_id == late.id))) == {"2026-11"}
        november = statements(session, tenant, "2026-11")
        assert {m: november[m]["payable"] for m in (a, b)} == {a: 20842, b: 12863}
        assert november[c]["payable"] == 0
        assert november[c]["carried_forward"] == 7041
        assert totals(november[c])["refund"] == -2000
        assert totals(november[c])["channel_fee_return"] == 110
        close_period(session, tenant, "2026-11")
        december = statements(session, tenant, "2026-12")
        assert totals(december[c]) == {"carry_forward": 7041}
        funded = session.execute(
            select(FundingEntry.kind, FundingEntry.amount).where(
                FundingEntry.period == "2026-11", FundingEntry.funder == "municipality")).all()
        by_kind: dict[str, int] = {}
        for kind, amount in funded:
            by_kind[kind] = by_kind.get(kind, 0) + amount
        assert by_kind == {"discount": 2000, "coupon": 1000, "shipping_subsidy": 3000}


def test_closed_period_never_changes_and_posting_twice_changes_nothing(app, tenants):
    factory = app.extensions["gudok"].session_factory
    with session_scope(factory) as session:
        world = one_delivered_round(session, tenants["hanbit"])
        post_all(session, world.tenant)
        # Posting again inserts nothing new.
        poster = Poster(session, world.tenant)
        assert poster.post_rounds() == 0
        close_period(session, world.tenant, "2026-10")
        first = statements(session, world.tenant, "2026-10")
        assert close_period(session, world.tenant, "2026-10").status == "closed"
        last = session.scalar(select(LedgerEntry.id).order_by(LedgerEntry.id.desc()))
        # A round delivered in October but posted after the close lands in November.
        deliver(session, world, "M1", 2, kst(2026, 10, 20))
        post_all(session, world.tenant)
        assert statements(session, world.tenant, "2026-10") == first
        assert set(session.scalars(select(LedgerEntry.period).where(
            LedgerEntry.id > last))) == {"2026-11"}
        assert session.scalar(select(SettlementPeriod.status).where(
            SettlementPeriod.key == "2026-11")) == "open"
