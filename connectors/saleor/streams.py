"""Incremental streams over the mall: orders and products changed since a cursor (the
`updatedAt` of the newest record seen), re-reading a lookback window for late commits, up
to a fixed upper bound. A cursor never moves backwards."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.base import Page, SyncContext
from connectors.saleor import adapters
from connectors.saleor.client import Connection
from connectors.saleor.config import option
from connectors.saleor.listing import client_for
from hub.errors import RecordError
from mappings.saleor.catalog import import_record
from mappings.saleor.link_out import is_link_out
from mappings.saleor.orders import order_record

DEFAULT_LOOKBACK_SECONDS = 300
MAX_PAGES_PER_CALL = 20  # then hand back a cursor, so one call cannot run for ever
RECORD_ERRORS_KEY = "record_errors"


def format_cursor(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def parse_cursor(cursor: str | None) -> datetime | None:
    if cursor is None:
        return None
    moment = parse_time(cursor)
    if moment is None:
        raise RecordError(f"cursor {cursor[:40]!r} is not an ISO time with a zone")
    return moment


def note_record_error(ctx: SyncContext, external_id: Any, error: RecordError) -> None:
    """A record the batch skipped: the job counts these and shows them to the operator."""
    ctx.extra.setdefault(RECORD_ERRORS_KEY, []).append(
        {"external_id": str(external_id) if external_id is not None else None,
         "message": error.message})
    ctx.log.warning("skipped mall record %s: %s", external_id, error.message)


def pull_window(ctx: SyncContext, cursor: str | None, until: datetime,
                fetch: Callable[[str | None, str, str | None], Connection],
                to_record: Callable[[Mapping[str, Any]], dict[str, Any]]) -> Page:
    """Read [cursor - lookback, until] page by page, oldest change first."""
    since = parse_cursor(cursor)
    lookback = timedelta(seconds=int(option(ctx.config, "lookback_seconds")
                                     or DEFAULT_LOOKBACK_SECONDS))
    start = since - lookback if since else None
    if start is not None and start > until:
        return Page([], cursor, False)
    gte = format_cursor(start) if start else None
    lte = format_cursor(until)
    newest = since
    records: list[dict[str, Any]] = []
    after: str | None = None
    pages = 0
    while True:
        page = fetch(gte, lte, after)
        pages += 1
        for node in page.nodes:
            updated = parse_time(node.get("updatedAt"))
            if updated is None:
                note_record_error(ctx, node.get("id"),
                                  RecordError("the mall record has no valid updatedAt"))
                continue
            if updated > until:
                continue  # the mall's filter should have left it out; next window has it
            try:
                records.append(to_record(node))
            except RecordError as error:
                note_record_error(ctx, node.get("id"), error)
            newest = updated if newest is None else max(newest, updated)
        next_cursor = format_cursor(newest) if newest else cursor
        if not page.has_next:
            return Page(records, next_cursor, False)
        after = page.end_cursor
        # Stop early only when resuming from the newest change seen makes progress.
        if pages >= MAX_PAGES_PER_CALL and newest is not None \
                and (start is None or newest - lookback > start):
            return Page(records, next_cursor, True)


def pull_orders(ctx: SyncContext, cursor: str | None, until: datetime) -> Page:
    client = client_for(ctx)
    return pull_window(
        ctx, cursor, until,
        lambda gte, lte, after: adapters.orders_page(client, gte, lte, after=after),
        order_record)


def pull_catalog(ctx: SyncContext, cursor: str | None, until: datetime) -> Page:
    """Mall products of the subscription product type as catalog import records; a mall
    without that type has nothing to import yet. Link-out products share the type but are
    partners' products, not boxes, so they are left out."""
    client = client_for(ctx)
    channel = str(option(ctx.config, "channel_slug"))
    type_id = adapters.find_product_type(client, str(option(ctx.config, "product_type_name")))
    if type_id is None:
        return Page([], cursor, False)

    def boxes_page(gte: str | None, lte: str, after: str | None) -> Connection:
        page = adapters.products_page(client, channel, type_id, gte, lte, after=after)
        return Connection([node for node in page.nodes if not is_link_out(node)],
                          page.end_cursor, page.has_next)

    return pull_window(ctx, cursor, until, boxes_page,
                       lambda node: import_record(node, channel_slug=channel))
