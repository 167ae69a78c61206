"""Records of a mall's catalog push, keyed by the mall's own codes."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from hub.schemas.box import BoxSchema
from hub.schemas.common import BusinessNumber, Count
from hub.schemas.item import ItemSchema
from hub.schemas.plan import PlanSchema

_MAX_RECORDS = 1000


class PushItemSchema(ItemSchema):
    class Meta:  # a class attribute set to None does not remove an inherited field
        exclude = ("merchant_id",)

    merchant_business_number = BusinessNumber(required=True)


class PushComponentSchema(Schema):
    sku = fields.String(required=True, validate=validate.Length(min=1, max=64))
    quantity = Count(1, required=True)
    weight = Count(1, required=True)


class PushBoxSchema(BoxSchema):
    class Meta:
        exclude = ("tenant",)

    components = fields.List(fields.Nested(PushComponentSchema),
                             validate=validate.Length(max=50))


class PushPlanSchema(PlanSchema):
    class Meta:
        exclude = ("box_id",)

    box_code = fields.String(required=True, validate=validate.Length(min=1, max=64))


class CatalogPushSchema(Schema):
    tenant = fields.String(load_only=True, validate=validate.Length(min=1, max=40),
                           metadata={"description": "Tenant code; admin tokens only."})
    items = fields.List(fields.Dict(), load_default=list,
                        validate=validate.Length(max=_MAX_RECORDS),
                        metadata={"description": "PushItem records"})
    boxes = fields.List(fields.Dict(), load_default=list,
                        validate=validate.Length(max=_MAX_RECORDS),
                        metadata={"description": "PushBox records"})
    plans = fields.List(fields.Dict(), load_default=list,
                        validate=validate.Length(max=_MAX_RECORDS),
                        metadata={"description": "PushPlan records"})


class PushResultSchema(Schema):
    type = fields.String()
    key = fields.String(allow_none=True)
    status = fields.String(metadata={"description": "created, updated, unchanged or rejected"})
    id = fields.Integer(allow_none=True)
    errors = fields.List(fields.Dict())


class CatalogPushResponseSchema(Schema):
    results = fields.List(fields.Nested(PushResultSchema))
    summary = fields.Dict(keys=fields.String(), values=fields.Integer())
