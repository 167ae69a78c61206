"""The audit log, read-only: who changed what and when."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from hub.api.auth import scope
from hub.api.common import Blueprint, db
from hub.api.crud import ListArgs, with_filters
from hub.api.pagination import page, page_schema, paginate
from hub.models import AuditEntry
from hub.schemas.common import IdFilter

blp = Blueprint("audit", __name__, url_prefix="/api/v1/audit-log",
                description="One entry per write through the API, oldest first.")


class AuditEntrySchema(Schema):
    id = fields.Integer()
    tenant_id = fields.Integer(allow_none=True)
    actor = fields.String()
    action = fields.String()
    entity_type = fields.String()
    entity_id = fields.Integer(allow_none=True)
    before_digest = fields.String(allow_none=True)
    after_digest = fields.String(allow_none=True)
    request_id = fields.String(allow_none=True)
    created_at = fields.DateTime()


class AuditListArgs(ListArgs):
    entity_type = fields.String(validate=validate.Length(max=32))
    entity_id = IdFilter()
    actor = fields.String(validate=validate.Length(max=120))
    action = fields.String(validate=validate.Length(max=32))


@blp.route("")
class AuditLog(MethodView):
    @blp.arguments(AuditListArgs, location="query")
    @blp.response(200, page_schema(AuditEntrySchema, "AuditEntryPage"))
    def get(self, args: dict[str, Any]) -> Any:
        query = with_filters(select(AuditEntry), args, {
            "entity_type": AuditEntry.entity_type, "entity_id": AuditEntry.entity_id,
            "actor": AuditEntry.actor, "action": AuditEntry.action})
        rows, next_cursor = paginate(db(), scope(query, AuditEntry.tenant_id, args),
                                     AuditEntry.id, args)
        return page(rows, next_cursor)
