"""POST /webhooks/<connection_id>: verify, store in the inbox with one insert, answer.

Senders retry on 5xx (Saleor only on 5xx), so 5xx means exactly "the database did not
take it, send it again"; a duplicate is 200, a bad signature 401, everything else 2xx or
4xx. Nothing else happens in the request but queueing the connection's drain job after the
commit (hub/queue.py: never raises; the sweeper queues it again if that failed)."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from requests.structures import CaseInsensitiveDict
from sqlalchemy import Insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from connectors import UnknownConnector, get_connector
from connectors.base import InboundDelivery, OrdersWebhook, WebhookSignatureError
from hub.api.problems import problem_response
from hub.errors import ConnectorFailure
from hub.models import Connection, InboxEntry
from hub.queue import enqueue
from hub.webhooks.context import close_context, connection_context

log = logging.getLogger("gudok.webhooks")
inbound = Blueprint("webhooks_inbound", __name__)
RETRY_AFTER_SECONDS = "30"


def _unavailable(detail: str) -> Response:
    return problem_response(503, "Service Unavailable", detail,
                            headers={"Retry-After": RETRY_AFTER_SECONDS})


def insert_delivery(session: Session, values: dict[str, Any]) -> bool:
    """One INSERT that the unique (connection, delivery key) turns into a no-op for a
    duplicate; True when the row is new."""
    dialect = session.get_bind().dialect.name
    statement: Insert
    if dialect == "postgresql":
        statement = postgresql.insert(InboxEntry).values(**values).on_conflict_do_nothing(
            index_elements=["connection_id", "delivery_key"])
    elif dialect == "sqlite":
        statement = sqlite.insert(InboxEntry).values(**values).on_conflict_do_nothing(
            index_elements=["connection_id", "delivery_key"])
    else:  # pragma: no cover - the hub runs on these two
        raise RuntimeError(f"no duplicate-ignoring insert for {dialect}")
    inserted = session.execute(statement.returning(InboxEntry.id)).scalar_one_or_none()
    return inserted is not None


@inbound.post("/webhooks/<int:connection_id>")
def receive(connection_id: int) -> Response:
    session: Session = current_app.extensions["gudok"].session()
    try:
        row = session.scalar(select(Connection).where(Connection.id == connection_id))
    except SQLAlchemyError:
        session.rollback()
        log.exception("webhook for connection %s: database unavailable", connection_id)
        return _unavailable("The hub cannot store deliveries right now; send it again.")
    if row is None or row.status == "disabled":
        return problem_response(404, "Not Found", "No such connection.")
    try:
        connector: Any = get_connector(row.connector)()
    except UnknownConnector:
        return problem_response(404, "Not Found", "No such connection.")
    if "orders.webhook" not in connector.capabilities or \
            not isinstance(connector, OrdersWebhook):
        return problem_response(404, "Not Found", "This connection receives no webhooks.")
    body = request.get_data(cache=False)
    ctx = connection_context(row)
    try:
        delivery: InboundDelivery = connector.verify_webhook(
            ctx, CaseInsensitiveDict(request.headers.items()), body)
    except WebhookSignatureError as error:
        # Malformed signature headers or body are a 400, a wrong signature a 401.
        status = int(getattr(error, "status", 401))
        return problem_response(status, "Bad Request" if status == 400 else "Unauthorized",
                                str(error))
    except ConnectorFailure as error:
        # Keys could not be fetched or checked now: the delivery may be genuine.
        log.warning("webhook for connection %s not verified now: %s", connection_id,
                    error.message)
        return _unavailable("The signature cannot be checked right now; send it again.")
    finally:
        close_context(ctx)
    values = {"tenant_id": row.tenant_id, "connection_id": row.id,
              "delivery_key": delivery.delivery_key, "event": delivery.event[:100],
              "body": delivery.body, "received_at": delivery.received_at,
              "status": "pending", "attempts": 0}
    try:
        created = insert_delivery(session, values)
        session.commit()
    except SQLAlchemyError:
        session.rollback()
        log.exception("webhook for connection %s: inbox insert failed (request %s)",
                      connection_id, g.get("request_id"))
        return _unavailable("The hub could not store the delivery; send it again.")
    if created:
        # After the commit: the row is safe whatever happens to the queue, and a drain job
        # already waiting for this connection takes it too (a unique job id per connection).
        enqueue(current_app._get_current_object(), "drain", row.id)  # type: ignore[attr-defined]
    response = jsonify({"status": "accepted" if created else "duplicate",
                        "delivery_key": delivery.delivery_key})
    response.status_code = 202 if created else 200
    return response
