"""Scheduling every tenant's due rounds (회차 편성), run daily: each tenant on its own
calendar and in its own transaction, so tenants already done stay done if a later one fails."""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app
from sqlalchemy import select

from hub.db import session_scope, utcnow
from hub.models import Tenant
from hub.services.periods import local_day
from hub.services.rounds import DEFAULT_HORIZON_DAYS, schedule_rounds

__all__ = ["schedule_due_rounds"]

log = logging.getLogger("gudok.jobs.rounds")


def schedule_due_rounds(tenant_id: int | None = None,
                        horizon_days: int = DEFAULT_HORIZON_DAYS) -> dict[str, Any]:
    """Create the rounds due within the horizon for one tenant or all; runs in the app
    context. Returns the counts and the refused rounds, for the job log."""
    factory = current_app.extensions["gudok"].session_factory
    with session_scope(factory) as session:
        query = select(Tenant.id).order_by(Tenant.id)
        if tenant_id is not None:
            query = query.where(Tenant.id == tenant_id)
        tenant_ids = list(session.scalars(query))
    totals: dict[str, Any] = {"tenants": 0, "created": 0, "ended": 0, "refused": []}
    for one_id in tenant_ids:
        with session_scope(factory) as session:
            tenant = session.get_one(Tenant, one_id)
            report = schedule_rounds(session, one_id, local_day(tenant, utcnow()),
                                     horizon_days)
        totals["tenants"] += 1
        totals["created"] += report.created
        totals["ended"] += report.ended
        totals["refused"].extend({"tenant_id": one_id, "contract_id": r.contract_id,
                                  "scheduled_on": r.scheduled_on.isoformat(),
                                  "reason": r.reason} for r in report.refused)
    log.info("rounds scheduled: %s created, %s refused, %s contracts ended",
             totals["created"], len(totals["refused"]), totals["ended"])
    return totals
