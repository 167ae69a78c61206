from __future__ import annotations

from marshmallow import fields, validate

from hub.models.merchant import FEE_MODELS, MERCHANT_STATUSES, TAX_TYPES
from hub.schemas.common import BusinessNumber, RowSchema, TenantField, Text


class MerchantSchema(RowSchema, TenantField):
    name = Text(200, required=True)
    business_number = BusinessNumber(required=True, metadata={"example": "220-81-62517"})
    tax_type = fields.String(required=True, validate=validate.OneOf(TAX_TYPES),
                             metadata={"description": "general 일반, simplified 간이, exempt 면세"})
    representative = fields.String(allow_none=True, validate=validate.Length(max=100))
    contact_email = fields.Email(allow_none=True, validate=validate.Length(max=254))
    contact_phone = fields.String(allow_none=True, validate=validate.Regexp(
        r"^[0-9+()\- ]{6,40}$", error="Digits, spaces, '+', '-' and parentheses only."))
    payout_bank = fields.String(allow_none=True, validate=validate.Length(max=60))
    payout_account_holder = fields.String(allow_none=True, validate=validate.Length(max=100))
    payout_account = fields.String(load_only=True, allow_none=True, validate=validate.Regexp(
        r"^[0-9][0-9-]{5,39}$", error="Digits and hyphens only, 6 to 40."),
        metadata={"description": "Write-only; stored encrypted, shown as its last 4 digits."})
    payout_account_last4 = fields.String(dump_only=True, allow_none=True)
    fee_model = fields.String(validate=validate.OneOf(FEE_MODELS))
    commission_rate_bp = fields.Integer(strict=True, allow_none=True,
                                        validate=validate.Range(min=0, max=10000),
                                        metadata={"description": "Basis points: 1200 = 12%"})
    status = fields.String(validate=validate.OneOf(MERCHANT_STATUSES))
