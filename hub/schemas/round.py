"""Rounds (회차) as the API shows them, and the bodies of the contract changes that move
them: skip one round, change the cadence, cancel."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from hub.models.plan import CADENCES
from hub.models.round import ROUND_STATUSES
from hub.schemas.common import Ref
from hub.schemas.order import ContractSchema


class RoundSchema(Schema):
    id = fields.Integer()
    contract_id = fields.Integer()
    number = fields.Integer(metadata={"description": "the slot, skipped rounds included"})
    sequence = fields.Integer(allow_none=True, metadata={
        "description": "the paid round this delivers (1..); null when skipped"})
    scheduled_on = fields.Date(metadata={"description": "delivery date, tenant's time zone"})
    cutoff_at = fields.DateTime(metadata={
        "description": "UTC; changes after it apply from the next round on"})
    quantity = fields.Integer(metadata={"description": "boxes"})
    status = fields.String(metadata={"enum": list(ROUND_STATUSES)})
    shipped_at = fields.DateTime(allow_none=True)
    delivered_at = fields.DateTime(allow_none=True)
    carrier = fields.String(allow_none=True)
    tracking_number = fields.String(allow_none=True)


class ContractRoundsSchema(ContractSchema):
    """A contract after a change, with the rounds still ahead of it."""

    renewals = fields.Integer(metadata={"description": "terms started after the first"})
    cancelled_on = fields.Date(allow_none=True)
    upcoming_rounds = fields.List(fields.Nested(RoundSchema), metadata={
        "description": "scheduled rounds, by number"})


class SkipRequestSchema(Schema):
    """Which round to skip: by its id, or by its delivery date."""

    round_id = Ref(metadata={"description": "a scheduled round of this contract"})
    scheduled_on = fields.Date(metadata={"description": "the delivery date of that round"})

    @validates_schema
    def _one_round(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if ("round_id" in data) == ("scheduled_on" in data):
            raise ValidationError("Name the round by round_id or by scheduled_on (one of them).",
                                  "round_id")


class CadenceRequestSchema(Schema):
    cadence = fields.String(required=True, validate=validate.OneOf(CADENCES))


class CancelRequestSchema(Schema):
    reason = fields.String(validate=validate.Length(min=1, max=500), allow_none=True)
