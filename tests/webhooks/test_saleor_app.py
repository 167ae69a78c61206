"""Installing the hub into a Saleor mall: the manifest, and the register endpoint that
takes the app token only from the configured mall, verified with the mall itself."""

from __future__ import annotations

import json
from typing import Any

import graphql
import responses
from flask import Flask
from sqlalchemy import select

from hub.db import session_scope
from hub.models import AuditEntry, Connection
from hub.services.connections import full_config
from tests.api.test_secrets import dump_database
from tests.connectors.saleor.saleor_fakes import API_URL, saleor_schema

TOKEN = "fresh-app-token-from-saleor-91c2"


def stored_config(app: Flask, connection_id: int) -> dict[str, Any]:
    state = app.extensions["gudok"]
    with session_scope(state.session_factory) as session:
        row = session.get(Connection, connection_id)
        assert row is not None
        return full_config(state.secrets, row)


def mall_accepts(mock: responses.RequestsMock, token: str = TOKEN) -> None:
    def answer(request: Any) -> tuple[int, dict, str]:
        if request.headers.get("Authorization") != f"Bearer {token}":
            return 200, {}, json.dumps({"data": {"app": None}, "errors": [{
                "message": "Invalid token",
                "extensions": {"exception": {"code": "JSONWebTokenError"}}}]})
        assert "GudokAppIdentity" in json.loads(request.body)["query"]
        return 200, {}, json.dumps({"data": {"app": {
            "id": "QXBwOjQ=", "name": "Gudok Hub", "isActive": True, "permissions": []}}})

    mock.add_callback(responses.POST, API_URL, callback=answer,
                      content_type="application/json")


def test_manifest_is_public_and_complete(app: Flask, saleor_connection: int) -> None:
    response = app.test_client().get(f"/saleor/{saleor_connection}/manifest")
    assert response.status_code == 200
    manifest = response.get_json()
    assert manifest["id"] == f"gudok-hub.{saleor_connection}"
    assert manifest["tokenTargetUrl"] == f"http://localhost/saleor/{saleor_connection}/register"
    assert manifest["appUrl"] == f"http://localhost/saleor/{saleor_connection}/app"
    assert {"MANAGE_PRODUCTS", "MANAGE_ORDERS",
            "MANAGE_PRODUCT_TYPES_AND_ATTRIBUTES"} <= set(manifest["permissions"])
    assert len(manifest["webhooks"]) == 10
    for hook in manifest["webhooks"]:
        assert hook["targetUrl"] == f"http://localhost/webhooks/{saleor_connection}"
        assert hook["isActive"] is True and len(hook["asyncEvents"]) == 1
        assert graphql.validate(saleor_schema(), graphql.parse(hook["query"])) == []
    assert app.test_client().get(f"/saleor/{saleor_connection}/app").status_code == 200


def test_manifest_of_an_unknown_or_other_connection_is_404(app: Flask, operator: Any,
                                                         saleor_connection: int) -> None:
    assert app.test_client().get("/saleor/999999/manifest").status_code == 404
    partner = operator.post("/api/v1/connections", json={
        "connector": "partner", "name": "다온", "config": {"platform_name": "다온"}})
    assert partner.status_code == 201
    response = app.test_client().get(f"/saleor/{partner.get_json()['id']}/manifest")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_register_stores_the_verified_token_encrypted(app: Flask, mock: Any,
                                                      saleor_connection: int) -> None:
    mall_accepts(mock)
    response = app.test_client().post(
        f"/saleor/{saleor_connection}/register", json={"auth_token": TOKEN},
        headers={"Saleor-Api-Url": API_URL, "Saleor-Domain": "mall.hanbit.example.kr"})
    assert response.status_code == 200, response.get_json()
    assert stored_config(app, saleor_connection)["app_token"] == TOKEN
    assert TOKEN not in dump_database(app)
    with session_scope(app.extensions["gudok"].session_factory) as session:
        entry = session.scalars(select(AuditEntry).where(
            AuditEntry.entity_type == "connection", AuditEntry.action == "install")).one()
        assert entry.actor == "saleor:install" and entry.entity_id == saleor_connection


def test_register_refuses_another_malls_api_url(app: Flask, mock: Any,
                                                saleor_connection: int) -> None:
    mall_accepts(mock)
    for header in ({"Saleor-Api-Url": "https://evil.example.com/graphql/"}, {}):
        response = app.test_client().post(f"/saleor/{saleor_connection}/register",
                                          json={"auth_token": TOKEN}, headers=header)
        assert response.status_code == 403
        assert response.mimetype == "application/problem+json"
    assert stored_config(app, saleor_connection).get("app_token") is None
    assert len(mock.calls) == 0  # the hub did not even call out


def test_register_refuses_a_token_the_mall_rejects(app: Flask, mock: Any,
                                                   saleor_connection: int) -> None:
    mall_accepts(mock, token="the-real-one")
    response = app.test_client().post(f"/saleor/{saleor_connection}/register",
                                      json={"auth_token": TOKEN},
                                      headers={"Saleor-Api-Url": API_URL})
    assert response.status_code == 403
    assert stored_config(app, saleor_connection).get("app_token") is None


def test_register_with_no_token_or_a_silent_mall(app: Flask, mock: Any,
                                                 saleor_connection: int) -> None:
    url = f"/saleor/{saleor_connection}/register"
    headers = {"Saleor-Api-Url": API_URL.rstrip("/")}  # trailing slash does not matter
    for body in ({}, {"auth_token": ""}, {"auth_token": 5}, ["x"]):
        response = app.test_client().post(url, json=body, headers=headers)
        assert response.status_code == 400
        assert response.get_json()["errors"][0]["path"] == "auth_token"
    mock.add(responses.POST, API_URL, status=502)
    response = app.test_client().post(url, json={"auth_token": TOKEN}, headers=headers)
    assert response.status_code == 503
    assert stored_config(app, saleor_connection).get("app_token") is None
