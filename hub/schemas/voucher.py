"""Tourism vouchers as the API shows them, a redemption's body, and the per-row results of a
redemption file."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from hub.api.pagination import ListArgs
from hub.models.round import VOUCHER_STATUSES
from hub.schemas.common import IdFilter


class VoucherSchema(Schema):
    id = fields.Integer()
    code = fields.String(metadata={"description": "GV- and 12 Crockford base32 characters"})
    round_id = fields.Integer()
    item_id = fields.Integer()
    merchant_id = fields.Integer()
    unit = fields.Integer(metadata={"description": "1.. within the round and item"})
    status = fields.String(metadata={"enum": list(VOUCHER_STATUSES)})
    valid_until = fields.Date(metadata={"description": "last valid day, tenant's time zone"})
    redeemed_at = fields.DateTime(allow_none=True)
    place = fields.String(attribute="redeemed_by", allow_none=True,
                          metadata={"description": "where it was used"})
    expired_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()


class VoucherArgs(ListArgs):
    status = fields.String(validate=validate.OneOf(VOUCHER_STATUSES))
    merchant = IdFilter(metadata={"description": "the merchant paid for the voucher"})
    round = IdFilter(metadata={"description": "the round that issued it"})


class RedeemSchema(Schema):
    redeemed_at = fields.DateTime(metadata={
        "description": "when it was used; without an offset, the tenant's time zone; "
                       "default now"})
    place = fields.String(validate=validate.Length(min=1, max=200), allow_none=True,
                          metadata={"description": "where it was used (사용처)"})


class RedemptionRowSchema(Schema):
    row = fields.Integer(metadata={"description": "0-based data row; errors say rows[N]"})
    code = fields.String(allow_none=True)
    result = fields.String(metadata={"enum": ["redeemed", "unchanged", "error"]})
    errors = fields.List(fields.Dict(keys=fields.String(), values=fields.String()))


class RedemptionFileSchema(Schema):
    redeemed = fields.Integer()
    unchanged = fields.Integer()
    failed = fields.Integer()
    rows = fields.List(fields.Nested(RedemptionRowSchema))
