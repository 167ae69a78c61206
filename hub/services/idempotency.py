"""Idempotency-Key: the same key and body get the first answer; another body gets 422."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.db import utcnow
from hub.models import IdempotencyRecord

# A reservation left pending this long belongs to a request that died; it may be taken over.
ABANDONED_AFTER = timedelta(minutes=5)


class KeyReusedWithOtherBody(Exception):
    pass


class KeyInProgress(Exception):
    pass


@dataclass
class Replay:
    status: int
    body: dict[str, Any]


def request_digest(body: Any) -> str:
    encoded = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def reserve(session: Session, tenant_id: int, endpoint: str, key: str, digest: str,
            ttl: timedelta) -> Replay | None:
    """Claim the key for this request (committed), or return the answer it already got."""
    now = utcnow()
    session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.expires_at < now))
    session.commit()
    record = IdempotencyRecord(tenant_id=tenant_id, endpoint=endpoint, key=key,
                               request_digest=digest, created_at=now, expires_at=now + ttl)
    session.add(record)
    try:
        session.commit()
        return None
    except IntegrityError:
        session.rollback()
    existing = session.scalar(select(IdempotencyRecord).where(
        IdempotencyRecord.tenant_id == tenant_id, IdempotencyRecord.endpoint == endpoint,
        IdempotencyRecord.key == key).with_for_update())
    if existing is None:  # expired and deleted between our insert and read
        return reserve(session, tenant_id, endpoint, key, digest, ttl)
    if existing.request_digest != digest:
        session.rollback()
        raise KeyReusedWithOtherBody
    if existing.response_status is not None:
        replay = Replay(existing.response_status, existing.response_body or {})
        session.rollback()
        return replay
    if now - existing.created_at < ABANDONED_AFTER:
        session.rollback()
        raise KeyInProgress
    existing.created_at = now
    session.commit()
    return None


def complete(session: Session, tenant_id: int, endpoint: str, key: str, status: int,
             body: dict[str, Any]) -> None:
    record = session.scalar(select(IdempotencyRecord).where(
        IdempotencyRecord.tenant_id == tenant_id, IdempotencyRecord.endpoint == endpoint,
        IdempotencyRecord.key == key))
    if record is not None:
        record.response_status = status
        record.response_body = body
        session.commit()
