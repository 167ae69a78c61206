from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from hub.models.box import BOX_CATEGORIES, BOX_STATUSES
from hub.schemas.common import CODE, Count, Ref, RowSchema, TenantField, Text


class ComponentSchema(Schema):
    item_id = Ref(required=True)
    sku = fields.String(dump_only=True)
    quantity = Count(1, required=True)
    weight = Count(1, required=True, metadata={"description": "allocation weight, positive"})


class BoxSchema(RowSchema, TenantField):
    code = fields.String(required=True, validate=CODE)
    title = Text(200, required=True)
    description = fields.String(allow_none=True, validate=validate.Length(max=20000))
    images = fields.List(fields.Url(require_tld=False, schemes={"http", "https"}),
                         validate=validate.Length(max=20))
    category = fields.String(validate=validate.OneOf(BOX_CATEGORIES))
    capacity_per_round = Count(0, metadata={"description": "boxes that can ship per round"})
    status = fields.String(validate=validate.OneOf(BOX_STATUSES))
    packed_at_id = Ref(allow_none=True, metadata={
        "description": "The stock location (logistics centre) where the box is packed."})
    components = fields.List(fields.Nested(ComponentSchema), validate=validate.Length(max=50),
                             metadata={"description": "Changing them makes a new version."})
    current_version = fields.Integer(dump_only=True, allow_none=True)

    @validates_schema
    def _distinct_items(self, data: dict[str, Any], **_kwargs: Any) -> None:
        seen: set[int] = set()
        errors: dict[int, dict[str, list[str]]] = {}
        for index, component in enumerate(data.get("components") or []):
            item_id = component.get("item_id")
            if item_id is None:
                continue
            if item_id in seen:
                errors[index] = {"item_id": ["This item is already a component."]}
            seen.add(item_id)
        if errors:
            raise ValidationError({"components": errors})


class BoxVersionSchema(Schema):
    number = fields.Integer()
    created_at = fields.DateTime()
    components = fields.List(fields.Nested(ComponentSchema))
