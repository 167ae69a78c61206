"""Coupon campaigns and who funds them."""

from __future__ import annotations

from hub.api.common import Blueprint

blp = Blueprint("coupons", __name__, url_prefix="/api/v1/coupons",
                description="Coupon campaigns and who funds them.")
