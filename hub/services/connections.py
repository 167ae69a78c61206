"""Connection config: validated by the connector's own schema, secret fields encrypted."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors import UnknownConnector, get_connector
from hub.crypto import SecretBox, mask
from hub.models import Connection, Merchant
from hub.services.catalog import no_autoflush, reject_duplicate
from hub.services.validation import RecordInvalid, field_paths


def split_config(connector_key: str, config: dict[str, Any]
                 ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Validate a whole config and split it into (public fields, secret fields)."""
    try:
        connector = get_connector(connector_key)
    except UnknownConnector:
        raise RecordInvalid.at("connector", f"No connector {connector_key!r} is installed.") \
            from None
    try:
        loaded = connector.config_schema().load(config)
    except ValidationError as error:
        raise RecordInvalid(field_paths(error.messages, "config")) from None
    secret_names = connector.secret_fields()
    public = {k: v for k, v in loaded.items() if k not in secret_names}
    secret = {k: v for k, v in loaded.items() if k in secret_names and v is not None}
    return public, secret


@no_autoflush
def apply_connection(session: Session, secrets: SecretBox, tenant_id: int,
                     data: dict[str, Any], row: Connection | None = None) -> Connection:
    """Create or change a connection. A secret left out of an update keeps its value."""
    if row is None:
        row = Connection(tenant_id=tenant_id, connector=data["connector"], status="active",
                         config={})
        session.add(row)
        current_secrets: dict[str, Any] = {}
    else:
        current_secrets = decrypted_secrets(secrets, row)
    for name in ("name", "status"):
        if name in data:
            setattr(row, name, data[name])
    if "config" in data or not row.config:
        given = dict(data.get("config") or {})
        merged = {**row.config, **current_secrets, **given}
        public, secret = split_config(row.connector, merged)
        if public != row.config:
            row.config = public
        if secret != current_secrets:
            row.secrets_encrypted = secrets.encrypt_json(secret) if secret else None
    reject_duplicate(session, row, Connection.name, "name")
    return row


def decrypted_secrets(secrets: SecretBox, row: Connection) -> dict[str, Any]:
    return secrets.decrypt_json(row.secrets_encrypted) if row.secrets_encrypted else {}


def full_config(secrets: SecretBox, row: Connection) -> dict[str, Any]:
    """The config a connector runs with, secrets decrypted. Never returned by the API."""
    return {**row.config, **decrypted_secrets(secrets, row)}


def masked_config(secrets: SecretBox, row: Connection) -> dict[str, Any]:
    """What the API shows: public fields, and each secret field masked when set, else null."""
    try:
        names = get_connector(row.connector).secret_fields()
    except UnknownConnector:
        names = frozenset()
    stored = decrypted_secrets(secrets, row)
    shown = dict(row.config)
    for name in sorted(names):
        shown[name] = mask(stored.get(name))
    return shown


def rotate_secrets(session: Session, secrets: SecretBox) -> int:
    """Re-encrypt every stored secret with the first key; returns how many were rewritten."""
    count = 0
    for connection in session.scalars(select(Connection).where(
            Connection.secrets_encrypted.is_not(None))):
        connection.secrets_encrypted = secrets.rotate(connection.secrets_encrypted or "")
        count += 1
    for merchant in session.scalars(select(Merchant).where(
            Merchant.payout_account_encrypted.is_not(None))):
        merchant.payout_account_encrypted = secrets.rotate(
            merchant.payout_account_encrypted or "")
        count += 1
    return count
