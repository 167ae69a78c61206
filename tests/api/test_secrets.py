"""Secrets at rest: never in an API response, a log line, the audit log or the tables."""

from __future__ import annotations

import logging

from cryptography.fernet import Fernet
from sqlalchemy import select, text

from hub.crypto import SecretBox
from hub.db import session_scope
from hub.models import Base, Connection, Merchant
from hub.services.connections import full_config, rotate_secrets
from tests.conftest import TEST_KEY
from tests.factories import merchant_body

APP_TOKEN = "saleor-app-token-7f3a9c1e5b"
ACCOUNT = "302-9876-5432-10"
SECRETS = (APP_TOKEN, ACCOUNT, ACCOUNT.replace("-", ""))


def dump_database(app) -> str:
    """Every row of every table as text, as a database dump would show it."""
    engine = app.extensions["gudok"].engine
    lines = []
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(text(f'SELECT * FROM "{table.name}"')):
                lines.append(f"{table.name}: {tuple(row)}")
    return "\n".join(lines)


def create_connection(api, **config):
    return api.post("/api/v1/connections", json={
        "connector": "saleor", "name": "한빛몰",
        "config": {"api_url": "https://mall.hanbit.example.kr/graphql/", **config}})


def assert_no_secret(text_: str) -> None:
    for secret in SECRETS:
        assert secret not in text_


def test_secrets_never_leave_in_responses_logs_or_tables(app, operator, caplog):
    caplog.set_level(logging.DEBUG)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)  # SQL and its parameters
    try:
        responses = [create_connection(operator, app_token=APP_TOKEN)]
        connection_id = responses[0].get_json()["id"]
        responses.append(operator.post("/api/v1/merchants",
                                       json=merchant_body(1, payout_account=ACCOUNT)))
        merchant_id = responses[-1].get_json()["id"]
        responses += [
            operator.get(f"/api/v1/connections/{connection_id}"),
            operator.get("/api/v1/connections"),
            operator.patch(f"/api/v1/connections/{connection_id}", json={"name": "한빛몰 2"}),
            operator.get(f"/api/v1/merchants/{merchant_id}"),
            operator.get("/api/v1/merchants"),
            operator.patch(f"/api/v1/merchants/{merchant_id}", json={"payout_bank": "국민은행"}),
        ]
    finally:
        logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    for response in responses:
        assert response.status_code in (200, 201), response.get_json()
        assert_no_secret(response.get_data(as_text=True))
    shown = responses[2].get_json()["config"]
    assert shown["app_token"] == "********"
    assert shown["legacy_webhook_secret"] is None
    assert responses[-1].get_json()["payout_account_last4"] == "3210"
    assert any("INSERT INTO connection" in r.getMessage() for r in caplog.records), \
        "SQL logging was not captured, so the log check proves nothing"
    assert_no_secret("\n".join(r.getMessage() for r in caplog.records))
    assert_no_secret(caplog.text)
    assert_no_secret(dump_database(app))


def test_secret_left_out_of_an_update_keeps_its_value(app, operator):
    connection_id = create_connection(operator, app_token=APP_TOKEN).get_json()["id"]
    operator.patch(f"/api/v1/connections/{connection_id}",
                   json={"config": {"channel_slug": "hanbit"}})
    state = app.extensions["gudok"]
    with session_scope(state.session_factory) as session:
        config = full_config(state.secrets, session.get(Connection, connection_id))
    assert config["app_token"] == APP_TOKEN
    assert config["channel_slug"] == "hanbit"

    operator.patch(f"/api/v1/connections/{connection_id}",
                   json={"config": {"app_token": "a-new-token"}})
    with session_scope(state.session_factory) as session:
        assert full_config(state.secrets, session.get(Connection, connection_id))[
            "app_token"] == "a-new-token"


def test_rotation_to_a_new_key_keeps_everything_readable(app, operator):
    connection_id = create_connection(operator, app_token=APP_TOKEN).get_json()["id"]
    merchant_id = operator.post("/api/v1/merchants",
                                json=merchant_body(2, payout_account=ACCOUNT)).get_json()["id"]
    new_key = Fernet.generate_key().decode()
    factory = app.extensions["gudok"].session_factory
    with session_scope(factory) as session:
        assert rotate_secrets(session, SecretBox([new_key, TEST_KEY])) == 2

    new_only = SecretBox([new_key])
    with session_scope(factory) as session:
        connection = session.get(Connection, connection_id)
        assert full_config(new_only, connection)["app_token"] == APP_TOKEN
        merchant = session.get(Merchant, merchant_id)
        assert new_only.decrypt(merchant.payout_account_encrypted or "") == ACCOUNT
        stale = [m.payout_account_encrypted for m in session.scalars(select(Merchant))]
    old_only = SecretBox([TEST_KEY])
    for token in stale:
        try:
            old_only.decrypt(token or "")
        except Exception:  # noqa: BLE001 - the point: the old key alone no longer reads it
            continue
        raise AssertionError("a secret is still encrypted with the old key")
