"""The Partner API: what a partner platform calls with its own token (role "partner").

A partner token speaks for one partner connection: it reads the feed of the boxes offered
to that platform and reports its listings (links) for them. It can call nothing else."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app
from flask.views import MethodView
from sqlalchemy import select

from hub.api.auth import principal
from hub.api.common import Blueprint, audited, db, write
from hub.api.problems import ApiProblem, field_error, not_found
from hub.models import Box, Connection, Offering
from hub.schemas.connection import BindingSchema
from hub.schemas.partner import FeedArgsSchema, FeedPageSchema, ListingReportSchema
from hub.services.bindings import BindingConflict, bind
from hub.services.partner_feed import FeedCursor, decode_cursor, encode_cursor, read_feed

blp = Blueprint(
    "Partner API", __name__, url_prefix="/api/v1/partner",
    description="Called by partner platforms (민간플랫폼) with a partner token, bound to their "
                "connection: the feed of the boxes offered to them, and their listings.")


def _connection() -> Connection:
    p = principal()
    connection = db().get(Connection, p.connection_id) if p.connection_id else None
    if connection is None or connection.tenant_id != p.tenant_id:
        raise ApiProblem(403, "Forbidden", "This token is bound to no partner connection.")
    if connection.status == "disabled":  # paused only stops the hub's notifications
        raise ApiProblem(403, "Forbidden", "The operator has disabled this connection.")
    return connection


@blp.route("/feed")
class Feed(MethodView):
    @blp.arguments(FeedArgsSchema, location="query")
    @blp.response(200, FeedPageSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """The offered boxes that changed since the cursor, oldest change first.

        Without a cursor: every box offered to the platform. Each entry is the box's full
        listing (plans, prices, availability, its links on the mall and other platforms)
        with `offered: true`, or `{box_id, code, offered: false}` once when the box was
        withdrawn. Entries are in change order, each box at most once per page in its latest
        state. Keep `next_cursor` and pass it next time: it never skips a change, even one
        committed while the previous page was being read (it re-reads a short overlap window
        and skips what was already delivered). When `has_more` is true, read again at once."""
        connection = _connection()
        settings = current_app.extensions["gudok"].settings
        limit = min(args.get("limit") or settings.page_size_default, settings.page_size_max)
        try:
            cursor = decode_cursor(args["cursor"]) if args.get("cursor") else FeedCursor()
        except ValueError:
            raise field_error("cursor", "Not a cursor this feed returned.") from None
        result = read_feed(db(), connection, cursor, limit,
                           timedelta(seconds=settings.feed_overlap_seconds))
        return {"data": result.data, "next_cursor": encode_cursor(result.cursor),
                "has_more": result.has_more}


@blp.route("/listings/<box_code>")
class Listing(MethodView):
    @blp.arguments(ListingReportSchema)
    @blp.response(200, BindingSchema)
    def put(self, data: dict[str, Any], box_code: str) -> Any:
        """Report the platform's listing of a box: its product id and public URL.

        The hub keeps it as the box's link on this platform; the mall and the other
        platforms' feeds then carry it. 404 if the box is not offered to this platform,
        409 if the product id is already linked to another box."""
        connection = _connection()
        session = db()
        box = session.scalar(select(Box).where(Box.tenant_id == connection.tenant_id,
                                               Box.code == box_code))
        if box is None or session.scalar(select(Offering.id).where(
                Offering.connection_id == connection.id, Offering.box_id == box.id)) is None:
            raise not_found("box offered to this platform")
        with write() as session:
            try:
                row = bind(session, connection.id, "box", box.id, data["external_id"],
                           data["url"])
            except BindingConflict as error:
                raise ApiProblem(409, "Conflict", str(error)) from None
            audited(session, "link", "binding", row, None)
        return row, 200
