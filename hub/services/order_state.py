"""Orders as applying events sees them: plain records read in a few queries per batch,
changed in memory, and written back with one statement per table and kind of change.

Applying a batch touches thousands of rows; ORM instances would spend most of the time in
attribute instrumentation and the unit of work. These records carry the same columns as the
tables in hub/models/order.py (which every reader of orders keeps using); `write` inserts the
new ones (with ids reserved beforehand, so each table's inserts are one executemany,
pipelined on PostgreSQL) and updates those whose columns differ from what was read."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime
from operator import attrgetter
from typing import Any, ClassVar

from sqlalchemy import ARRAY, String, Table, bindparam, func, insert, literal, select, true, update
from sqlalchemy.orm import Session

from hub.db import utcnow
from hub.models import Claim, Contract, Customer, Order, OrderLine


@dataclass(eq=False)
class Record:
    """A row: its id (None until written), and its columns as last read or written (None:
    not in the database yet)."""

    table: ClassVar[str]
    children: ClassVar[frozenset[str]] = frozenset()  # fields that are records, not columns
    id: int | None = None
    stored: tuple[Any, ...] | None = field(default=None, repr=False)

    def values(self) -> tuple[Any, ...]:
        return _getter(type(self))(self)

    def columns(self) -> dict[str, Any]:
        return dict(zip(column_names(type(self)), self.values(), strict=True))

    def settled(self) -> None:
        self.stored = self.values()

    @property
    def changed(self) -> bool:
        return self.stored != self.values()


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # a placeholder; every record made sets its times


_COLUMN_NAMES: dict[type, tuple[str, ...]] = {}
_GETTERS: dict[type, Callable[[Any], tuple[Any, ...]]] = {}


def column_names(kind: type[Record]) -> tuple[str, ...]:
    names = _COLUMN_NAMES.get(kind)
    if names is None:
        names = _COLUMN_NAMES[kind] = tuple(
            f.name for f in fields(kind)
            if f.name not in ("id", "stored") and f.name not in kind.children)
    return names


def _getter(kind: type[Record]) -> Callable[[Any], tuple[Any, ...]]:
    getter = _GETTERS.get(kind)
    if getter is None:
        getter = _GETTERS[kind] = attrgetter(*column_names(kind))
    return getter


@dataclass(eq=False)
class CustomerRecord(Record):
    table = "customer"
    tenant_id: int = 0
    connection_id: int = 0
    ref_digest: str = ""
    masked: str = ""


@dataclass(eq=False)
class ContractRecord(Record):
    table = "contract"
    tenant_id: int = 0
    order_id: int | None = None
    order_line_id: int | None = None
    plan_id: int = 0
    box_id: int = 0
    cadence: str = ""
    prepaid_rounds: int = 1
    term_rounds: int | None = None
    rounds_delivered: int = 0
    next_round_on: date | None = None
    status: str = "active"
    cancelled_on: date | None = None  # set by the lifecycle only: the order path never does
    cancel_reason: str | None = None


@dataclass(eq=False)
class LineRecord(Record):
    table = "order_line"
    children = frozenset({"contract"})
    order_id: int | None = None
    external_line_id: str = ""
    external_product_id: str | None = None
    external_variant_id: str | None = None
    sku: str | None = None
    box_id: int | None = None
    box_version_id: int | None = None
    plan_id: int | None = None
    quantity: int = 1
    unit_price: int = 0
    cancelled_quantity: int = 0
    refunded_quantity: int = 0
    contract: ContractRecord | None = None


@dataclass(eq=False)
class ClaimRecord(Record):
    table = "claim"
    tenant_id: int = 0
    order_id: int | None = None
    key: str = ""
    kind: str = "refund"
    amount: int = 0
    refunded_total: int | None = None
    lines: list[Any] = field(default_factory=list)
    occurred_at: datetime = EPOCH


@dataclass(eq=False)
class OrderRecord(Record):
    table = "order"
    children = frozenset({"customer", "lines", "claims"})
    tenant_id: int = 0
    connection_id: int = 0
    external_id: str = ""
    number: str | None = None
    status: str = "unpaid"
    status_rank: int = 0
    placed_at: datetime = EPOCH
    source_updated_at: datetime = EPOCH
    source_digest: str = ""
    currency: str = "KRW"
    total: int = 0
    refunded: int = 0
    customer_id: int | None = None
    coupon_id: int | None = None
    coupon_amount: int = 0
    channel_fee: int | None = None
    customer: CustomerRecord | None = None
    lines: list[LineRecord] = field(default_factory=list)
    claims: list[ClaimRecord] = field(default_factory=list)


def _loaded(kind: type[Record], row: Any) -> Any:
    record = kind(id=row.id, **{name: getattr(row, name) for name in column_names(kind)})
    record.settled()
    return record


def load_orders(session: Session, connection_id: int, external_ids: Iterable[str],
                lock: bool) -> dict[str, OrderRecord]:
    """The connection's orders with these ids, their lines, contracts and claims; locked
    FOR UPDATE (on PostgreSQL) so two jobs changing one order take turns."""
    wanted = sorted(set(external_ids))
    if not wanted:
        return {}
    orders = {row.id: _loaded(OrderRecord, row) for row in _by_key(
        session, Order.__table__, connection_id, "external_id", wanted, lock)}
    if not orders:
        return {}
    lines = {}
    for row in session.execute(select(OrderLine.__table__).where(
            OrderLine.__table__.c.order_id.in_(orders)).order_by(OrderLine.__table__.c.id)):
        lines[row.id] = line = _loaded(LineRecord, row)
        orders[row.order_id].lines.append(line)
    if lines:
        for row in session.execute(select(Contract.__table__).where(
                Contract.__table__.c.order_line_id.in_(lines))):
            lines[row.order_line_id].contract = _loaded(ContractRecord, row)
    for row in session.execute(select(Claim.__table__).where(
            Claim.__table__.c.order_id.in_(orders)).order_by(Claim.__table__.c.id)):
        orders[row.order_id].claims.append(_loaded(ClaimRecord, row))
    return {order.external_id: order for order in orders.values()}


def load_customers(session: Session, connection_id: int,
                   digests: Iterable[str]) -> dict[str, CustomerRecord]:
    wanted = sorted(set(digests))
    if not wanted:
        return {}
    return {row.ref_digest: _loaded(CustomerRecord, row) for row in _by_key(
        session, Customer.__table__, connection_id, "ref_digest", wanted, False)}


def _by_key(session: Session, table: Any, connection_id: int, column: str, keys: list[str],
            lock: bool) -> Iterable[Any]:
    """The connection's rows with these keys, through its unique (connection_id, key) index.

    On PostgreSQL one index probe per key (a LATERAL join over the keys, sorted, so two
    jobs lock shared rows in the same order): an IN list lets the planner scan every row of
    the connection while the table's statistics are stale, as they are after a bulk load."""
    if session.get_bind().dialect.name != "postgresql":
        return session.execute(select(table).where(table.c.connection_id == connection_id,
                                                   table.c[column].in_(keys)))
    wanted = func.unnest(literal(keys, ARRAY(String))).table_valued("key").render_derived()
    probe = select(table).where(table.c.connection_id == connection_id,
                                table.c[column] == wanted.c.key)
    if lock:
        probe = probe.with_for_update()
    found = probe.lateral()
    return session.execute(select(found).select_from(wanted).join(found, true()))


def write(session: Session, orders: Iterable[OrderRecord]) -> None:
    """Insert what is new and update what changed, parents first."""
    orders = list(orders)
    customers = {id(o.customer): o.customer for o in orders if o.customer is not None}
    _write(session, Customer, list(customers.values()))
    for order in orders:
        if order.customer is not None:
            order.customer_id = order.customer.id
    _write(session, Order, orders)
    lines, contracts, claims = [], [], []
    for order in orders:
        for line in order.lines:
            line.order_id = order.id
            lines.append(line)
        for claim in order.claims:
            claim.order_id = order.id
            claims.append(claim)
    _write(session, OrderLine, lines)
    for line in lines:
        if line.contract is not None:
            line.contract.order_id, line.contract.order_line_id = line.order_id, line.id
            contracts.append(line.contract)
    _write(session, Contract, contracts)
    _write(session, Claim, claims)


def _write(session: Session, model: Any, records: list[Any]) -> None:
    table: Table = model.__table__
    stamped = "updated_at" in table.c
    now = utcnow()
    new = [r for r in records if r.stored is None]
    changed = [r for r in records if r.stored is not None and r.changed]
    with_ids = [r for r in new if r.id is not None]
    if with_ids:
        session.execute(insert(table), [_row(r, table, now, True) for r in with_ids])
    without_ids = [r for r in new if r.id is None]
    if without_ids:
        ids = session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True),
                              [_row(r, table, now, True) for r in without_ids]).scalars()
        for record, new_id in zip(without_ids, ids, strict=True):
            record.id = new_id
    if changed:
        columns = list(changed[0].columns())
        values: dict[str, Any] = {name: bindparam(f"v_{name}") for name in columns}
        if stamped:
            values["updated_at"] = bindparam("v_updated_at")
        session.execute(update(table).where(table.c.id == bindparam("v_id")).values(values),
                        [{f"v_{k}": v for k, v in _row(r, table, now, False).items()}
                         for r in changed])
    for record in new + changed:
        record.settled()


def _row(record: Any, table: Table, now: datetime, inserting: bool) -> dict[str, Any]:
    row = record.columns()
    row["id"] = record.id
    if "updated_at" in table.c:
        row["updated_at"] = now
        if inserting:
            row["created_at"] = now
    elif inserting and "created_at" in table.c:
        row["created_at"] = now
    if inserting and row["id"] is None:
        del row["id"]
    return row


__all__ = ["ClaimRecord", "ContractRecord", "CustomerRecord", "LineRecord", "OrderRecord",
           "load_customers", "load_orders", "write"]
