"""Subscription changes: pause, resume, skip, cadence, cancel, renew."""

from __future__ import annotations

from hub.api.common import Blueprint

blp = Blueprint("contract_actions", __name__, url_prefix="/api/v1/contracts",
                description="Subscription changes: pause, resume, skip, cadence, cancel, renew.")
