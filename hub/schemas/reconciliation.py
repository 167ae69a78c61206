"""Channel reports, their per-order outcomes, and the arguments of their routes."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from hub.models.settlement import RECONCILIATION_STATUSES
from hub.schemas.common import IdFilter
from hub.services.periods import valid_key

PERIOD_HELP = "A month (2026-11) or an ISO week (2026-W48), in the tenant's time zone."


def _period(value: str) -> None:
    if not valid_key(value):
        raise ValidationError(PERIOD_HELP)


def Period(**kwargs: Any) -> fields.String:  # noqa: N802 - reads like a field class
    return fields.String(validate=[validate.Length(max=10), _period],
                         metadata={"description": PERIOD_HELP}, **kwargs)


def Column(**kwargs: Any) -> fields.String:  # noqa: N802
    return fields.String(validate=validate.Length(min=1, max=200), **kwargs)


class UploadArgs(Schema):
    connection = IdFilter(required=True, metadata={"description": "the channel's connection"})
    period = Period()
    order_column = Column(required=True, metadata={
        "description": "Header of the column holding the platform's order id, e.g. 주문번호."})
    amount_column = Column(required=True, metadata={
        "description": "Header of the payout amount column, e.g. 정산금액 (12,300 or 12300원)."})
    fee_column = Column(metadata={"description": "Header of the channel's fee column, if any."})


class ChannelReportSchema(Schema):
    id = fields.Integer(dump_only=True)
    tenant_id = fields.Integer(dump_only=True)
    connection_id = fields.Integer(dump_only=True)
    source = fields.String(dump_only=True, metadata={"description": "pull or csv"})
    period = fields.String(dump_only=True, allow_none=True)
    digest = fields.String(dump_only=True, metadata={
        "description": "Of the period and the canonical rows: the same report is one import."})
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), dump_only=True,
                         metadata={"description": "Outcome rows by status, every status."})
    created_at = fields.DateTime(dump_only=True)


class ReconciliationRowSchema(Schema):
    id = fields.Integer(dump_only=True)
    report_id = fields.Integer(dump_only=True)
    external_order_id = fields.String(dump_only=True)
    order_id = fields.Integer(dump_only=True, allow_none=True)
    status = fields.String(dump_only=True, metadata={
        "description": ", ".join(RECONCILIATION_STATUSES)})
    expected = fields.Integer(dump_only=True, allow_none=True,
                              metadata={"description": "KRW the hub expected to be paid"})
    reported = fields.Integer(dump_only=True, allow_none=True,
                              metadata={"description": "KRW the channel says it pays"})
    reviewed_at = fields.DateTime(dump_only=True, allow_none=True)
    review_note = fields.String(dump_only=True, allow_none=True)


class OutcomeReviewSchema(Schema):
    note = fields.String(allow_none=True, load_default=None,
                         validate=validate.Length(max=500))


class ReportListArgs(Schema):
    connection = IdFilter()
    period = Period()


class RowListArgs(Schema):
    status = fields.String(validate=validate.OneOf(RECONCILIATION_STATUSES))
