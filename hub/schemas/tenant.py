from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marshmallow import ValidationError, fields, validate

from hub.models.tenant import SETTLEMENT_CYCLES
from hub.schemas.common import RowSchema, Text


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


class TenantUpdateSchema(TenantSchema):
    code = fields.String(dump_only=True)
