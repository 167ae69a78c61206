"""Audit rows: who changed what, when, with digests of the row before and after."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from hub.models import AuditEntry

# Columns never copied into a snapshot, so no secret reaches an audit digest input.
_EXCLUDED_SUFFIXES = ("_encrypted", "_hash")


def snapshot(row: Any) -> dict[str, Any]:
    """A row's column values, secrets left out, in a form that digests the same every time."""
    values: dict[str, Any] = {}
    for column in inspect(row).mapper.column_attrs:
        if column.key.endswith(_EXCLUDED_SUFFIXES):
            continue
        value = getattr(row, column.key)
        values[column.key] = value.isoformat() if isinstance(value, datetime) else value
    return values


def digest(values: dict[str, Any] | None) -> str | None:
    if values is None:
        return None
    encoded = json.dumps(values, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def record(session: Session, *, actor: str, action: str, entity_type: str,
           entity_id: int | None, tenant_id: int | None, before: dict[str, Any] | None,
           after: dict[str, Any] | None, request_id: str | None = None) -> AuditEntry:
    entry = AuditEntry(tenant_id=tenant_id, actor=actor, action=action, entity_type=entity_type,
                       entity_id=entity_id, before_digest=digest(before),
                       after_digest=digest(after), request_id=request_id)
    session.add(entry)
    return entry
