"""After a commit, queue the jobs its changes call for: a catalog change queues the push to
each mall and the notifications of each platform of the tenant; a queued notification
queues its delivery. Queueing only speeds things up: the rows are committed already, and the
sweeper queues the same jobs if this did not (no app, no queue, Redis down).

The jobs are worked out while the session flushes (after its commit it cannot read), and
queued after the commit, never before: a job must see what it was queued for."""

from __future__ import annotations

from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker

__all__ = ["changed_tenant", "install", "queued_notification"]

JOBS = "gudok.jobs_after_commit"
TENANTS = "gudok.changed_tenants"
# Which job a catalog change calls for, by connector.
ON_CATALOG_CHANGE = {"saleor": "push", "partner": "notify"}


def install(factory: sessionmaker[Session]) -> None:
    event.listen(factory, "after_commit", _after_commit)
    event.listen(factory, "after_soft_rollback", _forget)


def _jobs(session: Session) -> set[tuple[str, int]]:
    jobs: set[tuple[str, int]] = session.info.setdefault(JOBS, set())
    return jobs


def changed_tenant(session: Session, tenant_id: int) -> None:
    """Called during a flush that wrote catalog changes of the tenant."""
    seen: set[int] = session.info.setdefault(TENANTS, set())
    if tenant_id in seen or not has_app_context():
        return
    seen.add(tenant_id)
    from hub.models import Connection

    with session.no_autoflush:
        rows = session.execute(select(Connection.id, Connection.connector).where(
            Connection.tenant_id == tenant_id, Connection.status == "active",
            Connection.connector.in_(ON_CATALOG_CHANGE))).all()
    _jobs(session).update((ON_CATALOG_CHANGE[connector], int(connection_id))
                          for connection_id, connector in rows)


def queued_notification(session: Session, connection_id: int) -> None:
    _jobs(session).add(("deliver", int(connection_id)))


def _forget(session: Session, _previous: Any) -> None:
    session.info.pop(JOBS, None)
    session.info.pop(TENANTS, None)


def _after_commit(session: Session) -> None:
    jobs: set[tuple[str, int]] = session.info.pop(JOBS, set())
    session.info.pop(TENANTS, None)
    if not jobs or not has_app_context():
        return
    from hub.queue import enqueue

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    for job, connection_id in sorted(jobs):
        enqueue(app, job, connection_id)
