from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marshmallow import ValidationError, fields, validate

from hub.models.tenant import SETTLEMENT_CYCLES
from hub.schemas.common import Krw, RowSchema, Text


def _known_zone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError("Unknown IANA time zone.") from None


class TenantSchema(RowSchema):
    tenant_id = None  # type: ignore[assignment]
    code = fields.String(required=True, validate=validate.Regexp(
        r"^[a-z][a-z0-9-]{1,39}$", error="Lower-case letters, digits and '-', 2 to 40."))
    name = Text(200, required=True)
    time_zone = fields.String(validate=[validate.Length(max=64), _known_zone])
    settlement_cycle = fields.String(validate=validate.OneOf(SETTLEMENT_CYCLES))
    order_cutoff_days = fields.Integer(strict=True, validate=validate.Range(min=0, max=30),
                                       metadata={"description": "Days before a round's delivery "
                                                 "date when it closes for changes."})
    min_payout = Krw(metadata={"description": "KRW; a smaller balance carries forward."})
    courier_cost_per_box = Krw(metadata={"description": "KRW the courier charges per box."})
    shipping_subsidy_per_box = Krw(metadata={
        "description": "KRW of the courier cost per box the municipality pays; at most "
                       "courier_cost_per_box."})
    fee_vat_bp = fields.Integer(strict=True, validate=validate.Range(min=0, max=10000),
                                metadata={"description": "VAT on the operator's fee, in basis "
                                                         "points (1000 = 10%)."})


class TenantUpdateSchema(TenantSchema):
    code = fields.String(dump_only=True)
