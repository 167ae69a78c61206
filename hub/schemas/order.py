"""Orders, contracts and claims as the API shows them (read-only). A customer is shown only
masked: the hub keeps no name, e-mail or platform reference of anyone."""

from __future__ import annotations

from marshmallow import Schema, fields

from hub.models.order import CLAIM_KINDS, CONTRACT_STATUSES, ORDER_STATUSES


class CustomerViewSchema(Schema):
    id = fields.Integer()
    masked = fields.String(metadata={"description": "e.g. c-****3f; never a name or e-mail"})


class OrderLineViewSchema(Schema):
    id = fields.Integer()
    external_line_id = fields.String()
    sku = fields.String(allow_none=True)
    box_id = fields.Integer(allow_none=True,
                            metadata={"description": "null when the line names no hub box"})
    box_version_id = fields.Integer(
        allow_none=True, metadata={"description": "the composition it was sold with"})
    plan_id = fields.Integer(allow_none=True)
    quantity = fields.Integer(metadata={"description": "boxes per round"})
    unit_price = fields.Integer(metadata={"description": "KRW"})
    cancelled_quantity = fields.Integer()
    refunded_quantity = fields.Integer()


class ClaimSchema(Schema):
    id = fields.Integer()
    key = fields.String()
    kind = fields.String(metadata={"enum": list(CLAIM_KINDS)})
    amount = fields.Integer(metadata={"description": "KRW"})
    lines = fields.List(fields.Dict(), metadata={
        "description": "[{external_line_id, item_id (a component, or null: whole boxes), "
                       "quantity}]"})
    occurred_at = fields.DateTime()


class OrderSchema(Schema):
    id = fields.Integer()
    tenant_id = fields.Integer()
    connection_id = fields.Integer()
    external_id = fields.String()
    number = fields.String(allow_none=True)
    status = fields.String(metadata={"enum": list(ORDER_STATUSES)})
    placed_at = fields.DateTime()
    source_updated_at = fields.DateTime(
        metadata={"description": "the platform's time of the state shown"})
    currency = fields.String()
    total = fields.Integer(metadata={"description": "KRW"})
    refunded = fields.Integer(metadata={"description": "KRW"})
    customer = fields.Nested(CustomerViewSchema, allow_none=True)
    lines = fields.List(fields.Nested(OrderLineViewSchema))
    claims = fields.List(fields.Nested(ClaimSchema))
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class ContractSchema(Schema):
    id = fields.Integer()
    tenant_id = fields.Integer()
    order_id = fields.Integer()
    order_line_id = fields.Integer()
    plan_id = fields.Integer()
    box_id = fields.Integer()
    cadence = fields.String()
    prepaid_rounds = fields.Integer()
    term_rounds = fields.Integer(allow_none=True)
    rounds_delivered = fields.Integer()
    next_round_on = fields.Date(allow_none=True)
    status = fields.String(metadata={"enum": list(CONTRACT_STATUSES)})
    cancel_reason = fields.String(allow_none=True, metadata={
        "description": "why it was cancelled: the operator's or the channel's words, or what "
                       "happened to its order on the channel"})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
