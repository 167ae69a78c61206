"""Pushing what changed to a mall connection: the boxes whose listing changed since the
stream's cursor, each computed now (availability as DESIGN invariant 4 says), and sent only
when it differs from what was last pushed.

The change log (hub/services/catalog_changes.py) has one row per change; a box changed ten
times since the last run is pushed once, in its current state (coalesced per connection and
box). Two digests per box are kept in push_state: the listing without availability, and the
availability alone, so a stock change costs one stock call and no product calls. A box whose
push fails as a record error is skipped and its digests dropped, so its next change (or a full
push) sends it whole; anything else stops the run before the cursor moves, and the queue
retries it: boxes already pushed are then skipped by their digests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors import get_connector
from connectors.base import CatalogPush, InventoryPush
from hub.db import one_run_at_a_time, session_scope
from hub.errors import ConfigurationError, RecordError
from hub.models import Box, Connection, PushState, StreamCursor
from hub.services.bindings import bind, to_external
from hub.services.listings import box_listing
from hub.services.partner_feed import FeedCursor, decode_cursor, encode_cursor, read_changes
from hub.services.sync_health import stream_row
from hub.webhooks.context import close_context, connection_context
from jobs.partner import digest, record_push

__all__ = ["LISTING", "STOCK", "STREAM", "PushReport", "push_changes"]

STREAM = "push.catalog"
LISTING, STOCK = "box", "box_stock"  # push_state entities: listing, availability
LISTED_STATUSES = ("active", "paused")


@dataclass
class PushReport:
    connection_id: int
    listed: list[int] = field(default_factory=list)       # product and availability
    stock_only: list[int] = field(default_factory=list)   # availability alone
    unchanged: list[int] = field(default_factory=list)
    not_listed: list[int] = field(default_factory=list)   # draft, archived or deleted
    skipped: list[tuple[int, str]] = field(default_factory=list)

    @property
    def calls(self) -> int:
        return len(self.listed) + len(self.stock_only)


def content_digest(listing: dict[str, Any]) -> str:
    """The listing as the platform shows it, without availability or the platform's ids."""
    content = {k: v for k, v in listing.items() if k not in ("available", "external_id")}
    content["plans"] = [{k: v for k, v in plan.items() if k != "external_id"}
                        for plan in listing["plans"]]
    return digest(content)


def push_changes(connection_id: int, *, limit: int = 200, now: datetime | None = None,
                 full: bool = False) -> PushReport:
    """Push every box changed since the last run to a mall connection. With full, every box
    of the tenant is compared instead (a resync): only those that differ cost a call."""
    state = current_app.extensions["gudok"]
    overlap = timedelta(seconds=state.settings.feed_overlap_seconds)
    report = PushReport(connection_id)
    with session_scope(state.session_factory) as session:
        connection = session.get(Connection, connection_id)
        if connection is None:
            raise LookupError(f"no connection {connection_id}")
        if connection.status != "active":
            return report
        connector = get_connector(connection.connector)()
        if not isinstance(connector, CatalogPush) or not isinstance(connector, InventoryPush):
            raise ConfigurationError(f"connector {connection.connector!r} lists no boxes",
                                     fix="Push changes only to connections that list boxes.")
        ctx = connection_context(connection)
        try:
            with one_run_at_a_time(state.engine, f"push:{connection_id}"):
                return _run(session, connector, ctx, connection, limit, overlap, now, full,
                            report)
        finally:
            close_context(ctx)


def _run(session: Session, connector: Any, ctx: Any, connection: Connection, limit: int,
         overlap: timedelta, now: datetime | None, full: bool, report: PushReport) -> PushReport:
    if full:
        _resync(session, connector, ctx, connection, limit, report)
        return report
    while True:
        row = _cursor(session, connection)
        cursor = decode_cursor(row.cursor) if row.cursor else FeedCursor()
        batch = read_changes(session, connection, cursor, limit, overlap, now,
                             offered_only=False)
        boxes = {b.id: b for b in session.scalars(
            select(Box).where(Box.id.in_(batch.latest)))}
        for box_id in batch.latest:
            _push_box(session, connector, ctx, connection, boxes.get(box_id), box_id,
                      report)
        row = _cursor(session, connection)
        row.cursor = encode_cursor(batch.cursor)
        session.commit()
        if not batch.has_more:
            return report


def _resync(session: Session, connector: Any, ctx: Any, connection: Connection, limit: int,
            report: PushReport) -> None:
    after = 0
    while True:
        boxes = list(session.scalars(select(Box).where(
            Box.tenant_id == connection.tenant_id, Box.id > after,
            Box.status.in_(LISTED_STATUSES)).order_by(Box.id).limit(limit)))
        for box in boxes:
            _push_box(session, connector, ctx, connection, box, box.id, report)
        session.commit()
        if len(boxes) < limit:
            return
        after = boxes[-1].id


def _cursor(session: Session, connection: Connection) -> StreamCursor:
    return stream_row(session, connection.id, STREAM)


def _push_box(session: Session, connector: Any, ctx: Any, connection: Connection,
              box: Box | None, box_id: int, report: PushReport) -> None:
    if box is None or box.status not in LISTED_STATUSES:
        report.not_listed.append(box_id)  # unlisting a product is the mall's own call
        return
    listing = box_listing(session, box, connection.id)
    content, stock = content_digest(listing), digest({"available": listing["available"]})
    pushed = {row.entity_type: row for row in session.scalars(select(PushState).where(
        PushState.connection_id == connection.id, PushState.internal_id == box_id,
        PushState.entity_type.in_((LISTING, STOCK))))}
    bound = to_external(session, connection.id, "box", box_id) is not None
    same_content = bound and LISTING in pushed and pushed[LISTING].digest == content
    same_stock = STOCK in pushed and pushed[STOCK].digest == stock
    if same_content and same_stock:
        report.unchanged.append(box_id)
        return
    try:
        if not same_content:
            result = connector.push_box(ctx, listing)
            bind(session, connection.id, "box", box_id, result["external_id"], result.get("url"))
            for plan_id, variant_id in result["variants"].items():
                bind(session, connection.id, "plan", int(plan_id), str(variant_id))
            listing = box_listing(session, box, connection.id)  # with the ids just bound
        connector.push_availability(ctx, listing)
    except RecordError as error:
        session.rollback()
        for row in session.scalars(select(PushState).where(
                PushState.connection_id == connection.id, PushState.internal_id == box_id,
                PushState.entity_type.in_((LISTING, STOCK)))):
            session.delete(row)
        session.commit()
        ctx.log.warning("box %s skipped: %s", box_id, error.message)
        report.skipped.append((box_id, error.message))
        return
    record_push(session, connection, LISTING, box_id, content, pushed.get(LISTING))
    record_push(session, connection, STOCK, box_id, stock, pushed.get(STOCK))
    session.commit()
    (report.stock_only if same_content else report.listed).append(box_id)
