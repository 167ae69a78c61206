"""Tenants (지자체): admin tokens only."""

from __future__ import annotations

from typing import Any

from flask import current_app
from marshmallow import fields
from sqlalchemy import Select
from sqlalchemy.orm import Session

from hub.api.auth import require_admin
from hub.api.common import Blueprint
from hub.api.crud import ListArgs, Resource, register_crud, with_filters
from hub.api.problems import ApiProblem
from hub.models import Tenant
from hub.schemas.tenant import TenantSchema, TenantUpdateSchema
from hub.services.validation import RecordInvalid

blp = Blueprint("tenants", __name__, url_prefix="/api/v1/tenants",
                description="Municipal programmes (admin only).")


@blp.before_request
def _admin_only() -> None:
    require_admin()


class TenantListArgs(ListArgs):
    code = fields.String()


def _filters(query: Select[Any], args: dict[str, Any]) -> Select[Any]:
    return with_filters(query, args, {"code": Tenant.code})


def _create(session: Session, _tenant_id: int, data: dict[str, Any]) -> Tenant:
    if session.query(Tenant.id).filter(Tenant.code == data["code"]).first():
        raise RecordInvalid.at("code", "A tenant with this code exists.")
    settings = current_app.extensions["gudok"].settings
    row = Tenant(time_zone=settings.default_time_zone, settlement_cycle="monthly")
    return _update(session, row, data, add=True)


_FIELDS = ("code", "name", "time_zone", "settlement_cycle", "order_cutoff_days", "min_payout",
           "courier_cost_per_box", "shipping_subsidy_per_box", "fee_vat_bp")
_DEFAULTS = {"order_cutoff_days": 2, "min_payout": 10000, "courier_cost_per_box": 0,
             "shipping_subsidy_per_box": 0, "fee_vat_bp": 1000}


def _update(session: Session, row: Tenant, data: dict[str, Any], add: bool = False) -> Tenant:
    for name in _FIELDS:
        if name in data and getattr(row, name) != data[name]:
            setattr(row, name, data[name])
    for name, default in _DEFAULTS.items():  # shown in the 201 before any flush
        if getattr(row, name) is None:
            setattr(row, name, default)
    if row.shipping_subsidy_per_box > row.courier_cost_per_box:
        message = "The shipping subsidy per box must not exceed the courier cost per box."
        raise ApiProblem(400, "Invalid request", message, errors=[
            {"path": "shipping_subsidy_per_box", "message": message},
            {"path": "courier_cost_per_box", "message": message}])
    if add:
        session.add(row)
    return row


register_crud(blp, Resource(
    entity="tenant", model=Tenant, schema=TenantSchema, update_schema=TenantUpdateSchema,
    list_args=TenantListArgs, filters=_filters, create=_create, update=_update,
    tenant_for_create=lambda _data: 0, admin_only=True))
