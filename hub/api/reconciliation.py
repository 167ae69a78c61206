"""Channel settlement reports reconciled per order: upload a channel's CSV, read the outcome
of each order, mark outcomes reviewed. Operators and admins write; viewers read."""

from __future__ import annotations

from typing import Any

from flask import request
from flask.views import MethodView
from sqlalchemy import select

from hub.api.auth import require_role, scope, visible
from hub.api.common import Blueprint, audited, db, write
from hub.api.crud import with_filters
from hub.api.pagination import ListArgs, page, page_schema, paginate
from hub.api.problems import ApiProblem, not_found
from hub.models import ChannelReport, Connection, ReconciliationRow
from hub.schemas.reconciliation import (
    ChannelReportSchema,
    OutcomeReviewSchema,
    ReconciliationRowSchema,
    ReportListArgs,
    RowListArgs,
    UploadArgs,
)
from hub.services.audit import snapshot
from hub.services.reconciliation import import_or_find_report, read_csv_report, review_row
from hub.services.validation import RecordInvalid

blp = Blueprint("reconciliation", __name__, url_prefix="/api/v1/channel-reports",
                description="Channel settlement reports reconciled per order.")

CSV_TYPES = frozenset({"text/csv", "text/plain", "application/csv", "application/octet-stream",
                       "application/vnd.ms-excel"})


@blp.before_request
def _roles() -> None:
    require_role("operator", "viewer")


class ReportArgs(ListArgs, ReportListArgs):
    pass


class RowArgs(ListArgs, RowListArgs):
    pass


def _unprocessable(error: RecordInvalid) -> ApiProblem:
    return ApiProblem(400, "Invalid request", "The report cannot be imported as it is; "
                      "nothing of it was imported.", errors=error.errors)


@blp.route("/upload")
class Upload(MethodView):
    @blp.arguments(UploadArgs, location="query")
    @blp.response(201, ChannelReportSchema)
    @blp.alt_response(200, schema=ChannelReportSchema,
                      description="This report was imported before: its first import.")
    @blp.doc(requestBody={"required": True, "content": {"text/csv": {
        "schema": {"type": "string", "format": "binary"}}}})
    def post(self, args: dict[str, Any]) -> Any:
        """Import a channel's payout report as CSV (UTF-8, with or without BOM), its columns
        named by header. Any bad row rejects the whole file (400 with rows[N] paths)."""
        connection = visible(db().get(Connection, args["connection"]))
        if request.mimetype not in CSV_TYPES:
            raise ApiProblem(415, "Unsupported Media Type", "Send the report as text/csv.")
        body = request.get_data(cache=False)
        with write() as session:
            try:
                rows = read_csv_report(body, args["order_column"], args["amount_column"],
                                       args.get("fee_column"))
                report, created = import_or_find_report(
                    session, connection, rows, source="csv", period=args.get("period"))
            except RecordInvalid as error:
                raise _unprocessable(error) from None
            if created:
                audited(session, "create", "channel_report", report, None)
        return report, 201 if created else 200, {
            "Location": f"/api/v1/channel-reports/{report.id}"}


@blp.route("")
class Reports(MethodView):
    @blp.arguments(ReportArgs, location="query")
    @blp.response(200, page_schema(ChannelReportSchema, "ChannelReportPage"))
    def get(self, args: dict[str, Any]) -> Any:
        """Imported reports, newest last; filter by connection or period."""
        query = with_filters(select(ChannelReport), args, {
            "connection": ChannelReport.connection_id, "period": ChannelReport.period})
        rows, next_cursor = paginate(db(), scope(query, ChannelReport.tenant_id, args),
                                     ChannelReport.id, args)
        return page(rows, next_cursor)


@blp.route("/<int:report_id>")
class Report(MethodView):
    @blp.response(200, ChannelReportSchema)
    def get(self, report_id: int) -> Any:
        """One report, with its outcome counts by status."""
        return visible(db().get(ChannelReport, report_id))


@blp.route("/<int:report_id>/rows")
class Rows(MethodView):
    @blp.arguments(RowArgs, location="query")
    @blp.response(200, page_schema(ReconciliationRowSchema, "ReconciliationRowPage"))
    def get(self, args: dict[str, Any], report_id: int) -> Any:
        """The report's outcome per order; filter by status."""
        report = visible(db().get(ChannelReport, report_id))
        query = with_filters(select(ReconciliationRow).where(
            ReconciliationRow.report_id == report.id), args, {"status": ReconciliationRow.status})
        rows, next_cursor = paginate(db(), query, ReconciliationRow.id, args)
        return page(rows, next_cursor)


@blp.route("/<int:report_id>/rows/<int:row_id>/review")
class Review(MethodView):
    @blp.arguments(OutcomeReviewSchema)
    @blp.response(200, ReconciliationRowSchema)
    def post(self, data: dict[str, Any], report_id: int, row_id: int) -> Any:
        """Mark an outcome reviewed, with a note; reviewing again replaces the note."""
        report = visible(db().get(ChannelReport, report_id))
        row = db().get(ReconciliationRow, row_id)
        if row is None or row.report_id != report.id:
            raise not_found()
        before = snapshot(row)
        with write() as session:
            review_row(row, data.get("note"))
            audited(session, "review", "reconciliation_row", row, before,
                    tenant_id=report.tenant_id)
        return row
