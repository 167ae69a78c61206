"""Connections (채널 연동) and the connectors they can be made with."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import fields, validate
from sqlalchemy import Select
from sqlalchemy.orm import Session

from connectors import registry
from hub.api.common import Blueprint, db, secret_box
from hub.api.crud import ListArgs, Resource, register_crud, with_filters
from hub.models import Connection
from hub.models.connection import CONNECTION_STATUSES
from hub.schemas.connection import ConnectionSchema, ConnectionUpdateSchema, ConnectorInfoSchema
from hub.services.connections import apply_connection, masked_config

blp = Blueprint("connections", __name__, url_prefix="/api/v1/connections",
                description="Configured connector instances: this mall, this platform store.")
connectors_blp = Blueprint("connectors", __name__, url_prefix="/api/v1/connectors",
                           description="Installed connectors and their capabilities.")


class ConnectionListArgs(ListArgs):
    connector = fields.String()
    status = fields.String(validate=validate.OneOf(CONNECTION_STATUSES))
    name = fields.String(metadata={"description": "contains, case-insensitive"})


def _filters(query: Select[Any], args: dict[str, Any]) -> Select[Any]:
    return with_filters(query, args, {"connector": Connection.connector,
                                      "status": Connection.status}, {"name": Connection.name})


def _fee_rate(row: Connection, data: dict[str, Any]) -> Connection:
    if "fee_rate_bp" in data and row.fee_rate_bp != data["fee_rate_bp"]:
        row.fee_rate_bp = data["fee_rate_bp"]
    elif row.fee_rate_bp is None:
        row.fee_rate_bp = 0  # shown in the 201 before any flush
    return row


def _create(session: Session, tenant_id: int, data: dict[str, Any]) -> Connection:
    return _fee_rate(apply_connection(session, secret_box(), tenant_id, data), data)


def _update(session: Session, row: Connection, data: dict[str, Any]) -> Connection:
    return _fee_rate(apply_connection(session, secret_box(), row.tenant_id, data, row), data)


def _delete(session: Session, row: Connection) -> None:
    session.delete(row)


def dump_connection(row: Connection) -> dict[str, Any]:
    data = {name: getattr(row, name) for name in (
        "id", "tenant_id", "version", "created_at", "updated_at", "connector", "name", "status",
        "fee_rate_bp")}
    data["config"] = masked_config(secret_box(), row)
    return data


register_crud(blp, Resource(
    entity="connection", model=Connection, schema=ConnectionSchema,
    update_schema=ConnectionUpdateSchema, list_args=ConnectionListArgs, filters=_filters,
    create=_create, update=_update, delete=_delete, dump=dump_connection))


@connectors_blp.route("")
class Connectors(MethodView):
    @connectors_blp.response(200, ConnectorInfoSchema(many=True))
    def get(self) -> Any:
        db()  # authenticated like every other route
        return [{"key": c.key, "display_name": c.display_name,
                 "capabilities": sorted(c.capabilities), "secret_fields": sorted(c.secret_fields())}
                for c in sorted(registry().values(), key=lambda c: c.key)]
