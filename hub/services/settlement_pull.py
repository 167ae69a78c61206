"""Reading a channel's settlement report for a period (`settlement.pull`) and handing it to
reconciliation as rows {order_id, amount (payout), fee}."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from connectors import get_connector
from connectors.base import SettlementPull
from hub.errors import ConfigurationError
from hub.models import Connection, Tenant
from hub.services.periods import period_window
from hub.webhooks.context import close_context, connection_context

__all__ = ["MAX_CALLS", "pull_settlement_report", "report_rows"]

MAX_CALLS = 100  # pages handed back by the connector before giving up on a runaway report


def report_rows(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The connector's settlement lines as reconciliation rows."""
    return [{"order_id": str(record["order_id"]), "amount": int(record["payout"]),
             "fee": None if record.get("fee") is None else int(record["fee"])}
            for record in records]


def pull_settlement_report(session: Session, connection_id: int, period: str) -> int:
    """Read the connection's settlement report of `period` ("2026-11", "2026-W48": the
    tenant's calendar) and import it; returns the import's report id."""
    connection = session.get(Connection, connection_id)
    if connection is None:
        raise LookupError(f"no connection {connection_id}")
    connector = get_connector(connection.connector)()
    if not isinstance(connector, SettlementPull):
        raise ConfigurationError(
            f"connector {connection.connector!r} has no settlement report to pull",
            fix="Upload the channel's settlement report as a file instead.")
    start, end = period_window(period, session.get_one(Tenant, connection.tenant_id).time_zone)
    ctx = connection_context(connection)
    records: list[dict[str, Any]] = []
    try:
        cursor: str | None = start.isoformat()
        for _ in range(MAX_CALLS):
            page = connector.pull_settlements(ctx, cursor, end)
            records.extend(page.records)
            cursor = page.cursor
            if not page.has_more:
                break
        else:
            raise ConfigurationError("the channel's settlement report never ended",
                                     fix="Check the platform's settlement endpoint.")
    finally:
        close_context(ctx)
    from hub.services.reconciliation import import_report

    report = import_report(session, connection, report_rows(records), source="pull",
                           period=period)
    return int(report.id)
