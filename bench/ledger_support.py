"""The set-up bench/ledger_posting.py measures on: one tenant with three merchants, a box of
three components (one per merchant, weights 5/3/2), a weekly plan of four prepaid rounds with
a merchant-funded percent discount and a municipality-funded fixed discount from round 2,
two connections (channel fee 0 and 550 bp), and delivered rounds written in bulk (COPY on
PostgreSQL, Core executemany on SQLite), four to a contract, one contract per order line,
one line per order. Also a copy of the ledger table for the bare-insert baseline, and the
process's resident memory."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, MetaData, Table, insert, text
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.elements import conv

from hub.db import session_scope
from hub.models import (
    Base,
    Box,
    BoxComponent,
    BoxVersion,
    Connection,
    Item,
    LedgerEntry,
    Merchant,
    Plan,
    PricingRule,
    Tenant,
)
from hub.models.base import NAMING_CONVENTION

PERIOD = "2026-11"
ROUND_PRICE = 39000  # KRW list price of one round of one box
PREPAID = 4  # rounds a contract pays up front, and delivers in the month
WEIGHTS = (5, 3, 2)
COMMISSION_BP = (1000, 800, 1200)
FEES_BP = (0, 550)  # the two connections' channel fee rates
CHUNK = 5000  # contracts written per statement (COPY) or executemany
PLACED = datetime(2026, 10, 28, 3, 0, tzinfo=UTC)
MONTH_START = date(2026, 11, 1)
COPY_TABLE = "bench_ledger_copy"
_PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class Fixture:
    tenant_id: int
    merchant_ids: tuple[int, ...]
    box_id: int
    version_id: int
    plan_id: int
    connection_ids: tuple[int, ...]
    rounds: int
    contracts: int


def rss_bytes() -> int:
    """The process's resident set size now (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * _PAGE


def build_catalog(factory: sessionmaker[Session]) -> Fixture:
    """The tenant, merchants, items, box and version, plan and rules, and connections."""
    with session_scope(factory) as session:
        tenant = Tenant(code="bench-ledger", name="벤치군", time_zone="Asia/Seoul",
                        settlement_cycle="monthly", courier_cost_per_box=3500,
                        shipping_subsidy_per_box=2000, min_payout=10000, fee_vat_bp=1000)
        session.add(tenant)
        session.flush()
        merchants = [Merchant(tenant_id=tenant.id, name=f"벤치 상회 {n}",
                              business_number=f"{1234567890 + n}", tax_type="general",
                              fee_model="commission", commission_rate_bp=rate)
                     for n, rate in enumerate(COMMISSION_BP)]
        session.add_all(merchants)
        session.flush()
        items = [Item(tenant_id=tenant.id, merchant_id=m.id, sku=f"BENCH-SKU-{n}",
                      name=f"벤치 상품 {n}", list_price=ROUND_PRICE // 3)
                 for n, m in enumerate(merchants)]
        session.add_all(items)
        box = Box(tenant_id=tenant.id, code="BENCH-BOX", title="벤치 꾸러미", status="active",
                  capacity_per_round=0)
        session.add(box)
        session.flush()
        version = BoxVersion(box_id=box.id, number=1)
        version.components = [BoxComponent(item_id=item.id, position=n, quantity=1,
                                           weight=weight)
                              for n, (item, weight) in enumerate(zip(items, WEIGHTS,
                                                                     strict=True))]
        session.add(version)
        session.flush()
        box.current_version_id = version.id
        plan = Plan(tenant_id=tenant.id, box_id=box.id, code="BENCH-WEEKLY-4",
                    name="주 1회 4회차", cadence="weekly", prepaid_rounds=PREPAID,
                    term_rounds=PREPAID, round_price=ROUND_PRICE)
        plan.rules = [
            PricingRule(position=0, from_round=1, kind="percent", percent_bp=500,
                        funder="merchant", label="상인 할인 5%"),
            PricingRule(position=1, from_round=2, kind="fixed", amount=3000,
                        funder="municipality", label="지자체 지원 3,000원")]
        session.add(plan)
        connections = [Connection(tenant_id=tenant.id, connector=connector, name=name,
                                  status="active", config={}, fee_rate_bp=fee)
                       for connector, name, fee in (("saleor", "벤치몰", FEES_BP[0]),
                                                    ("partner", "벤치 플랫폼", FEES_BP[1]))]
        session.add_all(connections)
        session.flush()
        return Fixture(tenant.id, tuple(m.id for m in merchants), box.id, version.id,
                       plan.id, tuple(c.id for c in connections), 0, 0)


def _chunks(fixture: Fixture, rounds: int) -> Iterator[dict[str, list[dict[str, Any]]]]:
    """Rows of orders, lines, contracts and rounds, CHUNK contracts at a time. A contract's
    rounds are consecutive ids (the scheduler creates a contract's horizon at once),
    delivered a week apart within the month."""
    contracts = -(-rounds // PREPAID)
    now = datetime.now(UTC)
    number = 0
    for first in range(1, contracts + 1, CHUNK):
        chunk: dict[str, list[dict[str, Any]]] = {"order": [], "order_line": [],
                                                  "contract": [], "round": []}
        for cid in range(first, min(contracts, first + CHUNK - 1) + 1):
            boxes = 2 if cid % 5 == 0 else 1
            connection_id = fixture.connection_ids[cid % 2]
            placed = PLACED + timedelta(seconds=cid % 86400)
            chunk["order"].append({
                "id": cid, "tenant_id": fixture.tenant_id, "connection_id": connection_id,
                "external_id": f"BENCH-{cid:08d}", "number": str(cid), "status": "paid",
                "status_rank": 1, "placed_at": placed, "source_updated_at": placed,
                "source_digest": f"{cid:064x}", "currency": "KRW",
                "total": ROUND_PRICE * PREPAID * boxes, "refunded": 0, "customer_id": None,
                "coupon_id": None, "coupon_amount": 0, "channel_fee": None,
                "created_at": now, "updated_at": now})
            chunk["order_line"].append({
                "id": cid, "order_id": cid, "external_line_id": "1",
                "external_product_id": None, "external_variant_id": None, "sku": None,
                "box_id": fixture.box_id, "box_version_id": fixture.version_id,
                "plan_id": fixture.plan_id, "quantity": boxes,
                "unit_price": ROUND_PRICE * PREPAID, "cancelled_quantity": 0,
                "refunded_quantity": 0})
            chunk["contract"].append({
                "id": cid, "tenant_id": fixture.tenant_id, "order_id": cid,
                "order_line_id": cid, "plan_id": fixture.plan_id, "box_id": fixture.box_id,
                "cadence": "weekly", "prepaid_rounds": PREPAID, "term_rounds": PREPAID,
                "rounds_delivered": PREPAID, "next_round_on": None, "status": "active",
                "renewals": 0, "cancelled_on": None, "created_at": now, "updated_at": now})
            for sequence in range(1, PREPAID + 1):
                if number == rounds:
                    break
                number += 1
                day = MONTH_START + timedelta(days=cid % 7 + 7 * (sequence - 1))
                # 10:00 to 18:59 local (UTC+9) on the delivery day: inside the month
                delivered = datetime(day.year, day.month, day.day, 1, tzinfo=UTC) + \
                    timedelta(seconds=(cid * 37) % 32400)
                chunk["round"].append({
                    "id": number, "tenant_id": fixture.tenant_id, "contract_id": cid,
                    "number": sequence, "sequence": sequence, "scheduled_on": day,
                    "cutoff_at": delivered - timedelta(days=3), "quantity": boxes,
                    "status": "delivered", "shipped_at": delivered - timedelta(days=1),
                    "delivered_at": delivered, "carrier": None, "tracking_number": None,
                    "tracking_pushed_at": None, "posted_at": None, "created_at": now,
                    "updated_at": now})
        yield chunk


def fill_rounds(engine: Engine, fixture: Fixture, rounds: int) -> Fixture:
    """Write the orders, lines, contracts and delivered rounds in bulk; fresh statistics."""
    tables = {name: Base.metadata.tables[name]
              for name in ("order", "order_line", "contract", "round")}
    postgresql = engine.dialect.name == "postgresql"
    for chunk in _chunks(fixture, rounds):
        with engine.begin() as db:
            for name, rows in chunk.items():
                if not rows:
                    continue
                if postgresql:
                    columns = list(rows[0])
                    cursor = db.connection.driver_connection.cursor()  # type: ignore[union-attr]
                    names = ", ".join(columns)
                    with cursor.copy(f'COPY "{name}" ({names}) FROM STDIN') as copy:
                        for row in rows:
                            copy.write_row([row[column] for column in columns])
                    cursor.close()
                else:
                    db.execute(insert(tables[name]), rows)
    contracts = -(-rounds // PREPAID)
    with engine.begin() as db:
        if postgresql:
            for name in tables:
                db.execute(text(f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), "
                                f'(SELECT max(id) FROM "{name}"))'))
        db.exec_driver_sql("ANALYZE")
    return Fixture(fixture.tenant_id, fixture.merchant_ids, fixture.box_id, fixture.version_id,
                   fixture.plan_id, fixture.connection_ids, rounds, contracts)


def ledger_copy(engine: Engine, source: Table | None = None) -> Table:
    """An empty table like `source` (ledger_entry by default: columns, types, keys, unique
    key, checks, foreign keys and indexes), made in the same database, for the bare-insert
    baseline."""
    source = LedgerEntry.__table__ if source is None else source
    name = f"{COPY_TABLE}_{source.name}"
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    for table in Base.metadata.sorted_tables:
        if table.name != source.name:
            table.to_metadata(metadata)
    copy = source.to_metadata(metadata, name=name)
    for item in [*copy.constraints, *copy.indexes]:
        if item.name:
            item.name = conv(str(item.name).replace(source.name, name))
    copy.drop(engine, checkfirst=True)
    copy.create(engine)
    return copy
