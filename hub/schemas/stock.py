from __future__ import annotations

from marshmallow import Schema, fields, validate

from hub.models.stock import LOCATION_KINDS
from hub.schemas.common import CODE, Count, Ref, RowSchema, TenantField, Text


class StockLocationSchema(RowSchema, TenantField):
    code = fields.String(required=True, validate=CODE)
    name = Text(200, required=True)
    address = fields.String(allow_none=True, validate=validate.Length(max=400))
    kind = fields.String(validate=validate.OneOf(LOCATION_KINDS))


class StockLevelSchema(Schema):
    id = fields.Integer(dump_only=True)
    tenant_id = fields.Integer(dump_only=True)
    item_id = fields.Integer(dump_only=True)
    location_id = fields.Integer(dump_only=True)
    on_hand = fields.Integer(dump_only=True)
    version = fields.Integer(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class StockSetSchema(Schema):
    item_id = Ref(required=True)
    location_id = Ref(required=True)
    on_hand = Count(0, required=True, metadata={"description": "absolute count"})
    reason = fields.String(allow_none=True, validate=validate.Length(max=400))


class StockAdjustSchema(Schema):
    item_id = Ref(required=True)
    location_id = Ref(required=True)
    delta = fields.Integer(strict=True, required=True,
                           validate=validate.Range(min=-1_000_000_000, max=1_000_000_000))
    reason = Text(400, required=True)


class StockMovementSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    delta = fields.Integer()
    on_hand_after = fields.Integer()
    reason = fields.String(allow_none=True)
    actor = fields.String(allow_none=True)
    created_at = fields.DateTime()
