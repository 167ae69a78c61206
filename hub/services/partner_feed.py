"""The Partner API feed: the boxes offered to one platform that changed since its cursor.

Ordering guarantee: boxes come in the order of their first undelivered change, each at most
once per page, in its state at read time (entries carry the box's latest change id, and a page
is sorted by it); the changes of a box visible when it is shown are delivered with it.

A change id is taken when a transaction flushes but becomes visible when it commits, so ids
do not become visible in order: a bare "after id N" cursor would skip a change that commits
late with an id below N. The cursor therefore holds a low watermark, the highest id below
which every change is older than the overlap window (so committed, unless a transaction ran
longer than the window), and the ids already delivered above it. Every read re-reads from
the watermark and skips those ids: a late change is delivered on a later page, and nothing
is delivered twice while it stays within the window."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from hub.db import utcnow
from hub.models import Box, CatalogChange, Connection, Offering
from hub.schemas.common import ID_MAX
from hub.services.listings import box_listing


@dataclass(frozen=True)
class FeedCursor:
    watermark: int = 0
    delivered: tuple[int, ...] = ()


@dataclass
class FeedPage:
    data: list[dict[str, Any]] = field(default_factory=list)
    cursor: FeedCursor = field(default_factory=FeedCursor)
    has_more: bool = False


def encode_cursor(cursor: FeedCursor) -> str:
    raw = json.dumps({"w": cursor.watermark, "d": list(cursor.delivered)},
                     separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= ID_MAX


def decode_cursor(text: str) -> FeedCursor:
    """The cursor a previous page returned; ValueError for anything else."""
    try:
        padded = text + "=" * (-len(text) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        watermark, delivered = value["w"], value["d"]
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeError):
        raise ValueError("not a feed cursor") from None
    if not _is_id(watermark) or not isinstance(delivered, list) \
            or not all(_is_id(i) for i in delivered):
        raise ValueError("not a feed cursor")
    return FeedCursor(watermark, tuple(sorted(set(delivered))))


@dataclass
class ChangeBatch:
    """The boxes changed since a cursor: box id -> its latest change id, oldest first."""

    latest: dict[int, int]
    cursor: FeedCursor
    has_more: bool


def read_changes(session: Session, connection: Connection, cursor: FeedCursor, limit: int,
                 overlap: timedelta, now: datetime | None = None, *,
                 offered_only: bool = True) -> ChangeBatch:
    """Up to `limit` boxes changed since the cursor that concern this connection: with
    offered_only, the boxes offered to it (a partner platform); else every box of the tenant
    (the mall). The cursor rule is the module's docstring."""
    now = now or utcnow()
    concerns: ColumnElement[bool] = CatalogChange.connection_id.is_(None)
    if offered_only:
        offered_ids = select(Offering.box_id).where(Offering.connection_id == connection.id)
        concerns = concerns & CatalogChange.box_id.in_(offered_ids)
    query = (select(CatalogChange.id, CatalogChange.box_id)
             .where(CatalogChange.tenant_id == connection.tenant_id,
                    (CatalogChange.connection_id == connection.id) | concerns)
             .order_by(CatalogChange.id))
    delivered = set(cursor.delivered)
    latest: dict[int, int] = {}  # box id -> its latest change id on this page
    scanned: list[int] = []
    has_more = False
    after, batch = cursor.watermark, max(4 * limit, 200)
    while not has_more:
        rows = session.execute(query.where(CatalogChange.id > after).limit(batch)).all()
        for change_id, box_id in rows:
            if change_id in delivered:
                continue
            if box_id not in latest and len(latest) >= limit:
                has_more = True
                break
            latest[box_id] = change_id
            scanned.append(change_id)
        if len(rows) < batch:
            break
        after = rows[-1][0]
    # Every change at or below the candidate is older than the window: committed by now.
    candidate = session.scalar(select(func.max(CatalogChange.id)).where(
        CatalogChange.tenant_id == connection.tenant_id, CatalogChange.id > cursor.watermark,
        CatalogChange.created_at <= now - overlap)) or cursor.watermark
    if has_more:  # the changes after this page are still to read
        candidate = min(candidate, max(scanned))
    watermark = max(cursor.watermark, candidate)
    covered = set(scanned)
    if latest:
        # The page shows each of its boxes as it is now, which covers the box's later changes
        # already visible too: deliver them with it, so a box comes once, not once a change.
        for change_id, box_id in session.execute(query.where(
                CatalogChange.id > cursor.watermark, CatalogChange.box_id.in_(latest))):
            if change_id not in delivered:
                covered.add(change_id)
                latest[box_id] = max(latest[box_id], change_id)
    still = sorted(i for i in delivered | covered if i > watermark)
    ordered = dict(sorted(latest.items(), key=lambda pair: pair[1]))
    return ChangeBatch(ordered, FeedCursor(watermark, tuple(still)), has_more)


def read_feed(session: Session, connection: Connection, cursor: FeedCursor, limit: int,
              overlap: timedelta, now: datetime | None = None) -> FeedPage:
    changes = read_changes(session, connection, cursor, limit, overlap, now)
    return FeedPage(feed_entries(session, connection, changes.latest), changes.cursor,
                    changes.has_more)


def feed_entries(session: Session, connection: Connection,
             latest: dict[int, int]) -> list[dict[str, Any]]:
    if not latest:
        return []
    offered = set(session.scalars(select(Offering.box_id).where(
        Offering.connection_id == connection.id, Offering.box_id.in_(latest))))
    boxes = {box.id: box for box in session.scalars(select(Box).where(Box.id.in_(latest)))}
    entries = []
    for box_id, change_id in sorted(latest.items(), key=lambda pair: pair[1]):
        box = boxes.get(box_id)
        if box is not None and box_id in offered:
            entry = box_listing(session, box, connection.id)
            entry.update(offered=True, change_id=change_id)
        else:  # withdrawn from this platform (or deleted)
            entry = {"box_id": box_id, "code": box.code if box is not None else None,
                     "offered": False, "change_id": change_id}
        entries.append(entry)
    return entries
