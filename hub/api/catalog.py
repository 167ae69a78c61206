"""Catalog push for malls: a batch of items, boxes and plans keyed by the mall's codes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app, g, request
from flask.views import MethodView

from hub.api.auth import principal, write_tenant_id
from hub.api.common import Blueprint, db
from hub.api.problems import ApiProblem
from hub.schemas.catalog import (
    CatalogPushResponseSchema,
    CatalogPushSchema,
)
from hub.services import idempotency
from hub.services.catalog_push import push_catalog

blp = Blueprint("catalog", __name__, url_prefix="/api/v1/catalog",
                description="Catalog push from a municipal mall.")
ENDPOINT = "catalog.push"


@blp.route("/push")
class CatalogPush(MethodView):
    @blp.arguments(CatalogPushSchema)
    @blp.response(200, CatalogPushResponseSchema)
    @blp.doc(parameters=[{"name": "Idempotency-Key", "in": "header", "required": False,
                          "schema": {"type": "string", "maxLength": 200},
                          "description": "Repeat a push safely for 24 hours."}])
    def post(self, body: dict[str, Any]) -> Any:
        """Upsert items (by SKU), boxes (by code) and plans (by code), one transaction each.

        Answers a result per record: created, updated, unchanged or rejected with field errors.
        """
        tenant_id = write_tenant_id(body.pop("tenant", None))
        key = request.headers.get("Idempotency-Key")
        session = db()
        if key is not None:
            if not 1 <= len(key) <= 200 or not key.isprintable():
                raise ApiProblem(400, "Invalid request", "One or more fields are invalid.",
                                 errors=[{"path": "Idempotency-Key",
                                          "message": "1 to 200 printable characters."}])
            ttl = timedelta(hours=current_app.extensions["gudok"].settings.idempotency_ttl_hours)
            try:
                replay = idempotency.reserve(session, tenant_id, ENDPOINT, key,
                                             idempotency.request_digest(body), ttl)
            except idempotency.KeyReusedWithOtherBody:
                raise ApiProblem(422, "Unprocessable Content", "This Idempotency-Key was "
                                 "used with a different body.") from None
            except idempotency.KeyInProgress:
                raise ApiProblem(409, "Conflict", "A request with this Idempotency-Key is "
                                 "still being processed; retry shortly.",
                                 headers={"Retry-After": "5"}) from None
            if replay is not None:
                return replay.body, replay.status, {"Idempotent-Replayed": "true"}
        outcome = push_catalog(session, tenant_id, body, principal().actor,
                               g.get("request_id")).as_dict()
        if key is not None:
            idempotency.complete(session, tenant_id, ENDPOINT, key, 200, outcome)
        return outcome, 200
