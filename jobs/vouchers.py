"""The daily voucher expiry: every tenant's issued vouchers past their last valid day (in the
tenant's own calendar) become expired, each tenant in its own transaction."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import select

from hub.db import session_scope, utcnow
from hub.models import Tenant
from hub.services.vouchers import expire_vouchers, tenant_today

__all__ = ["expire_all"]


def expire_all(now: datetime | None = None) -> dict[int, int]:
    """Expire due vouchers of every tenant; returns how many per tenant id (runs in the app
    context; running it again the same day changes nothing)."""
    factory = current_app.extensions["gudok"].session_factory
    now = now or utcnow()
    with session_scope(factory) as session:
        tenant_ids = list(session.scalars(select(Tenant.id).order_by(Tenant.id)))
    expired: dict[int, int] = {}
    for tenant_id in tenant_ids:
        with session_scope(factory) as session:
            expired[tenant_id] = expire_vouchers(session, tenant_id,
                                                 tenant_today(session, tenant_id, now), now)
    return expired
