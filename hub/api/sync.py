"""A connection's sync as the operator drives it: health, replaying dead rows, pause and
resume."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView

from hub.api.auth import visible
from hub.api.common import Blueprint, audited, db, write
from hub.api.connections import dump_connection
from hub.api.problems import ApiProblem
from hub.models import Connection
from hub.queue import redis_client
from hub.schemas.connection import ConnectionSchema
from hub.schemas.sync import RetriedSchema, RetrySchema, SyncHealthSchema
from hub.services.audit import snapshot
from hub.services.sync_status import connection_health, retry_dead

blp = Blueprint("sync", __name__, url_prefix="/api/v1/connections",
                description="Each connection's sync: health, replay, pause and resume.")


def _redis() -> Any:
    return redis_client(current_app._get_current_object())  # type: ignore[attr-defined]


def _kick(connection_id: int) -> None:
    """Queue the connection's jobs now rather than at the next sweep."""
    try:
        from jobs.sweeper import kick
    except ImportError:
        return
    kick(current_app._get_current_object(), connection_id)  # type: ignore[attr-defined]


@blp.route("/<int:connection_id>/sync")
class Sync(MethodView):
    @blp.response(200, SyncHealthSchema)
    def get(self, connection_id: int) -> Any:
        """Last success and lag per stream, pending and dead rows, the circuit, and the last
        error with its class."""
        connection = visible(db().get(Connection, connection_id))
        settings = current_app.extensions["gudok"].settings
        return connection_health(db(), connection, settings, _redis())


@blp.route("/<int:connection_id>/sync/retry")
class Retry(MethodView):
    @blp.arguments(RetrySchema)
    @blp.response(200, RetriedSchema)
    def post(self, data: dict[str, Any], connection_id: int) -> Any:
        """Put dead inbox rows and dead notifications back in line, attempts reset."""
        connection = visible(db().get(Connection, connection_id))
        with write() as session:
            counts = retry_dead(session, connection.id, inbox=data["inbox"],
                                outbox=data["outbox"])
            audited(session, "retry", "connection", connection, None)
        _kick(connection.id)
        return counts


def _set_status(connection_id: int, wanted: str, allowed_from: tuple[str, ...]) -> Any:
    connection = visible(db().get(Connection, connection_id))
    if connection.status == wanted:
        return dump_connection(connection)
    if connection.status not in allowed_from:
        raise ApiProblem(409, "Conflict", f"A {connection.status} connection cannot be "
                                          f"set {wanted} here; change its status instead.")
    before = snapshot(connection)
    with write() as session:
        connection.status = wanted
        audited(session, "pause" if wanted == "paused" else "resume", "connection",
                connection, before)
    if wanted == "active":
        _kick(connection.id)
    return dump_connection(connection)


@blp.route("/<int:connection_id>/pause")
class Pause(MethodView):
    @blp.response(200, ConnectionSchema)
    def post(self, connection_id: int) -> Any:
        """Stop sending to the platform (its webhooks are still taken in)."""
        return _set_status(connection_id, "paused", ("active",))


@blp.route("/<int:connection_id>/resume")
class Resume(MethodView):
    @blp.response(200, ConnectionSchema)
    def post(self, connection_id: int) -> Any:
        """Send again, starting with what waited meanwhile."""
        return _set_status(connection_id, "active", ("paused",))
