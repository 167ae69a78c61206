"""Coupon campaigns and who funds them: operators and admins write, viewers read.

A coupon takes a rate (percent_bp) or an amount off an order, never both. Its code is unique
within the tenant; a coupon an order used stays, since that order's money refers to it."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from flask import request
from flask.views import MethodView
from marshmallow import fields, validate
from sqlalchemy import select

from hub.api.auth import require_role, scope, visible, write_tenant_id
from hub.api.common import Blueprint, audited, db, write
from hub.api.crud import with_filters
from hub.api.pagination import ListArgs, page, page_schema, paginate
from hub.api.problems import ApiProblem
from hub.models import Coupon, Order
from hub.models.settlement import COUPON_FUNDERS
from hub.schemas.coupon import CouponSchema, CouponUpdateSchema
from hub.services.audit import snapshot

blp = Blueprint("coupons", __name__, url_prefix="/api/v1/coupons",
                description="Coupon campaigns and who funds them.")

_FIELDS = ("code", "label", "funder", "percent_bp", "amount")


@blp.before_request
def _roles() -> None:
    require_role("operator", "viewer")


class CouponListArgs(ListArgs):
    code = fields.String(validate=validate.Length(min=1, max=64))
    funder = fields.String(validate=validate.OneOf(COUPON_FUNDERS))


def etag_of_coupon(row: Coupon) -> str:
    """Coupons carry no version column: their ETag is a digest of what they hold."""
    values = {name: getattr(row, name) for name in ("id", *_FIELDS)}
    encoded = json.dumps(values, sort_keys=True, ensure_ascii=False).encode()
    return f'"c{hashlib.sha256(encoded).hexdigest()[:20]}"'


def _check_if_match(row: Coupon) -> None:
    header = request.headers.get("If-Match")
    if header is None:
        return
    candidates = {part.strip() for part in header.split(",")}
    if "*" not in candidates and etag_of_coupon(row) not in candidates:
        raise ApiProblem(412, "Precondition Failed",
                         "The coupon changed since you read it; fetch it again and retry.",
                         headers={"ETag": etag_of_coupon(row)})


def _apply(row: Coupon, data: dict[str, Any]) -> None:
    """Set the given fields, then check the coupon as a whole (400 with field paths)."""
    for name in _FIELDS:
        if name in data and getattr(row, name) != data[name]:
            setattr(row, name, data[name])
    if (row.percent_bp is None) == (row.amount is None):
        message = ("Give either percent_bp or amount, not both." if row.amount is not None
                   else "One of percent_bp or amount is required.")
        raise ApiProblem(400, "Invalid request", message, errors=[
            {"path": "percent_bp", "message": message}, {"path": "amount", "message": message}])
    session = db()
    with session.no_autoflush:
        other = session.scalar(select(Coupon.id).where(
            Coupon.tenant_id == row.tenant_id, Coupon.code == row.code,
            Coupon.id != row.id if row.id is not None else Coupon.id.is_not(None)))
    if other is not None:
        raise ApiProblem(409, "Conflict", f"Coupon {other} already has this code.",
                         errors=[{"path": "code", "message": "Already used in this tenant."}])


@blp.route("")
class Coupons(MethodView):
    @blp.arguments(CouponListArgs, location="query")
    @blp.response(200, page_schema(CouponSchema, "CouponPage"))
    def get(self, args: dict[str, Any]) -> Any:
        query = with_filters(select(Coupon), args, {"code": Coupon.code,
                                                    "funder": Coupon.funder})
        rows, next_cursor = paginate(db(), scope(query, Coupon.tenant_id, args), Coupon.id,
                                     args)
        return page(rows, next_cursor)

    @blp.arguments(CouponSchema)
    @blp.response(201, CouponSchema)
    def post(self, data: dict[str, Any]) -> Any:
        row = Coupon(tenant_id=write_tenant_id(data.pop("tenant", None)))
        with write() as session:
            _apply(row, data)
            session.add(row)
            audited(session, "create", "coupon", row, None)
        return row, 201, {"ETag": etag_of_coupon(row)}


@blp.route("/<int:coupon_id>")
class CouponMember(MethodView):
    @blp.response(200, CouponSchema)
    def get(self, coupon_id: int) -> Any:
        row = visible(db().get(Coupon, coupon_id))
        return row, 200, {"ETag": etag_of_coupon(row)}

    @blp.arguments(CouponUpdateSchema(partial=True))
    @blp.response(200, CouponSchema)
    def patch(self, data: dict[str, Any], coupon_id: int) -> Any:
        row = visible(db().get(Coupon, coupon_id))
        _check_if_match(row)
        before = snapshot(row)
        with write() as session:
            _apply(row, data)
            audited(session, "update", "coupon", row, before)
        return row, 200, {"ETag": etag_of_coupon(row)}

    @blp.response(204)
    def delete(self, coupon_id: int) -> Any:
        row = visible(db().get(Coupon, coupon_id))
        _check_if_match(row)
        before = snapshot(row)
        with write() as session:
            if session.scalar(select(Order.id).where(Order.coupon_id == row.id).limit(1)):
                raise ApiProblem(409, "Conflict", "Orders used this coupon; it stays.")
            audited(session, "delete", "coupon", row, before)
            session.delete(row)
        return None
