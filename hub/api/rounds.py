"""Delivery rounds (회차), pick lists, shipping and delivery marks."""

from __future__ import annotations

from typing import Any

from flask import Response, request
from flask.views import MethodView
from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.api.auth import principal, scope, visible, write_tenant_id
from hub.api.common import Blueprint, audited, db, invalid, write
from hub.api.crud import with_filters
from hub.api.pagination import ListArgs, page, page_schema, paginate
from hub.api.problems import ApiProblem
from hub.models import Round
from hub.schemas.logistics import (
    DeliverSchema,
    MarkRowSchema,
    MarksReportSchema,
    PickListArgs,
    PickListsSchema,
    RoundListArgs,
    ShipSchema,
    pick_list_csv,
    pick_lists_body,
    read_marks_csv,
)
from hub.schemas.round import RoundSchema
from hub.services import logistics
from hub.services.audit import snapshot
from hub.services.validation import Conflict, RecordInvalid, field_paths

blp = Blueprint("rounds", __name__, url_prefix="/api/v1/rounds",
                description="Delivery rounds (회차), pick lists, shipping and delivery marks.")


class RoundArgs(ListArgs, RoundListArgs):
    pass


RoundPage = page_schema(RoundSchema, "RoundPage")
_ROW_SCHEMA = MarkRowSchema()


@blp.route("")
class Rounds(MethodView):
    @blp.arguments(RoundArgs, location="query")
    @blp.response(200, RoundPage)
    def get(self, args: dict[str, Any]) -> Any:
        """Rounds by id; `?date=` those delivered that day, `?status=`, `?contract=`."""
        query = with_filters(select(Round), args, {
            "date": Round.scheduled_on, "status": Round.status, "contract": Round.contract_id})
        rows, next_cursor = paginate(db(), scope(query, Round.tenant_id, args), Round.id, args)
        return page(rows, next_cursor)


@blp.route("/<int:round_id>")
class RoundMember(MethodView):
    @blp.response(200, RoundSchema)
    def get(self, round_id: int) -> Any:
        return visible(db().get(Round, round_id))


@blp.route("/pick-lists")
class PickLists(MethodView):
    @blp.arguments(PickListArgs, location="query")
    @blp.response(200, PickListsSchema)
    @blp.alt_response(200, description="format=csv: text/csv, UTF-8 with a BOM",
                      content_type="text/csv", success=True)
    def get(self, args: dict[str, Any]) -> Any:
        """What each logistics centre packs on a delivery date (`by=centre`: boxes and item
        totals) or what each merchant brings to each centre (`by=merchant`), from the
        rounds scheduled or shipped that day, each with the box version it was sold with.
        Boxes with no packing centre are listed under "unassigned". An admin names the
        tenant (?tenant=CODE) or gets every tenant's."""
        tenant_id = None if principal().is_admin and not args.get("tenant") \
            else write_tenant_id(args.get("tenant"))
        on = args.get("date") or logistics.today(db(), tenant_id)
        lists = logistics.pick_lists(db(), tenant_id, on)
        if args["format"] == "csv":
            name = f"pick-list-{args['by']}-{on.isoformat()}.csv"
            return Response(pick_list_csv(lists, args["by"]).encode("utf-8"),
                            mimetype="text/csv", content_type="text/csv; charset=utf-8",
                            headers={"Content-Disposition": f'attachment; filename="{name}"'})
        return pick_lists_body(lists, args["by"])


@blp.route("/<int:round_id>/ship")
class Ship(MethodView):
    @blp.arguments(ShipSchema)
    @blp.response(200, RoundSchema)
    def post(self, data: dict[str, Any], round_id: int) -> Any:
        """Mark the round shipped with its parcel; the same mark again changes nothing, and
        another carrier or tracking number on a shipped round corrects it. 409 when the
        round is delivered, skipped or cancelled."""
        return _mark(round_id, "shipped", data.get("shipped_at"), "shipped_at",
                     carrier=data["carrier"], tracking_number=data["tracking_number"])


@blp.route("/<int:round_id>/deliver")
class Deliver(MethodView):
    @blp.arguments(DeliverSchema)
    @blp.response(200, RoundSchema)
    def post(self, data: dict[str, Any], round_id: int) -> Any:
        """Mark the round delivered (shipped is implied): its contract counts it once and
        its vouchers are issued. Delivered again changes nothing; 409 when it is skipped or
        cancelled."""
        return _mark(round_id, "delivered", data.get("delivered_at"), "delivered_at")


def _mark(round_id: int, status: str, at: Any, at_field: str, **parcel: Any) -> Round:
    row = visible(db().get(Round, round_id))
    with write() as session:
        before = snapshot(logistics.lock_round(session, row.id))
        if logistics.mark_round(session, row, status, at=at, at_field=at_field,
                                **parcel) == "applied":
            audited(session, f"round.{status}", "round", row, before)
    return row


@blp.route("/marks")
class Marks(MethodView):
    @blp.doc(requestBody={"required": True, "content": {"text/csv": {"schema": {
        "type": "string", "description": "columns round_id (회차ID), status (상태: shipped | "
        "delivered), carrier (택배사), tracking_number (송장번호), at (일시, ISO 8601)"}}}})
    @blp.response(200, MarksReportSchema)
    def post(self) -> Any:
        """Apply a CSV of shipped and delivered marks, row by row, each as the ship and
        deliver routes would. A file with invalid rows still applies its valid rows: a
        centre's daily file is mostly right, and holding back every parcel for one typo
        helps no one. Each row reports "applied", "unchanged" or "error" with paths like
        rows[3].status (rows counted from 1, the header not counted); fix and upload the
        failed rows again (marks are idempotent). Only an unreadable file is a 400."""
        if request.mimetype not in ("text/csv", "text/plain", "application/csv"):
            raise ApiProblem(415, "Unsupported Media Type",
                             "Send the marks as a CSV body with Content-Type: text/csv.")
        try:
            rows, ignored = read_marks_csv(request.get_data())
        except ValidationError as error:
            raise invalid(field_paths(error.messages)) from None
        results = []
        with write() as session:
            for number, cells in rows:
                results.append(_apply_row(session, number, cells))
        counts = {outcome: sum(1 for r in results if r["outcome"] == outcome)
                  for outcome in ("applied", "unchanged", "error")}
        return {"applied": counts["applied"], "unchanged": counts["unchanged"],
                "failed": counts["error"], "ignored_columns": ignored, "rows": results}


def _apply_row(session: Session, number: int, cells: dict[str, str]) -> dict[str, Any]:
    prefix = f"rows[{number}]"
    result: dict[str, Any] = {"row": number, "round_id": None, "status": None}
    try:
        mark = _ROW_SCHEMA.load(cells)
    except ValidationError as error:
        return {**result, "outcome": "error", "errors": field_paths(error.messages, prefix)}
    result.update(round_id=mark["round_id"], status=mark["status"])
    row = session.get(Round, mark["round_id"])
    p = principal()
    if row is None or (not p.is_admin and row.tenant_id != p.tenant_id):
        return _row_error(result, f"{prefix}.round_id", "No such round.")
    try:
        with session.begin_nested():
            before = snapshot(logistics.lock_round(session, row.id))
            outcome = logistics.mark_round(
                session, row, mark["status"], carrier=mark.get("carrier"),
                tracking_number=mark.get("tracking_number"), at=mark.get("at"))
            if outcome == "applied":
                audited(session, f"round.{mark['status']}", "round", row, before)
    except RecordInvalid as error:
        return {**result, "outcome": "error",
                "errors": [{"path": f"{prefix}.{e['path']}", "message": e["message"]}
                           for e in error.errors]}
    except Conflict as error:
        return _row_error(result, f"{prefix}.status", str(error))
    except IntegrityError:
        return _row_error(result, prefix, "The mark conflicts with stored data.")
    return {**result, "outcome": outcome, "errors": []}


def _row_error(result: dict[str, Any], path: str, message: str) -> dict[str, Any]:
    return {**result, "outcome": "error", "errors": [{"path": path, "message": message}]}
