"""The hub as a Saleor App: the manifest Saleor installs from, the register endpoint that
receives the app token, and the small page Saleor's dashboard frames."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from connectors.saleor import adapters
from connectors.saleor.client import SaleorClient
from connectors.saleor.manifest import app_manifest
from hub.api.problems import problem_response
from hub.errors import ConfigurationError, ConnectorFailure
from hub.models import Connection
from hub.services import audit
from hub.services.connections import apply_connection
from hub.webhooks.context import close_context, connection_context

log = logging.getLogger("gudok.webhooks.saleor")
saleor_app = Blueprint("saleor_app", __name__)
INSTALL_ACTOR = "saleor:install"
MAX_TOKEN_LENGTH = 2000


def _saleor_connection(session: Session, connection_id: int) -> Connection | None:
    row = session.scalar(select(Connection).where(Connection.id == connection_id))
    if row is None or row.connector != "saleor" or row.status == "disabled":
        return None
    return row


def _same_api_url(given: str, configured: str) -> bool:
    return given.strip().rstrip("/") == configured.strip().rstrip("/")


@saleor_app.get("/saleor/<int:connection_id>/manifest")
def manifest(connection_id: int) -> Response:
    session: Session = current_app.extensions["gudok"].session()
    if _saleor_connection(session, connection_id) is None:
        return problem_response(404, "Not Found", "No such Saleor connection.")
    return jsonify(app_manifest(connection_id, request.url_root))


@saleor_app.get("/saleor/<int:connection_id>/app")
def app_page(connection_id: int) -> Response:
    """What the mall's dashboard shows in the app's frame: the hub has no UI there."""
    session: Session = current_app.extensions["gudok"].session()
    if _saleor_connection(session, connection_id) is None:
        return problem_response(404, "Not Found", "No such Saleor connection.")
    page = ("<!doctype html><meta charset=utf-8><title>Gudok Hub</title>"
            "<p>구독 허브가 이 몰에 연결되어 있습니다. 꾸러미, 재고와 주문은 허브의 운영 "
            "콘솔에서 관리합니다.</p>")
    return Response(page, mimetype="text/html")


@saleor_app.post("/saleor/<int:connection_id>/register")
def register(connection_id: int) -> Response:
    """Saleor posts {"auth_token"} with its Saleor-Api-Url. The header alone proves nothing,
    so the token is also tried against the configured mall before it is stored."""
    session: Session = current_app.extensions["gudok"].session()
    row = _saleor_connection(session, connection_id)
    if row is None:
        return problem_response(404, "Not Found", "No such Saleor connection.")
    configured = str(row.config.get("api_url") or "")
    if not _same_api_url(request.headers.get("Saleor-Api-Url", ""), configured):
        return problem_response(403, "Forbidden",
                                "Saleor-Api-Url is not the mall this connection is for.")
    body: Any = request.get_json(silent=True)
    token = body.get("auth_token") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token.strip() or len(token) > MAX_TOKEN_LENGTH:
        return problem_response(400, "Invalid request", "One or more fields are invalid.",
                                errors=[{"path": "auth_token",
                                         "message": "The app token is required."}])
    ctx = connection_context(row, overrides={"app_token": token})
    try:
        app = adapters.app_identity(SaleorClient(ctx.http, configured, token, log=ctx.log))
    except ConfigurationError:
        return problem_response(403, "Forbidden", "The mall does not accept this app token.")
    except ConnectorFailure as error:
        log.warning("app install for connection %s: the mall did not answer: %s",
                    connection_id, error.message)
        return problem_response(503, "Service Unavailable",
                                "The mall could not confirm the token; install again.",
                                headers={"Retry-After": "30"})
    finally:
        close_context(ctx)
    state = current_app.extensions["gudok"]
    try:
        before = audit.snapshot(row)
        apply_connection(session, state.secrets, row.tenant_id,
                         {"config": {"app_token": token}}, row)
        session.flush()
        audit.record(session, actor=INSTALL_ACTOR, action="install", entity_type="connection",
                     entity_id=row.id, tenant_id=row.tenant_id, before=before,
                     after=audit.snapshot(row), request_id=g.get("request_id"))
        session.commit()
    except SQLAlchemyError:
        session.rollback()
        log.exception("app install for connection %s: storing the token failed",
                      connection_id)
        return problem_response(503, "Service Unavailable",
                                "The hub could not store the token; install again.",
                                headers={"Retry-After": "30"})
    log.info("app %s installed on connection %s", app.get("id"), connection_id)
    return jsonify({"success": True})
