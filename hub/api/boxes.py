"""Boxes (꾸러미) with versioned components."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import fields, validate
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from hub.api.auth import visible
from hub.api.common import Blueprint, db
from hub.api.crud import ListArgs, Resource, register_crud, with_filters
from hub.api.problems import field_error
from hub.models import Box, BoxVersion, Item, StockLocation
from hub.models.box import BOX_CATEGORIES, BOX_STATUSES
from hub.schemas.box import BoxSchema, BoxVersionSchema
from hub.services import catalog

blp = Blueprint("boxes", __name__, url_prefix="/api/v1/boxes",
                description="Subscription boxes; changing components makes a new version.")


class BoxListArgs(ListArgs):
    code = fields.String()
    status = fields.String(validate=validate.OneOf(BOX_STATUSES))
    category = fields.String(validate=validate.OneOf(BOX_CATEGORIES))
    title = fields.String(metadata={"description": "contains, case-insensitive"})


def _filters(query: Select[Any], args: dict[str, Any]) -> Select[Any]:
    return with_filters(query, args, {"code": Box.code, "status": Box.status,
                                      "category": Box.category}, {"title": Box.title})


def _components(session: Session, version: BoxVersion | None) -> list[dict[str, Any]]:
    if version is None:
        return []
    skus = dict(session.execute(select(Item.id, Item.sku).where(
        Item.id.in_([c.item_id for c in version.components]))).all())
    return [{"item_id": c.item_id, "sku": skus.get(c.item_id), "quantity": c.quantity,
             "weight": c.weight} for c in version.components]


def dump_box(row: Box) -> dict[str, Any]:
    data = {name: getattr(row, name) for name in (
        "id", "tenant_id", "version", "created_at", "updated_at", "code", "title",
        "description", "images", "category", "capacity_per_round", "status",
        "packed_at_id")}
    data["components"] = _components(db(), row.current_version)
    data["current_version"] = row.current_version.number if row.current_version else None
    return data


def _packed_at(session: Session, row: Box, data: dict[str, Any]) -> Box:
    """Boxes are packed at a stock location of their own tenant, or nowhere in particular."""
    if "packed_at_id" not in data:
        return row
    location_id = data["packed_at_id"]
    if location_id is not None:
        with session.no_autoflush:
            location = session.get(StockLocation, location_id)
        if location is None or location.tenant_id != row.tenant_id:
            raise field_error("packed_at_id", f"No stock location with id {location_id} here.")
    if row.packed_at_id != location_id:
        row.packed_at_id = location_id
    return row


def _create(session: Session, tenant_id: int, data: dict[str, Any]) -> Box:
    return _packed_at(session, catalog.apply_box(session, tenant_id, data), data)


def _update(session: Session, row: Box, data: dict[str, Any]) -> Box:
    return _packed_at(session, catalog.apply_box(session, row.tenant_id, data, row), data)


register_crud(blp, Resource(
    entity="box", model=Box, schema=BoxSchema, list_args=BoxListArgs, filters=_filters,
    create=_create, update=_update, delete=catalog.delete_box, dump=dump_box))


@blp.route("/<int:box_id>/versions")
class BoxVersions(MethodView):
    @blp.response(200, BoxVersionSchema(many=True))
    def get(self, box_id: int) -> Any:
        """Every composition the box has had, oldest first; orders keep theirs."""
        box = visible(db().get(Box, box_id))
        versions = db().scalars(select(BoxVersion).where(BoxVersion.box_id == box.id)
                                .order_by(BoxVersion.number))
        return [{"number": v.number, "created_at": v.created_at,
                 "components": _components(db(), v)} for v in versions]
