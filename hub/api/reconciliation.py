"""Channel settlement reports reconciled per order."""

from __future__ import annotations

from hub.api.common import Blueprint

blp = Blueprint("reconciliation", __name__, url_prefix="/api/v1/channel-reports",
                description="Channel settlement reports reconciled per order.")
