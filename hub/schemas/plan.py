from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from hub.models.plan import CADENCES, FUNDERS, PLAN_STATUSES, RULE_KINDS
from hub.schemas.common import CODE, KRW_MAX, Count, Krw, Ref, RowSchema, Text

CLAWBACKS = ("none", "term_discounts")
TERM_ENDINGS = ("renew", "end")


class PricingRuleSchema(Schema):
    from_round = Count(1, load_default=1)
    kind = fields.String(required=True, validate=validate.OneOf(RULE_KINDS))
    percent_bp = fields.Integer(strict=True, allow_none=True,
                                validate=validate.Range(min=1, max=10000),
                                metadata={"description": "kind=percent: basis points"})
    amount = fields.Integer(strict=True, allow_none=True,
                            validate=validate.Range(min=1, max=KRW_MAX),
                            metadata={"description": "kind=fixed: KRW per round"})
    funder = fields.String(required=True, validate=validate.OneOf(FUNDERS))
    label = fields.String(allow_none=True, validate=validate.Length(max=200))

    @validates_schema
    def _value_matches_kind(self, data: dict[str, Any], **_kwargs: Any) -> None:
        kind = data.get("kind")
        if kind == "percent":
            if data.get("percent_bp") is None:
                raise ValidationError("Required when kind is percent.", "percent_bp")
            if data.get("amount") is not None:
                raise ValidationError("Only for kind fixed.", "amount")
        elif kind == "fixed":
            if data.get("amount") is None:
                raise ValidationError("Required when kind is fixed.", "amount")
            if data.get("percent_bp") is not None:
                raise ValidationError("Only for kind percent.", "percent_bp")


class PlanSchema(RowSchema):
    box_id = Ref(required=True)
    code = fields.String(required=True, validate=CODE)
    name = Text(200, required=True)
    cadence = fields.String(required=True, validate=validate.OneOf(CADENCES))
    prepaid_rounds = Count(1, load_default=None)
    term_rounds = Count(1, allow_none=True, metadata={"description": "None: open-ended"})
    round_price = Krw(required=True, metadata={"description": "KRW list price of one round"})
    status = fields.String(validate=validate.OneOf(PLAN_STATUSES))
    rules = fields.List(fields.Nested(PricingRuleSchema), validate=validate.Length(max=20))
    clawback = fields.String(validate=validate.OneOf(CLAWBACKS), metadata={
        "description": "On early cancellation: term_discounts takes back the term discounts "
                       "already received from the refund; none takes nothing back."})
    at_term_end = fields.String(validate=validate.OneOf(TERM_ENDINGS), metadata={
        "description": "At the end of the term: renew starts another term; end ends the "
                       "contract."})
