"""REST API under /api/v1 (flask-smorest), with its OpenAPI document and docs page."""

from __future__ import annotations

import http
from typing import Any

import marshmallow as ma
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask
from flask_smorest import Api
from werkzeug.routing import IntegerConverter

from hub.api.problems import PROBLEM_TYPE, http_exception_problem
from hub.schemas.common import ID_MAX


class FieldErrorSchema(ma.Schema):
    path = ma.fields.String(metadata={"description": "e.g. components[2].weight"})
    message = ma.fields.String()


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details, as every error of this API is answered."""

    type = ma.fields.String()
    title = ma.fields.String()
    status = ma.fields.Integer()
    detail = ma.fields.String()
    instance = ma.fields.String()
    errors = ma.fields.List(ma.fields.Nested(FieldErrorSchema))


class HubApi(Api):
    """flask-smorest's Api with its error bodies, and their documentation, as problem+json."""

    ERROR_SCHEMA = ProblemSchema

    def handle_http_exception(self, error: Any) -> Any:
        return http_exception_problem(error)

    def _register_responses(self) -> None:
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if not 100 <= status < 200 and status not in (204, 304):
                response["content"] = {PROBLEM_TYPE: {"schema": "Problem"}}
            self.spec.components.response(status.name, response, lazy=True)
        self.spec.components.response("DEFAULT_ERROR", {
            "description": "Default error response",
            "content": {PROBLEM_TYPE: {"schema": "Problem"}}}, lazy=True)


def schema_name(schema: Any) -> str:
    """Component names for the OpenAPI document; a partial (PATCH) schema gets its own."""
    cls = schema if isinstance(schema, type) else type(schema)
    name = cls.__name__.removesuffix("Schema")
    if not isinstance(schema, type) and schema.partial:
        name += "Patch"
    return name


class IdConverter(IntegerConverter):
    """<int:...> in API routes: a number beyond 64 bits names no row (404), rather than
    reaching the database and failing there."""

    def __init__(self, url_map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", ID_MAX)
        super().__init__(url_map, *args, **kwargs)


def register_api(app: Flask) -> None:
    app.url_map.converters["int"] = IdConverter
    app.config.update(
        API_TITLE="Gudok Hub",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="https://cdn.jsdelivr.net/npm/swagger-ui-dist/",
        API_SPEC_OPTIONS={
            "security": [{"bearerAuth": []}],
            "components": {"securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer"}}},
            "info": {"description": "Operator, mall and Partner API of Gudok Hub. Errors "
                                    "are application/problem+json (RFC 9457)."},
        },
    )
    api = HubApi(app, spec_kwargs={
        "marshmallow_plugin": MarshmallowPlugin(schema_name_resolver=schema_name)})
    from hub.api import (
        audit,
        bindings,
        boxes,
        catalog,
        connections,
        contract_actions,
        coupons,
        items,
        merchants,
        offerings,
        orders,
        partner,
        partner_products,
        plans,
        reconciliation,
        rounds,
        statements,
        stock,
        sync,
        tenants,
        vouchers,
    )

    for blueprint in (tenants.blp, merchants.blp, items.blp, boxes.blp, plans.blp,
                      stock.locations, stock.levels, connections.blp,
                      connections.connectors_blp, offerings.blp, bindings.blp, catalog.blp,
                      audit.blp, partner.blp, partner_products.blp,
                      sync.blp, orders.blp, orders.contracts_blp, contract_actions.blp,
                      rounds.blp, vouchers.blp, coupons.blp, statements.blp,
                      reconciliation.blp):
        api.register_blueprint(blueprint)
    api.spec.components.schema("Problem", schema=ProblemSchema)
    app.extensions["gudok_api"] = api
