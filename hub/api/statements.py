"""Merchant statements per settlement period (JSON, CSV, PDF), the periods themselves,
settlement runs on the `settlement` queue, and the monthly public-fund report."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app
from flask.views import MethodView
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import select

from hub.api.auth import require_role, visible, write_tenant_id
from hub.api.common import Blueprint, db
from hub.api.problems import ApiProblem
from hub.db import utcnow
from hub.models import Merchant, SettlementPeriod, Tenant
from hub.services.periods import local_day, period_key, period_row, valid_key
from hub.services.public_funds import public_fund_csv, public_fund_report
from hub.services.statements import draft_statement, statements_for

blp = Blueprint("statements", __name__, url_prefix="/api/v1/statements",
                description="Merchant statements per settlement period, as JSON, CSV and PDF; "
                            "settlement runs; the public-fund report.")

PERIOD = {"description": "2026-11 (monthly tenants) or 2026-W48 (weekly tenants)",
          "example": "2026-11"}
FORMATS = ("json", "csv", "pdf")


class TenantArgs(Schema):
    tenant = fields.String(metadata={"description": "an admin token names the tenant's code"})


class PeriodArgs(TenantArgs):
    period = fields.String(validate=validate.Length(max=10),
                           metadata={**PERIOD, "description": PERIOD["description"]
                                     + "; the current period when left out"})


class StatementArgs(PeriodArgs):
    merchant = fields.Integer(validate=validate.Range(min=1, max=2**63 - 1))


class OneStatementArgs(PeriodArgs):
    format = fields.String(load_default="json", validate=validate.OneOf(FORMATS))


class MonthArgs(TenantArgs):
    month = fields.String(validate=validate.Regexp(r"^[1-9]\d{3}-(0[1-9]|1[0-2])$"),
                          metadata={"example": "2026-11",
                                    "description": "the current month when left out"})
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv")))
    funder = fields.String(load_default="municipality",
                           validate=validate.OneOf(("municipality", "operator", "channel")),
                           metadata={"description": "whose funding to report"})


class RunSchema(Schema):
    tenant = fields.String(metadata={"description": "an admin token names the tenant's code"})
    period = fields.String(required=True, validate=validate.Length(max=10), metadata=PERIOD)
    close = fields.Boolean(load_default=False,
                           metadata={"description": "close the period and freeze statements"})

    @validates_schema
    def _period_known(self, data: dict[str, Any], **_: Any) -> None:
        if not valid_key(data["period"]):
            raise ValidationError("not a period", "period")


class LineSchema(Schema):
    entry_key = fields.String()
    kind = fields.String()
    amount = fields.Integer()
    occurred_at = fields.String()
    order_id = fields.Integer(allow_none=True)
    order_number = fields.String(allow_none=True)
    channel = fields.String(allow_none=True)
    round_id = fields.Integer(allow_none=True)
    round_number = fields.Integer(allow_none=True)
    voucher_id = fields.Integer(allow_none=True)
    claim_id = fields.Integer(allow_none=True)
    label = fields.String(allow_none=True)


class TotalSchema(Schema):
    kind = fields.String()
    amount = fields.Integer()


class StatementSchema(Schema):
    merchant_id = fields.Integer()
    merchant = fields.Dict()
    tenant = fields.Dict()
    period = fields.String()
    starts_on = fields.String()
    ends_before = fields.String()
    status = fields.String(metadata={"description": "draft or closed"})
    digest = fields.String(allow_none=True)
    currency = fields.String()
    payable = fields.Integer()
    carried_forward = fields.Integer()
    totals = fields.List(fields.Nested(TotalSchema))
    lines = fields.List(fields.Nested(LineSchema))


class StatementListSchema(Schema):
    data = fields.List(fields.Nested(StatementSchema))


class PeriodSchema(Schema):
    key = fields.String()
    starts_on = fields.Date()
    ends_before = fields.Date()
    status = fields.String()
    closed_at = fields.DateTime(allow_none=True)
    digest = fields.String(allow_none=True)


class PeriodListSchema(Schema):
    data = fields.List(fields.Nested(PeriodSchema))


class RunResultSchema(Schema):
    queued = fields.Boolean()
    job_id = fields.String(metadata={"description": "the settlement job, when queued"})
    tenant = fields.String()
    period = fields.String()
    posted = fields.Dict(keys=fields.String(), values=fields.Integer())
    vouchers_expired = fields.Integer()
    closed = fields.Boolean()
    digest = fields.String(allow_none=True)


class FundRowSchema(Schema):
    order_id = fields.Integer(allow_none=True)
    order_number = fields.String(allow_none=True)
    channel = fields.String(allow_none=True)
    merchant_id = fields.Integer()
    merchant = fields.String()
    box_id = fields.Integer(allow_none=True)
    box_code = fields.String(allow_none=True)
    kind = fields.String(metadata={"description": "discount, coupon, shipping_subsidy or "
                                                  "clawback (negative)"})
    amount = fields.Integer()


class PublicFundSchema(Schema):
    tenant = fields.String()
    month = fields.String()
    funder = fields.String()
    rows = fields.List(fields.Nested(FundRowSchema))
    totals = fields.Dict()


def _tenant(args: dict[str, Any]) -> Tenant:
    require_role("operator", "viewer")
    return db().get_one(Tenant, write_tenant_id(args.get("tenant")))


def _current(tenant: Tenant, cycle: str) -> str:
    return period_key(local_day(tenant, utcnow()), cycle)


def _period(tenant: Tenant, key: str | None) -> SettlementPeriod:
    key = key or _current(tenant, tenant.settlement_cycle)
    if not valid_key(key, tenant.settlement_cycle):
        raise ApiProblem(400, "Invalid request", "One or more fields are invalid.", errors=[
            {"path": "period", "message": f"Not a {tenant.settlement_cycle} period of this "
                                          "tenant (2026-11 or 2026-W48)."}])
    session = db()
    found = session.scalar(select(SettlementPeriod).where(
        SettlementPeriod.tenant_id == tenant.id, SettlementPeriod.key == key))
    return found if found is not None else period_row(session, tenant, key)


@blp.route("")
class Statements(MethodView):
    @blp.arguments(StatementArgs, location="query")
    @blp.response(200, StatementListSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """Every merchant's statement for a period (drafts while it is open)."""
        tenant = _tenant(args)
        period = _period(tenant, args.get("period"))
        data = statements_for(db(), tenant, period, args.get("merchant"))
        db().rollback()  # a draft period row made for the read is not kept
        return {"data": data}


@blp.route("/<int:merchant_id>")
class MerchantStatement(MethodView):
    @blp.arguments(OneStatementArgs, location="query")
    @blp.response(200, StatementSchema, content_type="application/json")
    @blp.alt_response(200, description="the statement as CSV (UTF-8 with BOM) or PDF",
                      content_type="text/csv", success=True)
    def get(self, args: dict[str, Any], merchant_id: int) -> Any:
        """One merchant's statement, as JSON, CSV or PDF (`format`)."""
        require_role("operator", "viewer")
        merchant = visible(db().get(Merchant, merchant_id))
        tenant = db().get_one(Tenant, merchant.tenant_id)
        period = _period(tenant, args.get("period"))
        found = statements_for(db(), tenant, period, merchant.id)
        statement = found[0] if found else draft_statement(db(), tenant, merchant, period)
        name = f"statement-{tenant.code}-{period.key}-{merchant.id}"
        db().rollback()
        if args["format"] == "csv":
            from hub.services.statement_render import render_statement_csv

            return _download(render_statement_csv(statement), "text/csv; charset=utf-8",
                             f"{name}.csv")
        if args["format"] == "pdf":
            from hub.services.statement_render import render_statement_pdf

            return _download(render_statement_pdf(statement), "application/pdf", f"{name}.pdf")
        return statement


def _download(body: bytes, mimetype: str, filename: str) -> Response:
    response = current_app.response_class(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@blp.route("/periods")
class Periods(MethodView):
    @blp.arguments(TenantArgs, location="query")
    @blp.response(200, PeriodListSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """The tenant's settlement periods, newest first."""
        tenant = _tenant(args)
        return {"data": list(db().scalars(select(SettlementPeriod).where(
            SettlementPeriod.tenant_id == tenant.id).order_by(SettlementPeriod.key.desc())))}


@blp.route("/runs")
class Runs(MethodView):
    @blp.arguments(RunSchema)
    @blp.response(202, RunResultSchema)
    def post(self, body: dict[str, Any]) -> Any:
        """Post what is waiting and compute the period's statements (closing it if asked),
        as a job on the settlement queue; without a queue server, here and now."""
        require_role("operator")
        tenant = db().get_one(Tenant, write_tenant_id(body.get("tenant")))
        if not valid_key(body["period"], tenant.settlement_cycle):
            raise ApiProblem(400, "Invalid request", "One or more fields are invalid.", errors=[
                {"path": "period", "message": f"Not a {tenant.settlement_cycle} period."}])
        from jobs.settlement import queue_settlement, settle

        app = current_app._get_current_object()  # type: ignore[attr-defined]
        tenant_id = tenant.id
        db().close()  # the run writes from its own sessions; SQLite takes one writer at a time
        job_id = queue_settlement(app, tenant_id, body["period"], body["close"])
        if job_id is not None:
            return {"queued": True, "job_id": job_id}
        return {"queued": False, **settle(tenant_id, body["period"],
                                          close=body["close"]).as_dict()}


@blp.route("/public-funds")
class PublicFunds(MethodView):
    @blp.arguments(MonthArgs, location="query")
    @blp.response(200, PublicFundSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """Every municipality-funded coupon, discount and shipping subsidy of a month, by
        order, merchant and box, with totals (`format=csv` for the subsidy claim); with
        `funder`, what the operator or the channels funded, the same way."""
        tenant = _tenant(args)
        month = args.get("month") or _current(tenant, "monthly")
        report = public_fund_report(db(), tenant, month, args["funder"])
        if args["format"] == "csv":
            return _download(public_fund_csv(report), "text/csv; charset=utf-8",
                             f"funds-{args['funder']}-{tenant.code}-{month}.csv")
        return report
