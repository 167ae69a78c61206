"""Coupon campaigns: a code, what it takes off an order, and who funds it."""

from __future__ import annotations

from marshmallow import fields, validate

from hub.models.settlement import COUPON_FUNDERS
from hub.schemas.common import CODE, KRW_MAX, RowSchema, TenantField, Text


class CouponSchema(RowSchema, TenantField):
    version = None  # type: ignore[assignment]  # coupons are not versioned rows
    code = fields.String(required=True, validate=CODE,
                         metadata={"description": "Unique within the tenant."})
    label = Text(200, required=True,
                 metadata={"description": "Its name on orders and statements."})
    funder = fields.String(required=True, validate=validate.OneOf(COUPON_FUNDERS),
                           metadata={"description": "Who pays for what the coupon takes off."})
    percent_bp = fields.Integer(strict=True, allow_none=True,
                                validate=validate.Range(min=1, max=10000),
                                metadata={"description": "Basis points off the order; "
                                                         "exactly one of percent_bp and amount."})
    amount = fields.Integer(strict=True, allow_none=True,
                            validate=validate.Range(min=1, max=KRW_MAX),
                            metadata={"description": "KRW off the order; exactly one of "
                                                     "percent_bp and amount."})


class CouponUpdateSchema(CouponSchema):
    tenant = None  # type: ignore[assignment]
