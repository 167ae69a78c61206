"""Pushing the catalog to a connection: each box as a listing, its ids bound, then its
availability. Runs inside the app context (a job, the demo, a test). One box failing as a
record error is skipped; anything else stops the run and is raised for the queue to retry."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy import select

from connectors import get_connector
from connectors.base import CatalogPush, InventoryPush
from hub.db import session_scope
from hub.errors import ConfigurationError, RecordError
from hub.models import Box, Connection
from hub.services.bindings import bind
from hub.services.listings import box_listing
from hub.webhooks.context import close_context, connection_context


@dataclass
class CatalogPushReport:
    pushed: list[int] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        if not self.skipped:
            return "success"
        return "partial" if self.pushed else "failed"


def push_catalog(connection_id: int, box_ids: list[int] | None = None,
                 progress: Any = None) -> CatalogPushReport:
    """Push the tenant's listed boxes (active and paused; or the given ones) to a connection."""
    state = current_app.extensions["gudok"]
    report = CatalogPushReport()
    with session_scope(state.session_factory) as session:
        connection = session.get(Connection, connection_id)
        if connection is None:
            raise LookupError(f"no connection {connection_id}")
        connector = get_connector(connection.connector)()
        if not isinstance(connector, CatalogPush) or not isinstance(connector, InventoryPush):
            raise ConfigurationError(f"connector {connection.connector!r} cannot list boxes",
                                     fix="Push the catalog only to mall or platform "
                                         "connections that list boxes.")
        query = select(Box).where(Box.tenant_id == connection.tenant_id).order_by(Box.id)
        if box_ids is not None:
            query = query.where(Box.id.in_(box_ids))
        else:
            query = query.where(Box.status.in_(("active", "paused")))
        boxes = list(session.scalars(query))
        ctx = connection_context(connection)
        try:
            for box in boxes:
                try:
                    result = connector.push_box(ctx, box_listing(session, box, connection.id))
                    bind(session, connection.id, "box", box.id, result["external_id"],
                         result.get("url"))
                    for plan_id, variant_id in result["variants"].items():
                        bind(session, connection.id, "plan", int(plan_id), str(variant_id))
                    connector.push_availability(ctx, box_listing(session, box, connection.id))
                    session.commit()
                    report.pushed.append(box.id)
                except RecordError as error:
                    session.rollback()
                    ctx.log.warning("box %s skipped: %s", box.id, error.message)
                    report.skipped.append((box.id, error.message))
                if progress is not None:
                    progress(box)
        finally:
            close_context(ctx)
    return report
