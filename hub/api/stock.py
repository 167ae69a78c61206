"""Stock locations and stock levels per item and location."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import fields, validate
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from hub.api.auth import principal, scope, visible
from hub.api.common import Blueprint, audited, db, write
from hub.api.crud import ListArgs, Resource, register_crud, with_filters
from hub.api.pagination import page, page_schema, paginate
from hub.models import Item, StockLevel, StockLocation, StockMovement
from hub.models.stock import LOCATION_KINDS
from hub.schemas.common import IdFilter
from hub.schemas.stock import (
    StockAdjustSchema,
    StockLevelSchema,
    StockLocationSchema,
    StockMovementSchema,
    StockSetSchema,
)
from hub.services import catalog, stock
from hub.services.audit import snapshot
from hub.services.validation import Conflict

locations = Blueprint("stock_locations", __name__, url_prefix="/api/v1/stock-locations",
                      description="Where stock is kept, e.g. a municipal logistics centre.")
levels = Blueprint("stock_levels", __name__, url_prefix="/api/v1/stock-levels",
                   description="On-hand stock per item and location.")


class LocationListArgs(ListArgs):
    code = fields.String()
    kind = fields.String(validate=validate.OneOf(LOCATION_KINDS))


def _location_filters(query: Select[Any], args: dict[str, Any]) -> Select[Any]:
    return with_filters(query, args, {"code": StockLocation.code, "kind": StockLocation.kind})


@catalog.no_autoflush
def _apply_location(session: Session, row: StockLocation, data: dict[str, Any]) -> StockLocation:
    for name in ("code", "name", "address", "kind"):
        if name in data:
            setattr(row, name, data[name])
    session.add(row)
    catalog.reject_duplicate(session, row, StockLocation.code, "code")
    return row


def _create_location(session: Session, tenant_id: int, data: dict[str, Any]) -> StockLocation:
    return _apply_location(session, StockLocation(tenant_id=tenant_id,
                                                  kind="logistics_centre"), data)


def _delete_location(session: Session, row: StockLocation) -> None:
    held = session.scalar(select(StockLevel.id).where(
        StockLevel.location_id == row.id, StockLevel.on_hand > 0).limit(1))
    if held is not None:
        raise Conflict("Stock is still held here; move or write it off first.")
    for level in session.scalars(select(StockLevel).where(StockLevel.location_id == row.id)):
        session.delete(level)
    session.delete(row)


register_crud(locations, Resource(
    entity="location", model=StockLocation, schema=StockLocationSchema,
    list_args=LocationListArgs, filters=_location_filters, create=_create_location,
    update=_apply_location, delete=_delete_location))


class LevelListArgs(ListArgs):
    item_id = IdFilter()
    location_id = IdFilter()


LevelPage = page_schema(StockLevelSchema, "StockLevelPage")
MovementPage = page_schema(StockMovementSchema, "StockMovementPage")


def _write_tenant(item_id: int) -> int:
    p = principal()
    if not p.is_admin:
        assert p.tenant_id is not None
        return p.tenant_id
    item = db().get(Item, item_id)
    return item.tenant_id if item is not None else -1


def _level_before(data: dict[str, Any]) -> dict[str, Any] | None:
    level = db().scalar(select(StockLevel).where(StockLevel.item_id == data["item_id"],
                                                 StockLevel.location_id == data["location_id"]))
    return snapshot(level) if level is not None else None


@levels.route("")
class StockLevels(MethodView):
    @levels.arguments(LevelListArgs, location="query")
    @levels.response(200, LevelPage)
    def get(self, args: dict[str, Any]) -> Any:
        query = with_filters(select(StockLevel), args, {"item_id": StockLevel.item_id,
                                                        "location_id": StockLevel.location_id})
        rows, next_cursor = paginate(db(), scope(query, StockLevel.tenant_id, args),
                                     StockLevel.id, args)
        return page(rows, next_cursor)

    @levels.arguments(StockSetSchema)
    @levels.response(200, StockLevelSchema)
    def put(self, data: dict[str, Any]) -> Any:
        """Set the absolute on-hand count of an item at a location (e.g. after a count)."""
        tenant_id = _write_tenant(data["item_id"])
        before = _level_before(data)
        with write() as session:
            level = stock.set_stock(session, tenant_id, data["item_id"], data["location_id"],
                                    data["on_hand"], data.get("reason"), principal().actor)
            audited(session, "stock.set", "stock_level", level, before)
        return level


@levels.route("/adjust")
class StockAdjust(MethodView):
    @levels.arguments(StockAdjustSchema)
    @levels.response(200, StockLevelSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Add or remove stock with a reason (received, damaged, counted...)."""
        tenant_id = _write_tenant(data["item_id"])
        before = _level_before(data)
        with write() as session:
            level = stock.adjust_stock(session, tenant_id, data["item_id"],
                                       data["location_id"], data["delta"], data["reason"],
                                       principal().actor)
            audited(session, "stock.adjust", "stock_level", level, before)
        return level


@levels.route("/<int:level_id>/movements")
class StockMovements(MethodView):
    @levels.arguments(ListArgs, location="query")
    @levels.response(200, MovementPage)
    def get(self, args: dict[str, Any], level_id: int) -> Any:
        level = visible(db().get(StockLevel, level_id))
        query = select(StockMovement).where(StockMovement.stock_level_id == level.id)
        rows, next_cursor = paginate(db(), query, StockMovement.id, args)
        return page(rows, next_cursor)
