"""Plans (구독 옵션): cadence, prepaid rounds, term, price and funded discounts."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate
from sqlalchemy import Select
from sqlalchemy.orm import Session

from hub.api.common import Blueprint
from hub.api.crud import ListArgs, Resource, register_crud, tenant_of_reference, with_filters
from hub.models import Box, Plan
from hub.models.plan import CADENCES
from hub.schemas.common import IdFilter
from hub.schemas.plan import PlanSchema
from hub.services import catalog

blp = Blueprint("plans", __name__, url_prefix="/api/v1/plans",
                description="Subscription options of a box.")


class PlanListArgs(ListArgs):
    box_id = IdFilter()
    code = fields.String()
    cadence = fields.String(validate=validate.OneOf(CADENCES))
    status = fields.String()


def _filters(query: Select[Any], args: dict[str, Any]) -> Select[Any]:
    return with_filters(query, args, {"box_id": Plan.box_id, "code": Plan.code,
                                      "cadence": Plan.cadence, "status": Plan.status})


def _terms(row: Plan, data: dict[str, Any]) -> Plan:
    """What happens on early cancellation and at the end of the term."""
    for name, default in (("clawback", "none"), ("at_term_end", "renew")):
        if name in data and getattr(row, name) != data[name]:
            setattr(row, name, data[name])
        elif getattr(row, name) is None:
            setattr(row, name, default)  # shown in the 201 before any flush
    return row


def _create(session: Session, tenant_id: int, data: dict[str, Any]) -> Plan:
    return _terms(catalog.apply_plan(session, tenant_id, data), data)


def _update(session: Session, row: Plan, data: dict[str, Any]) -> Plan:
    return _terms(catalog.apply_plan(session, row.tenant_id, data, row), data)


register_crud(blp, Resource(
    entity="plan", model=Plan, schema=PlanSchema, list_args=PlanListArgs, filters=_filters,
    create=_create, update=_update, delete=catalog.delete_plan,
    tenant_for_create=tenant_of_reference(Box, "box_id")))
