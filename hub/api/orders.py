"""Orders taken on every channel, and the contracts they started (read-only: orders come
from the channels, through the inbox)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import fields, validate
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from hub.api.auth import scope, visible
from hub.api.common import Blueprint, db
from hub.api.crud import with_filters
from hub.api.pagination import ListArgs, page, page_schema, paginate
from hub.models import Contract, Order
from hub.models.order import CONTRACT_STATUSES, ORDER_STATUSES
from hub.schemas.common import IdFilter
from hub.schemas.order import ContractSchema, OrderSchema

blp = Blueprint("orders", __name__, url_prefix="/api/v1/orders",
                description="Orders from the mall and the platforms, with the box version and "
                            "plan each line was sold with. Customers are shown masked only.")
contracts_blp = Blueprint("contracts", __name__, url_prefix="/api/v1/contracts",
                          description="Subscriptions (구독 계약) started by paid order lines.")


class OrderArgs(ListArgs):
    connection = IdFilter(metadata={"description": "the channel's connection id"})
    external_id = fields.String(validate=validate.Length(min=1, max=200),
                                metadata={"description": "the platform's order id"})
    status = fields.String(validate=validate.OneOf(ORDER_STATUSES))


class ContractArgs(ListArgs):
    order = IdFilter(metadata={"description": "the order's id"})
    status = fields.String(validate=validate.OneOf(CONTRACT_STATUSES))


OrderPage = page_schema(OrderSchema, "OrderPage")
ContractPage = page_schema(ContractSchema, "ContractPage")


@blp.route("")
class Orders(MethodView):
    @blp.arguments(OrderArgs, location="query")
    @blp.response(200, OrderPage)
    def get(self, args: dict[str, Any]) -> Any:
        """Orders, oldest first."""
        query = with_filters(select(Order).options(selectinload(Order.claims)), args, {
            "connection": Order.connection_id, "external_id": Order.external_id,
            "status": Order.status})
        rows, next_cursor = paginate(db(), scope(query, Order.tenant_id, args), Order.id, args)
        return page(rows, next_cursor)


@blp.route("/<int:order_id>")
class OrderMember(MethodView):
    @blp.response(200, OrderSchema)
    def get(self, order_id: int) -> Any:
        return visible(db().get(Order, order_id))


@contracts_blp.route("")
class Contracts(MethodView):
    @contracts_blp.arguments(ContractArgs, location="query")
    @contracts_blp.response(200, ContractPage)
    def get(self, args: dict[str, Any]) -> Any:
        """Contracts, oldest first; `?status=active` are the running subscriptions."""
        query = with_filters(select(Contract), args, {"order": Contract.order_id,
                                                      "status": Contract.status})
        rows, next_cursor = paginate(db(), scope(query, Contract.tenant_id, args),
                                     Contract.id, args)
        return page(rows, next_cursor)
