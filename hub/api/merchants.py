"""Merchants (소상공인)."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate
from sqlalchemy import Select
from sqlalchemy.orm import Session

from hub.api.common import Blueprint, secret_box
from hub.api.crud import ListArgs, Resource, register_crud, with_filters
from hub.models import Merchant
from hub.models.merchant import TAX_TYPES
from hub.schemas.common import BusinessNumber
from hub.schemas.merchant import MerchantSchema
from hub.services import catalog

blp = Blueprint("merchants", __name__, url_prefix="/api/v1/merchants",
                description="Small merchants supplying items, paid in settlement.")


class MerchantListArgs(ListArgs):
    name = fields.String(metadata={"description": "contains, case-insensitive"})
    tax_type = fields.String(validate=validate.OneOf(TAX_TYPES))
    business_number = BusinessNumber()
    status = fields.String()


def _filters(query: Select[Any], args: dict[str, Any]) -> Select[Any]:
    return with_filters(query, args, {"tax_type": Merchant.tax_type,
                                      "business_number": Merchant.business_number,
                                      "status": Merchant.status},
                        {"name": Merchant.name})


def _create(session: Session, tenant_id: int, data: dict[str, Any]) -> Merchant:
    return catalog.apply_merchant(session, secret_box(), tenant_id, data)


def _update(session: Session, row: Merchant, data: dict[str, Any]) -> Merchant:
    return catalog.apply_merchant(session, secret_box(), row.tenant_id, data, row)


register_crud(blp, Resource(
    entity="merchant", model=Merchant, schema=MerchantSchema, list_args=MerchantListArgs,
    filters=_filters, create=_create, update=_update, delete=catalog.delete_merchant))
