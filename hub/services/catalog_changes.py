"""The catalog change log: one row per box whose listing may have changed, written in the
transaction of the change by a before_flush hook, so no write path can forget it.

Watched: a box, its versions and components, its plans and their pricing rules, stock levels
of items in a box's current composition, bindings of a box or of its plans (links),
offerings, and contracts (an open order holds stock, so availability moves). Bulk
UPDATE/DELETE statements bypass the ORM and are not seen. A box that has no
id yet (created in this flush) is not recorded: no platform can be offered it before it has
one, and offering it writes a change."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session, sessionmaker

from hub.db import utcnow
from hub.models import (
    Binding,
    Box,
    BoxComponent,
    BoxVersion,
    CatalogChange,
    Contract,
    Offering,
    OutboxMessage,
    Plan,
    PricingRule,
    StockLevel,
)
from hub.services import signals

WATCHED = (Box, BoxVersion, BoxComponent, Plan, PricingRule, StockLevel, Binding, Offering,
           Contract)
ALL = None  # a change every platform offered the box should see


def install(factory: sessionmaker[Session]) -> None:
    """Record catalog changes in every session the factory makes."""
    event.listen(factory, "before_flush", record_changes)


def _old_value(row: Any, key: str) -> Any:
    """The value a column had before this flush changed it, if it did."""
    deleted = inspect(row).attrs[key].history.deleted
    return deleted[0] if deleted else None


def _changed(session: Session, row: Any, state: str) -> bool:
    return state != "dirty" or session.is_modified(row, include_collections=False)


def record_changes(session: Session, _context: Any, _instances: Any) -> None:
    for row in session.new:
        if isinstance(row, OutboxMessage):
            signals.queued_notification(session, row.connection_id)
    rows: list[tuple[str, Any]] = [("new", r) for r in session.new] + \
        [("dirty", r) for r in session.dirty] + [("deleted", r) for r in session.deleted]
    rows = [(state, row) for state, row in rows
            if isinstance(row, WATCHED) and _changed(session, row, state)]
    if not rows:
        return
    with session.no_autoflush:
        _record(session, rows)


def _record(session: Session, rows: list[tuple[str, Any]]) -> None:
    # box id -> the connections a change concerns (ALL: every platform offered the box)
    boxes: dict[int, set[int | None]] = {}
    tenants: dict[int, int] = {}
    versions: set[int] = set()
    plans: set[int] = set()
    items: set[int] = set()
    deleted_boxes: set[int] = set()

    def touch(box_id: Any, tenant_id: Any = None, connection_id: int | None = ALL) -> None:
        if box_id is None:
            return
        boxes.setdefault(int(box_id), set()).add(connection_id)
        if tenant_id is not None:
            tenants[int(box_id)] = int(tenant_id)

    for state, row in rows:
        if isinstance(row, Box):
            touch(row.id, row.tenant_id)
            if state == "deleted" and row.id is not None:
                deleted_boxes.add(row.id)
        elif isinstance(row, BoxVersion):
            touch(row.box_id)
        elif isinstance(row, BoxComponent):
            _add(versions, row.box_version_id, _old_value(row, "box_version_id"))
        elif isinstance(row, Plan):
            touch(row.box_id, row.tenant_id)
            touch(_old_value(row, "box_id"), row.tenant_id)
        elif isinstance(row, PricingRule):
            _add(plans, row.plan_id, _old_value(row, "plan_id"))
        elif isinstance(row, StockLevel):
            _add(items, row.item_id, _old_value(row, "item_id"))
        elif isinstance(row, Binding):
            if row.entity_type == "box":
                touch(row.internal_id, row.tenant_id)
            elif row.entity_type == "plan":
                plans.add(row.internal_id)
        elif isinstance(row, Offering):
            touch(row.box_id, row.tenant_id, row.connection_id)
        elif isinstance(row, Contract):  # an open order holds stock and a slot of capacity
            touch(row.box_id, row.tenant_id)
    if versions:
        for box_id in session.scalars(select(BoxVersion.box_id)
                                      .where(BoxVersion.id.in_(versions))):
            touch(box_id)
    if plans:
        for box_id in session.scalars(select(Plan.box_id).where(Plan.id.in_(plans))):
            touch(box_id)
    if items:
        for box_id in session.scalars(
                select(Box.id).join(BoxComponent,
                                    BoxComponent.box_version_id == Box.current_version_id)
                .where(BoxComponent.item_id.in_(items)).distinct()):
            touch(box_id)
    _write(session, boxes, tenants, deleted_boxes)


def _add(target: set[int], *values: Any) -> None:
    target.update(int(v) for v in values if v is not None)


def _write(session: Session, boxes: dict[int, set[int | None]], tenants: dict[int, int],
           deleted_boxes: set[int]) -> None:
    missing = [box_id for box_id in boxes if box_id not in tenants]
    if missing:
        tenants.update({int(i): int(t) for i, t in session.execute(
            select(Box.id, Box.tenant_id).where(Box.id.in_(missing)))})
    if deleted_boxes:
        # A deleted box's offerings go with it (ON DELETE CASCADE): tell each of those
        # platforms, by name, that it is gone.
        for box_id, connection_id in session.execute(
                select(Offering.box_id, Offering.connection_id)
                .where(Offering.box_id.in_(deleted_boxes))):
            boxes[int(box_id)].add(int(connection_id))
    now = utcnow()
    for box_id in sorted(boxes):
        tenant_id = tenants.get(box_id)
        if tenant_id is None:
            continue  # the box is gone and unknown: nothing can list it
        for concerned in _connections(boxes[box_id], box_id in deleted_boxes):
            session.add(CatalogChange(tenant_id=tenant_id, box_id=box_id,
                                      connection_id=concerned, created_at=now))
        signals.changed_tenant(session, tenant_id)


def _connections(concerned: Iterable[int | None], deleted: bool) -> list[int | None]:
    """The rows of one box: one for everyone (ALL) if any change concerns everyone, plus one
    per connection whose offering changed (a withdrawal must reach that platform although
    the box is no longer offered to it). A deleted box gets only the latter, since no later
    read can find its offerings."""
    named = sorted({c for c in concerned if c is not None})
    if deleted:
        return list(named) or [ALL]
    return ([ALL] if ALL in concerned else []) + list(named)
