from __future__ import annotations

from marshmallow import Schema, fields, validate

from hub.models.connection import BINDING_ENTITIES, BINDING_STATUSES, CONNECTION_STATUSES
from hub.schemas.common import Ref, RowSchema, TenantField, Text


class ConnectionSchema(RowSchema, TenantField):
    connector = fields.String(required=True, validate=validate.Length(min=1, max=64))
    name = Text(200, required=True)
    status = fields.String(validate=validate.OneOf(CONNECTION_STATUSES))
    fee_rate_bp = fields.Integer(strict=True, validate=validate.Range(min=0, max=10000),
                                 metadata={"description": "The channel's fee in basis points, "
                                           "for orders whose fee it does not report."})
    config = fields.Dict(keys=fields.String(), load_default=dict,
                         metadata={"description": "Validated by the connector's own schema; "
                                                  "secret fields are write-only, shown masked."})


class ConnectionUpdateSchema(ConnectionSchema):
    connector = fields.String(dump_only=True)


class BindingSchema(RowSchema):
    connection_id = Ref(required=True)
    entity_type = fields.String(required=True, validate=validate.OneOf(BINDING_ENTITIES))
    internal_id = Ref(required=True)
    external_id = Text(200, required=True)
    url = fields.Url(allow_none=True, require_tld=False, schemes={"http", "https"},
                     validate=validate.Length(max=1000))
    status = fields.String(dump_only=True, validate=validate.OneOf(BINDING_STATUSES))


class ConnectorInfoSchema(Schema):
    key = fields.String()
    display_name = fields.String()
    capabilities = fields.List(fields.String())
    secret_fields = fields.List(fields.String())
