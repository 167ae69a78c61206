from __future__ import annotations

from marshmallow import fields, validate

from hub.models.item import ITEM_KINDS, ITEM_STATUSES, TAX_CATEGORIES
from hub.schemas.common import CODE, Krw, Ref, RowSchema, Text


class ItemSchema(RowSchema):
    merchant_id = Ref(required=True)
    sku = fields.String(required=True, validate=CODE)
    name = Text(200, required=True)
    unit = Text(40)
    list_price = Krw(required=True, metadata={"description": "KRW"})
    supply_price = Krw(allow_none=True, metadata={"description": "KRW, supply-price merchants"})
    tax_category = fields.String(validate=validate.OneOf(TAX_CATEGORIES))
    kind = fields.String(validate=validate.OneOf(ITEM_KINDS))
    status = fields.String(validate=validate.OneOf(ITEM_STATUSES))
    description = fields.String(allow_none=True, validate=validate.Length(max=10000))
    voucher_valid_days = fields.Integer(
        strict=True, allow_none=True, validate=validate.Range(min=1, max=3650),
        metadata={"description": "kind=voucher only: days an issued code stays valid."})
    voucher_expiry_share_bp = fields.Integer(
        strict=True, allow_none=True, validate=validate.Range(min=0, max=10000),
        metadata={"description": "kind=voucher only: basis points of an expired voucher's "
                                 "value its merchant is paid (0 nothing, 10000 all)."})
