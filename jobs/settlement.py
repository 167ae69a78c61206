"""The settlement run of one tenant and period, on the `settlement` queue: post every money
event waiting (a batch per transaction, so a killed run loses at most a batch, which the next
run posts again under the same keys), then, when asked, close the period.

A run is deterministic: what it posts depends only on the events and the periods' state, so
running it twice, or again after a worker was killed, gives byte-identical statements."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app
from rq import Queue, Retry
from rq.exceptions import DuplicateJobError

from hub.db import session_scope
from hub.models import Tenant
from hub.services.ledger import BATCH, Poster, pending
from hub.services.periods import period_row, valid_key
from hub.services.statements import close_period
from hub.services.vouchers import expire_vouchers, tenant_today

log = logging.getLogger(__name__)
RUNNER = "jobs.settlement.run_settlement"  # as RQ imports it
# Cancellations before refunds: a channel's refund of the rounds a cancellation left
# undelivered is then known as such, and not taken from the merchants.
STEPS = ("post_rounds", "post_vouchers", "post_cancellations", "post_claims")


@dataclass
class SettleReport:
    tenant: str
    period: str
    posted: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STEPS, 0))
    closed: bool = False
    digest: str | None = None
    expired: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"tenant": self.tenant, "period": self.period, "posted": self.posted,
                "vouchers_expired": self.expired, "closed": self.closed,
                "digest": self.digest}


def settle(tenant_id: int, period: str, *, close: bool = False, batch: int = BATCH,
           progress: Callable[[int], None] | None = None) -> SettleReport:
    """Post what is waiting, a batch per transaction; then close the period if asked.
    `progress` is told how many events each batch posted."""
    factory = current_app.extensions["gudok"].session_factory
    with session_scope(factory) as session:
        tenant = session.get_one(Tenant, tenant_id)
        if not valid_key(period, tenant.settlement_cycle):
            raise ValueError(f"{period!r} is not a {tenant.settlement_cycle} period")
        report = SettleReport(tenant.code, period)
        # Vouchers past their validity expire first, so their expiry rule is posted too.
        report.expired = expire_vouchers(session, tenant_id, tenant_today(session, tenant_id))
    for step in STEPS:
        while True:
            with session_scope(factory) as session:
                poster = Poster(session, session.get_one(Tenant, tenant_id))
                done = getattr(poster, step)(batch)
            report.posted[step] += done
            if progress is not None and done:
                progress(done)
            if done == 0:
                break
    with session_scope(factory) as session:
        tenant = session.get_one(Tenant, tenant_id)
        row = close_period(session, tenant, period) if close else \
            period_row(session, tenant, period)
        report.closed = row.status == "closed"
        report.digest = row.digest
    log.info("settlement of %s %s: %s", report.tenant, period, report.as_dict())
    return report


def waiting(tenant_id: int) -> int:
    """Money events waiting to be posted: the progress bar's total."""
    with session_scope(current_app.extensions["gudok"].session_factory) as session:
        return sum(pending(session, tenant_id).values())


def run_settlement(tenant_id: int, period: str, close: bool = False) -> dict[str, Any]:
    """What RQ runs on the settlement queue."""
    from jobs.runner import worker_app

    with worker_app().app_context():
        return settle(tenant_id, period, close=close).as_dict()


def queue_settlement(app: Flask, tenant_id: int, period: str, close: bool) -> str | None:
    """Queue a settlement run on RQ's settlement queue, once per (tenant, period, close);
    None when there is no Redis (the caller runs it in process)."""
    from hub.queue import JOB_TIMEOUT, redis_client

    redis = redis_client(app)
    if redis is None:
        return None
    job_id = f"settle-{tenant_id}-{period}{'-close' if close else ''}"
    with suppress(DuplicateJobError):  # the same run is already waiting or running
        Queue("settlement", connection=redis).enqueue(
            RUNNER, tenant_id, period, close, job_id=job_id, unique=True,
            job_timeout=JOB_TIMEOUT * 4, result_ttl=86400,
            retry=Retry(max=3, interval=[10, 60, 300]))
    return job_id

