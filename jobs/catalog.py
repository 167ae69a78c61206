"""Pushing the catalog to a connection: each box as a listing, its ids bound, then its
availability. Runs inside the app context (a job, the demo, a test). One box failing as a
record error is skipped; anything else stops the run and is raised for the queue to retry."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy import select

from connectors import get_connector
from connectors.base import CatalogPull, CatalogPush, InventoryPush
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


@dataclass
class CatalogImportReport:
    results: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    cursor: str | None = None


def import_catalog(connection_id: int, cursor: str | None = None) -> CatalogImportReport:
    """Import the mall's own subscription products (the mall as the catalog's origin).

    Records go through the same rules as a REST catalog push; products the hub pushed
    itself are left alone, so nothing echoes back. A new box arrives as a draft: the mall
    does not know its components, an operator composes it before it sells."""
    from hub.services.catalog import components_of
    from hub.services.catalog_push import push_catalog as apply_push

    state = current_app.extensions["gudok"]
    report = CatalogImportReport(cursor=cursor)
    with session_scope(state.session_factory) as session:
        connection = session.get(Connection, connection_id)
        if connection is None:
            raise LookupError(f"no connection {connection_id}")
        connector = get_connector(connection.connector)()
        if not isinstance(connector, CatalogPull):
            raise ConfigurationError(f"connector {connection.connector!r} has no catalog",
                                     fix="Import only from connections that can list one.")
        ctx = connection_context(connection)
        try:
            until = ctx.clock()
            while True:
                page = connector.pull_catalog(ctx, report.cursor, until)
                for record in page.records:
                    if record.get("box_id") is not None:
                        continue  # the hub's own listing, pushed earlier
                    box = dict(record["box"])
                    existing = session.scalar(select(Box).where(
                        Box.tenant_id == connection.tenant_id, Box.code == box["code"]))
                    if box.get("status") == "active" and (
                            existing is None or not components_of(existing)):
                        box["status"] = "draft"
                    outcome = apply_push(session, connection.tenant_id,
                                         {"boxes": [box], "plans": record["plans"]},
                                         f"import:{connection.id}").as_dict()
                    report.results.extend(outcome["results"])
                    _bind_import(session, connection, record, outcome["results"])
                for error in ctx.extra.pop("record_errors", []) or []:
                    report.skipped.append((str(error.get("external_id", "")),
                                           str(error.get("message", error))))
                report.cursor = page.cursor
                if not page.has_more:
                    break
        finally:
            close_context(ctx)
    return report


def _bind_import(session: Any, connection: Connection, record: dict[str, Any],
                 results: list[dict[str, Any]]) -> None:
    ids = {(r["type"], r["key"]): r["id"] for r in results if r["status"] != "rejected"}
    box_id = ids.get(("box", record["box"]["code"]))
    if box_id is None:
        return
    bind(session, connection.id, "box", box_id, record["external_id"])
    for plan_code, variant_id in record["variants"].items():
        plan_id = ids.get(("plan", plan_code))
        if plan_id is not None:
            bind(session, connection.id, "plan", plan_id, variant_id)
    session.commit()
