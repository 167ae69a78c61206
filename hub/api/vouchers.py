"""Tourism vouchers issued by delivered rounds, and their redemption."""

from __future__ import annotations

from hub.api.common import Blueprint

blp = Blueprint("vouchers", __name__, url_prefix="/api/v1/vouchers",
                description="Tourism vouchers issued by delivered rounds, and their redemption.")
