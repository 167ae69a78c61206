"""Bindings (입점 링크) between hub rows and their external ids on a connection."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from hub.db import utcnow
from hub.models import Binding


def tombstone_bindings(session: Session, entity_type: str, internal_id: int) -> int:
    """Mark the links of a hub row that is being deleted, so each channel can unlist it.

    Ids are never reused (AUTOINCREMENT on SQLite, sequences on PostgreSQL), so a tombstone
    can never be mistaken for the link of a later row."""
    result = session.execute(
        update(Binding)
        .where(Binding.entity_type == entity_type, Binding.internal_id == internal_id,
               Binding.status != "tombstoned")
        .values(status="tombstoned", updated_at=utcnow(), version=Binding.version + 1)
        .execution_options(synchronize_session="fetch"))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
