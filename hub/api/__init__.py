"""REST API under /api/v1 (flask-smorest), with its OpenAPI document and docs page."""

from __future__ import annotations

from typing import Any

from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask
from flask_smorest import Api

from hub.api.problems import http_exception_problem


class HubApi(Api):
    """flask-smorest's Api with its error bodies replaced by problem+json."""

    def handle_http_exception(self, error: Any) -> Any:
        return http_exception_problem(error)


def schema_name(schema: Any) -> str:
    """Component names for the OpenAPI document; a partial (PATCH) schema gets its own."""
    cls = schema if isinstance(schema, type) else type(schema)
    name = cls.__name__.removesuffix("Schema")
    if not isinstance(schema, type) and schema.partial:
        name += "Patch"
    return name


def register_api(app: Flask) -> None:
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
            "info": {"description": "Operator and mall API of Gudok Hub. Errors are "
                                    "application/problem+json (RFC 9457)."},
        },
    )
    api = HubApi(app, spec_kwargs={
        "marshmallow_plugin": MarshmallowPlugin(schema_name_resolver=schema_name)})
    from hub.api import (
        bindings,
        boxes,
        catalog,
        connections,
        items,
        merchants,
        plans,
        stock,
        tenants,
    )

    for blueprint in (tenants.blp, merchants.blp, items.blp, boxes.blp, plans.blp,
                      stock.locations, stock.levels, connections.blp,
                      connections.connectors_blp, bindings.blp, catalog.blp):
        api.register_blueprint(blueprint)
    app.extensions["gudok_api"] = api
