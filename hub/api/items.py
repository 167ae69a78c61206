"""Items (상품): merchants' SKUs."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate
from sqlalchemy import Select
from sqlalchemy.orm import Session

from hub.api.common import Blueprint
from hub.api.crud import ListArgs, Resource, register_crud, tenant_of_reference, with_filters
from hub.models import Item, Merchant
from hub.models.item import ITEM_KINDS, TAX_CATEGORIES
from hub.schemas.common import IdFilter
from hub.schemas.item import ItemSchema
from hub.services import catalog

blp = Blueprint("items", __name__, url_prefix="/api/v1/items",
                description="Merchants' component products (SKUs).")


class ItemListArgs(ListArgs):
    merchant_id = IdFilter()
    sku = fields.String()
    name = fields.String(metadata={"description": "contains, case-insensitive"})
    kind = fields.String(validate=validate.OneOf(ITEM_KINDS))
    tax_category = fields.String(validate=validate.OneOf(TAX_CATEGORIES))
    status = fields.String()


def _filters(query: Select[Any], args: dict[str, Any]) -> Select[Any]:
    return with_filters(query, args, {"merchant_id": Item.merchant_id, "sku": Item.sku,
                                      "kind": Item.kind, "tax_category": Item.tax_category,
                                      "status": Item.status},
                        {"name": Item.name})


def _update(session: Session, row: Item, data: dict[str, Any]) -> Item:
    return catalog.apply_item(session, row.tenant_id, data, row)


register_crud(blp, Resource(
    entity="item", model=Item, schema=ItemSchema, list_args=ItemListArgs, filters=_filters,
    create=catalog.apply_item, update=_update, delete=catalog.delete_item,
    tenant_for_create=tenant_of_reference(Merchant, "merchant_id")))
