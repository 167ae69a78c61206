"""Fault-test helpers: a `gudok worker` that can be stopped dead in the middle of a drain,
the partner deliveries the fault tests send, and a snapshot of what the drain made of them.

Run as `python -m tests.jobs.fault_support --pause-after N --marker PATH -- worker ...`: the
real `gudok` command, except that once the worker has drained N inbox rows it stops inside
the batch's transaction (the batch applied but not committed), writes PATH and waits to be
killed."""

from __future__ import annotations

import json
import os
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import aliased

from hub.db import session_scope
from hub.models import Claim, Contract, Customer, Order, OrderLine

ROOT = Path(__file__).resolve().parents[2]
GUDOK = ROOT / ".venv" / "bin" / "gudok"
PAUSED_FOR = 120.0  # seconds a paused worker waits to be killed; far beyond any test


# -- the worker that stops mid-drain -------------------------------------------------------

def pause_mid_drain(after_rows: int, marker: Path) -> None:
    """Once `after_rows` rows were drained in this process, stop inside the next batch's
    transaction, after its rows were applied and marked done but before the commit."""
    from jobs import inbox

    record = inbox._record
    seen = 0

    def record_then_stop(session: Any, work: Any, now: Any, max_attempts: int,
                         report: Any) -> None:
        nonlocal seen
        record(session, work, now, max_attempts, report)
        seen += len(work.rows)
        if seen >= after_rows:
            session.flush()
            marker.write_text(f"{os.getpid()} {len(work.rows)}\n")
            time.sleep(PAUSED_FOR)

    inbox._record = record_then_stop  # type: ignore[assignment]


def main(argv: list[str]) -> None:
    after_rows, marker, rest = 0, None, list(argv)
    while rest and rest[0] != "--":
        option, value, *rest = rest
        if option == "--pause-after":
            after_rows = int(value)
        elif option == "--marker":
            marker = Path(value)
        else:
            raise SystemExit(f"unknown option {option}")
    if marker is not None and after_rows:
        pause_mid_drain(after_rows, marker)
    from hub.cli import main as gudok

    sys.argv = ["gudok", *rest[1:]]
    gudok()


def worker_env(database_url: str, redis_url: str, secret_key: str,
               var_dir: Path) -> dict[str, str]:
    """The environment a worker process of the test's hub runs with."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUDOK_")}
    env.update(GUDOK_DATABASE_URL=database_url, GUDOK_REDIS_URL=redis_url,
               GUDOK_ENVIRONMENT="test", GUDOK_SECRET_KEYS=secret_key,
               GUDOK_LOG_LEVEL="WARNING", GUDOK_VAR_DIR=str(var_dir),
               GUDOK_OUTBOUND_ALLOW_ONLY="true", PYTHONPATH=str(ROOT))
    return env


# -- the deliveries --------------------------------------------------------------------------

@dataclass(frozen=True)
class Delivery:
    webhook_id: str
    body: bytes


def _envelope(kind: str, order: int, minute: int, plan_code: str, **data: Any) -> bytes:
    quantity = 1 + order % 3
    envelope = {
        "type": kind, "timestamp": f"2026-11-{1 + minute // 1440:02d}T"
                                   f"{minute // 60 % 24:02d}:{minute % 60:02d}:00+09:00",
        "data": {"order_id": f"ORD-{order:04d}", "status": "paid", "total": 45000 * quantity,
                 "customer_ref": f"c-{order % 37}", "placed_at": "2026-11-01T09:00:00+09:00",
                 "lines": [{"line_id": "1", "listing_id": "L-1", "plan_code": plan_code,
                            "quantity": quantity, "unit_price": 45000}], **data}}
    return json.dumps(envelope, ensure_ascii=False).encode("utf-8")


def order_deliveries(plan_code: str, orders: int = 300, cancelled: int = 100,
                     refunded: int = 50, resent: int = 50, seed: int = 5) -> list[Delivery]:
    """orders + cancelled + refunded + resent deliveries, shuffled: each order placed (paid);
    the first `cancelled` of them cancelled later, the next `refunded` refunded in full
    later; the next `resent` placed again under a new id, as an older unpaid report. A
    cancellation or refund often arrives before its order: platform times decide."""
    found: list[Delivery] = []
    for n in range(orders):
        found.append(Delivery(f"msg_place_{n}", _envelope("order.placed", n, 600 + n,
                                                          plan_code)))
    for n in range(cancelled):
        found.append(Delivery(f"msg_cancel_{n}", _envelope("order.cancelled", n, 2000 + n,
                                                           plan_code, status="cancelled")))
    for n in range(cancelled, cancelled + refunded):
        total = 45000 * (1 + n % 3)
        found.append(Delivery(f"msg_refund_{n}", _envelope(
            "order.refunded", n, 2000 + n, plan_code, status="refunded", refunded=total)))
    first = cancelled + refunded
    for n in range(first, first + resent):
        found.append(Delivery(f"msg_again_{n}", _envelope("order.placed", n, 300 + n,
                                                          plan_code, status="unpaid")))
    random.Random(seed).shuffle(found)
    return found


# -- what the drain made of them ---------------------------------------------------------------

def order_tables(app: Flask, connection_id: int) -> dict[str, list[tuple[Any, ...]]]:
    """A connection's orders, lines, contracts and claims by the platform's ids: what a
    fault-free run must also produce (no hub ids of the rows themselves, no hub timestamps)."""
    with session_scope(app.extensions["gudok"].session_factory) as session:
        mine = Order.connection_id == connection_id
        orders = session.execute(
            select(Order.external_id, Order.number, Order.status, Order.status_rank,
                   Order.currency, Order.total, Order.refunded, Order.placed_at,
                   Order.source_updated_at, Order.source_digest, Customer.ref_digest,
                   Customer.masked)
            .outerjoin(Customer, Customer.id == Order.customer_id).where(mine)).all()
        lines = session.execute(
            select(Order.external_id, OrderLine.external_line_id,
                   OrderLine.external_product_id, OrderLine.external_variant_id,
                   OrderLine.sku, OrderLine.box_id, OrderLine.box_version_id, OrderLine.plan_id,
                   OrderLine.quantity, OrderLine.unit_price, OrderLine.cancelled_quantity,
                   OrderLine.refunded_quantity)
            .join(Order, Order.id == OrderLine.order_id).where(mine)).all()
        line = aliased(OrderLine)
        contracts = session.execute(
            select(Order.external_id, line.external_line_id, Contract.plan_id, Contract.box_id,
                   Contract.cadence, Contract.prepaid_rounds, Contract.term_rounds,
                   Contract.rounds_delivered, Contract.next_round_on, Contract.status)
            .join(Order, Order.id == Contract.order_id)
            .join(line, line.id == Contract.order_line_id).where(mine)).all()
        claims = session.execute(
            select(Order.external_id, Claim.key, Claim.kind, Claim.amount, Claim.refunded_total,
                   Claim.lines, Claim.occurred_at)
            .join(Order, Order.id == Claim.order_id).where(mine)).all()
    return {"order": sorted(map(tuple, orders)), "order_line": sorted(map(tuple, lines)),
            "contract": sorted(map(tuple, contracts)),
            "claim": sorted((*row[:5], json.dumps(row[5], sort_keys=True), row[6])
                            for row in claims)}


if __name__ == "__main__":
    main(sys.argv[1:])
