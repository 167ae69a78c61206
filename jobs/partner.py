"""Partner platforms' two sync jobs, run in the app context (the sync engine schedules them):

- notify_catalog_changes: a platform's catalog notifications. It reads the platform's own feed
  from a cursor kept in stream_cursor, and queues one `box.updated` or `box.withdrawn`
  notification per box whose listing, as that platform sees it, differs from what it was last
  told (push_state). The outbox rows, the digests and the cursor commit together, so a run
  killed half-way re-reads its page instead of losing it. Delivery is jobs/notifications.py.
- push_link_outs: the mall lists every approved platform product as a product linking out to
  the platform, and drops rejected and withdrawn ones."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors import get_connector
from hub.db import session_scope, utcnow
from hub.errors import ConfigurationError, RecordError
from hub.models import Connection, Offering, PartnerProduct, PushState, StreamCursor
from hub.services import notifications
from hub.services.bindings import bind, to_external, unbind
from hub.services.partner_feed import (
    FeedCursor,
    decode_cursor,
    encode_cursor,
    feed_entries,
    read_feed,
)
from hub.services.partner_products import ENTITY
from hub.services.sync_health import stream_row
from hub.webhooks.context import close_context, connection_context

__all__ = ["NOTICE_ENTITY", "STREAM", "LinkOutReport", "NotifyReport", "notify_catalog_changes",
           "push_link_outs"]

STREAM = "notifications.catalog"
NOTICE_ENTITY = "box_notice"  # push_state of what a platform was last told about a box
# Left out of a notice's digest: the platform's own product id echoes its own report.
_OWN_FIELDS = ("change_id", "external_id")


@dataclass
class NotifyReport:
    connection_id: int
    queued: int = 0
    unchanged: int = 0
    skipped: str | None = None  # why nothing was read (no outbound URL, disabled)


def digest(data: dict[str, Any]) -> str:
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def notify_catalog_changes(connection_id: int, *, limit: int = 100,
                           now: datetime | None = None, full: bool = False) -> NotifyReport:
    """Queue a platform's notifications for every offered box that changed since the last run.
    With full, every offered box is compared instead (a resync; the cursor stays)."""
    state = current_app.extensions["gudok"]
    overlap = timedelta(seconds=state.settings.feed_overlap_seconds)
    report = NotifyReport(connection_id)
    while True:
        with session_scope(state.session_factory) as session:
            connection = session.get(Connection, connection_id)
            if connection is None:
                raise LookupError(f"no connection {connection_id}")
            if connection.connector != "partner":
                raise ConfigurationError(f"connection {connection_id} is not a partner platform",
                                         fix="Catalog notifications go to partner platforms.")
            if connection.status == "disabled" or not connection.config.get("outbound_url"):
                report.skipped = ("disabled" if connection.status == "disabled"
                                  else "no outbound_url")
                return report
            if full:
                _resync(session, connection, limit, now, report)
                return report
            row = _cursor(session, connection)
            cursor = decode_cursor(row.cursor) if row.cursor else FeedCursor()
            page = read_feed(session, connection, cursor, limit, overlap, now)
            for entry in page.data:
                _notice(session, connection, entry, now, report)
            row.cursor = encode_cursor(page.cursor)
        if not page.has_more:
            return report


def _resync(session: Session, connection: Connection, limit: int, now: datetime | None,
            report: NotifyReport) -> None:
    """Compare every offered box with what the platform was last told, a page at a time."""
    after = 0
    while True:
        box_ids = list(session.scalars(select(Offering.box_id).where(
            Offering.connection_id == connection.id, Offering.box_id > after)
            .order_by(Offering.box_id).limit(limit)))
        if box_ids:
            for entry in feed_entries(session, connection, {b: 0 for b in box_ids}):
                _notice(session, connection, entry, now, report)
            session.commit()
        if len(box_ids) < limit:
            return
        after = box_ids[-1]


def _cursor(session: Session, connection: Connection) -> StreamCursor:
    """The stream's cursor row, locked for this run (created on the first, even by two first
    runs at once): a second run waits here and then reads on from where the first left."""
    row = stream_row(session, connection.id, STREAM)
    session.flush()
    locked = session.scalar(select(StreamCursor).where(StreamCursor.id == row.id)
                            .with_for_update().execution_options(populate_existing=True))
    assert locked is not None
    return locked


def _notice(session: Session, connection: Connection, entry: dict[str, Any],
            now: datetime | None, report: NotifyReport) -> None:
    data = {key: value for key, value in entry.items() if key != "change_id"}
    new = digest({key: value for key, value in data.items() if key not in _OWN_FIELDS})
    pushed = _push_state(session, connection.id, NOTICE_ENTITY, int(entry["box_id"]))
    if pushed is not None and pushed.digest == new:
        report.unchanged += 1
        return
    kind = "box.updated" if entry["offered"] else "box.withdrawn"
    notifications.enqueue(session, connection, kind, data, now=now)
    record_push(session, connection, NOTICE_ENTITY, int(entry["box_id"]), new, pushed)
    report.queued += 1


def _push_state(session: Session, connection_id: int, entity: str,
                internal_id: int) -> PushState | None:
    return session.scalar(select(PushState).where(
        PushState.connection_id == connection_id, PushState.entity_type == entity,
        PushState.internal_id == internal_id))


def record_push(session: Session, connection: Connection, entity: str, internal_id: int,
                 new: str, row: PushState | None) -> None:
    if row is None:
        session.add(PushState(tenant_id=connection.tenant_id, connection_id=connection.id,
                              entity_type=entity, internal_id=internal_id, digest=new,
                              pushed_at=utcnow()))
    else:
        row.digest, row.pushed_at = new, utcnow()
    session.flush()


@dataclass
class LinkOutReport:
    listed: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)


def push_link_outs(connection_id: int) -> LinkOutReport:
    """Bring the mall's link-out products in line with the approved platform products."""
    state = current_app.extensions["gudok"]
    report = LinkOutReport()
    with session_scope(state.session_factory) as session:
        connection = session.get(Connection, connection_id)
        if connection is None:
            raise LookupError(f"no connection {connection_id}")
        connector = get_connector(connection.connector)()
        if not hasattr(connector, "push_link_out"):
            raise ConfigurationError(f"connector {connection.connector!r} lists no link-outs",
                                     fix="Push platform products to the mall's connection.")
        products = list(session.scalars(select(PartnerProduct).where(
            PartnerProduct.tenant_id == connection.tenant_id).order_by(PartnerProduct.id)))
        platforms = {c.id: c for c in session.scalars(select(Connection).where(
            Connection.id.in_({p.connection_id for p in products})))}
        ctx = connection_context(connection)
        try:
            for product in products:
                try:
                    _sync_link_out(session, connector, ctx, connection, product,
                                   platforms[product.connection_id], report)
                    session.commit()
                except RecordError as error:
                    session.rollback()
                    ctx.log.warning("platform product %s skipped: %s", product.id,
                                    error.message)
                    report.skipped.append((product.id, error.message))
        finally:
            close_context(ctx)
    return report


def _sync_link_out(session: Session, connector: Any, ctx: Any, mall: Connection,
                   product: PartnerProduct, platform: Connection,
                   report: LinkOutReport) -> None:
    external_id = to_external(session, mall.id, ENTITY, product.id)
    pushed = _push_state(session, mall.id, ENTITY, product.id)
    if product.listed is None or platform.status == "disabled":
        if external_id is not None:
            connector.remove_link_out(ctx, external_id)
            unbind(session, mall.id, ENTITY, product.id)
            report.removed.append(product.id)
        if pushed is not None:
            session.delete(pushed)
        return
    listing = {**product.listed, "partner_product_id": product.id,
               "tenant_id": product.tenant_id, "connection_id": platform.id,
               "platform": str(platform.config.get("platform_name") or platform.name),
               "platform_product_id": product.external_id, "external_id": external_id}
    new = digest(listing)
    if external_id is not None and pushed is not None and pushed.digest == new:
        report.unchanged.append(product.id)
        return
    result = connector.push_link_out(ctx, listing)
    bind(session, mall.id, ENTITY, product.id, str(result["external_id"]), result.get("url"))
    # The digest of what the mall now has, its own product id included.
    record_push(session, mall, ENTITY, product.id,
                 digest({**listing, "external_id": str(result["external_id"])}), pushed)
    report.listed.append(product.id)
