"""Delivery rounds (회차), pick lists, shipping and delivery marks."""

from __future__ import annotations

from hub.api.common import Blueprint

blp = Blueprint("rounds", __name__, url_prefix="/api/v1/rounds",
                description="Delivery rounds (회차), pick lists, shipping and delivery marks.")
