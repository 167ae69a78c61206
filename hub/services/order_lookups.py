"""What applying a connection's events reads and changes, once per batch.

A drain job preloads a whole batch (its orders, bindings, plans, box versions, customers) in
a few queries, so applying each event is work in memory, and `write` stores every order the
batch changed at the end; without a preload every lookup falls back to its own query, which
is what a single apply_event call does. Orders are read FOR UPDATE on PostgreSQL: two jobs
changing the same order take turns."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from hub.db import utcnow
from hub.errors import RecordError
from hub.models import (
    Binding,
    Box,
    BoxComponent,
    CatalogChange,
    Connection,
    Coupon,
    Item,
    Plan,
    Round,
    Tenant,
)
from hub.services import order_state, signals
from hub.services.order_state import ContractRecord, CustomerRecord, OrderRecord, Record

R = TypeVar("R", bound=Record)
_ORDER_KINDS = frozenset({"order.upserted", "order.cancelled", "order.refunded",
                          "fulfilment.created"})


class PlanTerms(NamedTuple):
    """The part of a plan an order line and its contract need."""

    id: int
    box_id: int
    cadence: str
    prepaid_rounds: int
    term_rounds: int | None


def event_time(value: Any, field: str) -> datetime:
    """A timestamp of a canonical event (loaded: a datetime; dumped: ISO 8601 text)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise RecordError(f"{field}: not an ISO 8601 time") from None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise RecordError(f"{field}: a time with its offset is required")
    return value


def customer_digest(ref: str) -> str:
    return hashlib.sha256(ref.encode("utf-8")).hexdigest()


def masked_customer(digest: str) -> str:
    """All any API shows of a customer: enough to tell two apart on one screen."""
    return f"c-****{digest[-2:]}"


@dataclass
class OrderLookups:
    session: Session
    connection: Connection

    def __post_init__(self) -> None:
        self.tenant_id = self.connection.tenant_id
        self.reset()
        self.touched_versions: set[int] = set()
        self.id_pools: dict[str, list[int]] = {}  # table -> ids reserved for new rows
        self.reserved_up_to: dict[str, int] = {}
        zone = self.session.scalar(select(Tenant.time_zone).where(Tenant.id == self.tenant_id))
        self.zone = ZoneInfo(zone or "Asia/Seoul")

    def reset(self) -> None:
        """Forget everything read: after a rollback, the cached rows may be gone."""
        self.orders: dict[str, OrderRecord | None] = {}
        self.bindings: dict[tuple[str, str], int | None] = {}
        self.plans: dict[int, PlanTerms | None] = {}
        self.plan_codes: dict[str, PlanTerms | None] = {}
        self.versions: dict[int, int | None] = {}
        self.customers: dict[str, CustomerRecord | None] = {}
        self.components: dict[int, dict[int, int]] = {}
        self.items: dict[str, int | None] = {}
        self.coupons: dict[str, Coupon | None] = {}
        # (contract, boxes its rounds not shipped may carry; 0: none) since the last write
        self.round_boxes: list[tuple[ContractRecord, int]] = []

    # -- preloading -------------------------------------------------------------------------

    def preload(self, events: Iterable[Mapping[str, Any]]) -> None:
        events = list(events)
        order_ids: set[str] = set()
        products: set[str] = set()
        variants: set[str] = set()
        skus: set[str] = set()
        refs: set[str] = set()
        for event in events:
            record = event.get("order")
            if isinstance(record, Mapping):
                order_ids.add(str(record.get("external_id")))
                if record.get("customer_ref"):
                    refs.add(str(record["customer_ref"]))
                for line in record.get("lines") or []:
                    for found, key in ((products, "external_product_id"),
                                       (variants, "external_variant_id"), (skus, "sku")):
                        if line.get(key):
                            found.add(str(line[key]))
            elif event.get("kind") in _ORDER_KINDS:
                data = event.get("data") or {}
                if data.get("order_id"):
                    order_ids.add(str(data["order_id"]))
        self._preload_orders(order_ids - set(self.orders))
        self._preload_bindings("box", products)
        self._preload_bindings("plan", variants)
        codes = skus - set(self.plan_codes)
        self.plan_codes.update(dict.fromkeys(codes))
        self._preload_plans(Plan.code.in_(codes))
        wanted = {i for (entity, _), i in self.bindings.items() if entity == "plan" and i}
        wanted |= {line.plan_id for order in self.orders.values() if order
                   for line in order.lines if line.plan_id}
        self.plans.update(dict.fromkeys(wanted - set(self.plans)))
        self._preload_plans(Plan.id.in_(wanted))
        boxes = {i for (entity, _), i in self.bindings.items() if entity == "box" and i}
        boxes |= {plan.box_id for plan in self.plans.values() if plan}
        self._preload_versions(boxes - set(self.versions))
        digests = {customer_digest(ref) for ref in refs}
        self._preload_customers(digests - set(self.customers))
        new_orders = {i for i in order_ids if self.orders.get(i) is None}
        new_lines = sum(len(e["order"].get("lines") or []) for e in events if
                        isinstance(e.get("order"), Mapping)
                        and str(e["order"].get("external_id")) in new_orders)
        self._reserve_ids({"order": len(new_orders), "order_line": new_lines,
                           "contract": new_lines,
                           "customer": sum(1 for d in digests if self.customers.get(d) is None)})

    def _reserve_ids(self, wanted: dict[str, int]) -> None:
        """Take the ids the batch's new rows will need, in one query per table, so they are
        inserted by one executemany (no INSERT ... RETURNING row by row). PostgreSQL hands
        them out from the tables' sequences; on SQLite this transaction is the only writer
        (BEGIN IMMEDIATE), so the ids after the highest used or reserved one are free."""
        postgresql = self.session.get_bind().dialect.name == "postgresql"
        for table, count in wanted.items():
            pool = self.id_pools.setdefault(table, [])
            missing = count - len(pool)
            if missing <= 0:
                continue
            if postgresql:
                ids = sorted(self.session.scalars(
                    text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) "
                         "FROM generate_series(1, :count)"),
                    {"table": f'"{table}"', "count": missing}))
            else:
                used = self.session.scalar(text(
                    f'SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = :table)'
                    f', 0), coalesce((SELECT max(id) FROM "{table}"), 0))'), {"table": table})
                start = max(int(used or 0), self.reserved_up_to.get(table, 0))
                ids = list(range(start + 1, start + missing + 1))
            self.reserved_up_to[table] = max(ids[-1], self.reserved_up_to.get(table, 0))
            pool[:0] = reversed(ids)

    def new(self, record: R) -> R:
        """A new record, with an id reserved for it."""
        pool = self.id_pools.get(record.table)
        if not pool:
            self._reserve_ids({record.table: 1})
            pool = self.id_pools[record.table]
        record.id = pool.pop()
        return record

    def _preload_orders(self, external_ids: set[str]) -> None:
        if not external_ids:
            return
        lock = self.session.get_bind().dialect.name == "postgresql"
        found = order_state.load_orders(self.session, self.connection.id, external_ids, lock)
        for external_id in external_ids:
            self.orders[external_id] = found.get(external_id)

    def _preload_bindings(self, entity: str, external_ids: set[str]) -> None:
        wanted = {e for e in external_ids if (entity, e) not in self.bindings}
        if not wanted:
            return
        for external_id in wanted:
            self.bindings[(entity, external_id)] = None
        for external_id, internal_id in self.session.execute(
                select(Binding.external_id, Binding.internal_id).where(
                    Binding.connection_id == self.connection.id,
                    Binding.entity_type == entity, Binding.status == "active",
                    Binding.external_id.in_(wanted))):
            self.bindings[(entity, external_id)] = int(internal_id)

    def _preload_plans(self, condition: Any) -> None:
        query = select(Plan.id, Plan.box_id, Plan.cadence, Plan.prepaid_rounds,
                       Plan.term_rounds, Plan.code).where(Plan.tenant_id == self.tenant_id,
                                                          condition)
        for row in self.session.execute(query):
            terms = PlanTerms(*row[:5])
            self.plans[terms.id] = terms
            self.plan_codes[row.code] = terms

    def _preload_versions(self, box_ids: set[int]) -> None:
        if not box_ids:
            return
        self.versions.update(dict.fromkeys(box_ids))
        self.versions.update({int(i): v for i, v in self.session.execute(
            select(Box.id, Box.current_version_id).where(Box.id.in_(box_ids),
                                                         Box.tenant_id == self.tenant_id))})

    def _preload_customers(self, digests: set[str]) -> None:
        if digests:
            self.customers.update(dict.fromkeys(digests))
            self.customers.update(order_state.load_customers(self.session, self.connection.id,
                                                             digests))

    # -- lookups ----------------------------------------------------------------------------

    def order(self, external_id: str) -> OrderRecord | None:
        if external_id not in self.orders:
            self._preload_orders({external_id})
        return self.orders[external_id]

    def add_order(self, order: OrderRecord) -> OrderRecord:
        self.orders[order.external_id] = self.new(order)
        return order

    def binding(self, entity: str, external_id: str) -> int | None:
        self._preload_bindings(entity, {external_id})
        return self.bindings[(entity, external_id)]

    def plan(self, plan_id: int) -> PlanTerms | None:
        if plan_id not in self.plans:
            self.plans[plan_id] = None
            self._preload_plans(Plan.id == plan_id)
        return self.plans[plan_id]

    def plan_by_code(self, code: str) -> PlanTerms | None:
        if code not in self.plan_codes:
            self.plan_codes[code] = None
            self._preload_plans(Plan.code == code)
        return self.plan_codes[code]

    def current_version(self, box_id: int) -> int | None:
        if box_id not in self.versions:
            self._preload_versions({box_id})
        return self.versions[box_id]

    def customer(self, ref: str) -> CustomerRecord:
        digest = customer_digest(ref)
        if digest not in self.customers:
            self._preload_customers({digest})
        customer = self.customers[digest]
        if customer is None:
            customer = self.customers[digest] = self.new(CustomerRecord(
                tenant_id=self.tenant_id, connection_id=self.connection.id, ref_digest=digest,
                masked=masked_customer(digest)))
        return customer

    def unscheduled(self, contract: ContractRecord) -> bool:
        """No round of this contract exists yet (a contract new in this batch has none)."""
        if contract.id is None:
            return True
        return self.session.scalar(select(Round.id).where(
            Round.contract_id == contract.id).limit(1)) is None

    def coupon(self, code: str) -> Coupon | None:
        """The tenant's coupon campaign with this code (its funder is data on it)."""
        if code not in self.coupons:
            self.coupons[code] = self.session.scalar(select(Coupon).where(
                Coupon.tenant_id == self.tenant_id, Coupon.code == code))
        return self.coupons[code]

    def item_by_sku(self, sku: str) -> int | None:
        key = sku.strip().lower()
        if key not in self.items:
            found = list(self.session.scalars(select(Item.id).where(
                Item.tenant_id == self.tenant_id, func.lower(func.trim(Item.sku)) == key)))
            self.items[key] = found[0] if len(found) == 1 else None
        return self.items[key]

    def version_components(self, version_id: int) -> dict[int, int]:
        """item id -> quantity in one box version."""
        if version_id not in self.components:
            self.components[version_id] = {int(i): int(q) for i, q in self.session.execute(
                select(BoxComponent.item_id, BoxComponent.quantity)
                .where(BoxComponent.box_version_id == version_id))}
        return self.components[version_id]

    # -- after the batch --------------------------------------------------------------------

    def touch(self, version_id: int | None) -> None:
        """Stock held for this box version changed: boxes sharing its items must be pushed."""
        if version_id is not None:
            self.touched_versions.add(version_id)

    def limit_rounds(self, contract: ContractRecord, boxes: int) -> None:
        """The contract's rounds not yet shipped carry at most `boxes` from the next write:
        fewer when boxes of its line were cancelled or refunded, none (cancelled) at 0."""
        self.round_boxes.append((contract, boxes))

    def write(self) -> None:
        """Store every order read or made since the last write that changed. Then the rounds
        not yet shipped follow their orders: those of contracts cancelled with their order
        are cancelled (the customer has their money back, so none may be packed, shipped or
        paid to a merchant), and those of lines with boxes cancelled or refunded shrink."""
        order_state.write(self.session, (o for o in self.orders.values() if o is not None))
        limits: dict[int, int] = {}
        for contract, boxes in self.round_boxes:
            if contract.id is not None:
                limits[contract.id] = min(boxes, limits.get(contract.id, boxes))
        self.round_boxes.clear()
        for contract_id, boxes in sorted(limits.items()):
            scheduled = (Round.contract_id == contract_id, Round.status == "scheduled")
            self.session.execute(
                update(Round).where(*scheduled).values(status="cancelled") if boxes == 0 else
                update(Round).where(*scheduled, Round.quantity > boxes).values(quantity=boxes),
                execution_options={"synchronize_session": False})

    def finish(self) -> None:
        """Write the catalog changes of every box whose availability the batch moved."""
        if not self.touched_versions:
            return
        items = select(BoxComponent.item_id).where(
            BoxComponent.box_version_id.in_(self.touched_versions))
        boxes = self.session.execute(
            select(Box.id, Box.tenant_id).join(
                BoxComponent, BoxComponent.box_version_id == Box.current_version_id)
            .where(BoxComponent.item_id.in_(items)).distinct().order_by(Box.id)).all()
        now = utcnow()
        self.session.add_all([CatalogChange(tenant_id=tenant_id, box_id=box_id, created_at=now)
                              for box_id, tenant_id in boxes])
        for tenant_id in {tenant_id for _box_id, tenant_id in boxes}:
            signals.changed_tenant(self.session, tenant_id)  # pushes queued once committed
        self.touched_versions.clear()
