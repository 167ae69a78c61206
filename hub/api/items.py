"""Items (상품): merchants' SKUs."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate
from sqlalchemy import Select
from sqlalchemy.orm import Session

from hub.api.common import Blueprint
from hub.api.crud import ListArgs, Resource, register_crud, tenant_of_reference, with_filters
from hub.api.problems import ApiProblem
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


VOUCHER_FIELDS = ("voucher_valid_days", "voucher_expiry_share_bp")


def _voucher_terms(row: Item, data: dict[str, Any]) -> Item:
    """Voucher terms mean something only on a voucher item; a physical item refuses them."""
    for name in VOUCHER_FIELDS:
        if name in data and getattr(row, name) != data[name]:
            setattr(row, name, data[name])
    if row.kind != "voucher":
        errors = [{"path": name, "message": "Only for items of kind voucher; send null."}
                  for name in VOUCHER_FIELDS if getattr(row, name) is not None]
        if errors:
            raise ApiProblem(400, "Invalid request",
                             "Voucher terms are only for items of kind voucher.", errors=errors)
    return row


def _create(session: Session, tenant_id: int, data: dict[str, Any]) -> Item:
    return _voucher_terms(catalog.apply_item(session, tenant_id, data), data)


def _update(session: Session, row: Item, data: dict[str, Any]) -> Item:
    return _voucher_terms(catalog.apply_item(session, row.tenant_id, data, row), data)


register_crud(blp, Resource(
    entity="item", model=Item, schema=ItemSchema, list_args=ItemListArgs, filters=_filters,
    create=_create, update=_update, delete=catalog.delete_item,
    tenant_for_create=tenant_of_reference(Merchant, "merchant_id")))
