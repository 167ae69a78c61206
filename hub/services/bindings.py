"""The binder: hub rows ↔ their ids (and URLs) on one connection, the cross-listing links.

Every write goes through the unique keys of the binding table (connection, entity, external
id) and (connection, entity, internal id), so a binding is never duplicated, whatever runs
at the same time. A record deleted on the platform is tombstoned, not forgotten: when it
comes back under the same external id, binding it again revives the same row."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.db import utcnow
from hub.models import Binding, Connection, Item

ACTIVE = "active"
TOMBSTONED = "tombstoned"


class BindingConflict(Exception):
    """The external id is linked to another hub row on this connection (or the reverse)."""


def _find(session: Session, connection_id: int, entity_type: str, *,
          internal_id: int | None = None, external_id: str | None = None) -> Binding | None:
    query = select(Binding).where(Binding.connection_id == connection_id,
                                  Binding.entity_type == entity_type)
    if internal_id is not None:
        query = query.where(Binding.internal_id == internal_id)
    if external_id is not None:
        query = query.where(Binding.external_id == external_id)
    return session.scalar(query)


def bind(session: Session, connection_id: int, entity_type: str, internal_id: int,
         external_id: str, url: str | None = None) -> Binding:
    """Link (upsert). Re-linking the same pair changes nothing; a tombstone comes back."""
    for _attempt in range(3):
        by_internal = _find(session, connection_id, entity_type, internal_id=internal_id)
        by_external = _find(session, connection_id, entity_type, external_id=external_id)
        if by_internal is None and by_external is not None \
                and by_external.internal_id == internal_id:
            by_internal = by_external  # committed by someone else between the two reads
        if by_external is not None and by_external is not by_internal:
            if by_external.status == ACTIVE:
                raise BindingConflict(f"{entity_type} {external_id!r} is linked to "
                                      f"{by_external.internal_id} on this connection")
            session.delete(by_external)  # a dead link of another row gives way
            session.flush()
        if by_internal is not None:
            changed = (by_internal.external_id, by_internal.url, by_internal.status) != (
                external_id, url if url is not None else by_internal.url, ACTIVE)
            if changed:
                by_internal.external_id = external_id
                if url is not None:
                    by_internal.url = url
                by_internal.status = ACTIVE
                session.flush()
            return by_internal
        connection = session.get(Connection, connection_id)
        if connection is None:
            raise LookupError(f"no connection {connection_id}")
        row = Binding(tenant_id=connection.tenant_id, connection_id=connection_id,
                      entity_type=entity_type, internal_id=internal_id,
                      external_id=external_id, url=url, status=ACTIVE)
        try:
            with session.begin_nested():
                session.add(row)
            return row
        except IntegrityError:
            continue  # someone bound it at the same moment: read theirs and reconcile
    raise BindingConflict(f"{entity_type} {internal_id} kept changing while being bound")


def to_external(session: Session, connection_id: int, entity_type: str,
                internal_id: int) -> str | None:
    row = _find(session, connection_id, entity_type, internal_id=internal_id)
    return row.external_id if row is not None and row.status == ACTIVE else None


def to_internal(session: Session, connection_id: int, entity_type: str,
                external_id: str) -> int | None:
    row = _find(session, connection_id, entity_type, external_id=external_id)
    return row.internal_id if row is not None and row.status == ACTIVE else None


def unbind(session: Session, connection_id: int, entity_type: str, internal_id: int) -> bool:
    row = _find(session, connection_id, entity_type, internal_id=internal_id)
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def tombstone(session: Session, connection_id: int, entity_type: str,
              external_id: str) -> Binding | None:
    """The platform deleted its record: keep the link, marked dead, so it can come back."""
    row = _find(session, connection_id, entity_type, external_id=external_id)
    if row is not None and row.status != TOMBSTONED:
        row.status = TOMBSTONED
        session.flush()
    return row


def tombstone_bindings(session: Session, entity_type: str, internal_id: int) -> int:
    """Mark the links of a hub row that is being deleted, so each channel can unlist it.

    Ids are never reused (AUTOINCREMENT on SQLite, sequences on PostgreSQL), so a tombstone
    can never be mistaken for the link of a later row."""
    result = session.execute(
        update(Binding)
        .where(Binding.entity_type == entity_type, Binding.internal_id == internal_id,
               Binding.status != TOMBSTONED)
        .values(status=TOMBSTONED, updated_at=utcnow(), version=Binding.version + 1)
        .execution_options(synchronize_session="fetch"))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


@dataclass
class SkuMatches:
    """What matching external records to items by SKU found; ambiguity is left to a person."""

    matched: list[tuple[str, int]] = field(default_factory=list)
    ambiguous: list[tuple[str, list[int]]] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    already_bound: list[tuple[str, int]] = field(default_factory=list)


def match_items_by_sku(session: Session, connection_id: int,
                       candidates: list[tuple[str, str | None]], *,
                       bind_matches: bool = False) -> SkuMatches:
    """Match (external id, sku) pairs to the tenant's items, case- and space-insensitively.

    A SKU that names several items, or that several external records carry, is ambiguous and
    bound to nothing."""
    connection = session.get(Connection, connection_id)
    if connection is None:
        raise LookupError(f"no connection {connection_id}")
    result = SkuMatches()
    wanted = {sku.strip().lower() for _ext, sku in candidates if sku and sku.strip()}
    items: dict[str, list[int]] = {}
    if wanted:
        rows = session.execute(select(Item.id, func.lower(func.trim(Item.sku))).where(
            Item.tenant_id == connection.tenant_id,
            func.lower(func.trim(Item.sku)).in_(wanted)))
        for item_id, sku in rows:
            items.setdefault(sku, []).append(item_id)
    carried: dict[str, int] = {}
    for _external_id, sku in candidates:
        if sku and sku.strip():
            key = sku.strip().lower()
            carried[key] = carried.get(key, 0) + 1
    for external_id, sku in candidates:
        bound = to_internal(session, connection_id, "item", external_id)
        if bound is not None:
            result.already_bound.append((external_id, bound))
            continue
        key = (sku or "").strip().lower()
        found = items.get(key, []) if key else []
        if not found:
            result.unmatched.append(external_id)
        elif len(found) > 1 or carried[key] > 1:
            result.ambiguous.append((external_id, sorted(found)))
        else:
            result.matched.append((external_id, found[0]))
            if bind_matches:
                bind(session, connection_id, "item", found[0], external_id)
    return result
