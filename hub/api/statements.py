"""Merchant statements per settlement period, as JSON, CSV and PDF."""

from __future__ import annotations

from hub.api.common import Blueprint

blp = Blueprint("statements", __name__, url_prefix="/api/v1/statements",
                description="Merchant statements per settlement period, as JSON, CSV and PDF.")
