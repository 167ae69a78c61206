"""What a connector declares and the small capability interfaces it may implement.

A connector is a class with `key`, `display_name`, `capabilities` and a config schema, plus
one method per capability it has (see the Protocols below). Everything a job needs to call
it travels in one SyncContext built per job."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol, runtime_checkable

from marshmallow import Schema, fields

from hub.db import utcnow

CAPABILITIES = (
    "catalog.push", "catalog.pull", "inventory.push", "orders.pull", "orders.webhook",
    "fulfilment.push", "settlement.pull",
)
REDACTED = "[redacted]"


def Secret(**kwargs: Any) -> fields.String:  # noqa: N802 - reads like a field class
    """A config field that is encrypted at rest, write-only in the API, redacted in logs."""
    metadata = dict(kwargs.pop("metadata", {}))
    metadata["secret"] = True
    return fields.String(metadata=metadata, **kwargs)


class ConnectorConfigSchema(Schema):
    """Base of every connector's config schema; unknown keys are rejected."""

    @classmethod
    def secret_field_names(cls) -> frozenset[str]:
        return frozenset(name for name, field_ in cls._declared_fields.items()
                         if field_.metadata.get("secret"))


class Connector:
    """A platform the hub can talk to. Subclasses set the class attributes."""

    key: ClassVar[str]
    display_name: ClassVar[str]
    capabilities: ClassVar[frozenset[str]] = frozenset()
    config_schema: ClassVar[type[ConnectorConfigSchema]] = ConnectorConfigSchema
    # True when the platform subtracts its own open orders from the stock it is sent (a
    # shop's allocations): the hub then leaves that channel's orders out of its holds.
    allocates_own_orders: ClassVar[bool] = False

    @classmethod
    def secret_fields(cls) -> frozenset[str]:
        return cls.config_schema.secret_field_names()


class RedactingFilter(logging.Filter):
    """Replaces every secret of the connection in a log record's message and arguments."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = sorted((s for s in secrets if s and len(s) >= 4), key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            record.msg = self.redact(record.getMessage())
            record.args = None
        return True


def redacting_logger(name: str, secrets: list[str]) -> logging.Logger:
    """A child logger of gudok.connectors whose records never carry the given secrets."""
    logger = logging.getLogger(f"gudok.connectors.{name}")
    for existing in list(logger.filters):
        if isinstance(existing, RedactingFilter):
            logger.removeFilter(existing)
    logger.addFilter(RedactingFilter(secrets))
    return logger


@dataclass(frozen=True)
class ConnectionInfo:
    id: int
    tenant_id: int
    connector: str
    name: str


@dataclass
class SyncContext:
    """Built once per job: the connection, its decrypted config, transport, log and clock."""

    connection: ConnectionInfo
    config: Mapping[str, Any]
    http: Any
    log: logging.Logger
    clock: Callable[[], datetime] = utcnow
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class InboundDelivery:
    """A verified webhook delivery: its dedupe key, event name and raw body."""

    delivery_key: str
    event: str
    body: bytes
    received_at: datetime


class WebhookSignatureError(Exception):
    """A webhook delivery is not signed by the connection's platform (bad, missing or
    unknown-key signature): the endpoint answers 401 and stores nothing."""


@dataclass
class Page:
    """One page of an incremental stream: records, and the cursor to resume from."""

    records: list[dict[str, Any]]
    cursor: str | None
    has_more: bool


@runtime_checkable
class CatalogPush(Protocol):
    def push_box(self, ctx: SyncContext, listing: dict[str, Any]) -> dict[str, Any]: ...


@runtime_checkable
class CatalogPull(Protocol):
    def pull_catalog(self, ctx: SyncContext, cursor: str | None, until: datetime) -> Page: ...


@runtime_checkable
class InventoryPush(Protocol):
    def push_availability(self, ctx: SyncContext, listing: dict[str, Any]) -> None: ...


@runtime_checkable
class OrdersPull(Protocol):
    def pull_orders(self, ctx: SyncContext, cursor: str | None, until: datetime) -> Page: ...


@runtime_checkable
class OrdersWebhook(Protocol):
    def verify_webhook(self, ctx: SyncContext, headers: Mapping[str, str],
                       body: bytes) -> InboundDelivery: ...

    def parse_webhook(self, ctx: SyncContext,
                      delivery: InboundDelivery) -> list[dict[str, Any]]: ...


@runtime_checkable
class FulfilmentPush(Protocol):
    def push_fulfilment(self, ctx: SyncContext, fulfilment: dict[str, Any]) -> None: ...


@runtime_checkable
class SettlementPull(Protocol):
    def pull_settlements(self, ctx: SyncContext, cursor: str | None,
                         until: datetime) -> Page: ...


CAPABILITY_INTERFACES: dict[str, type] = {
    "catalog.push": CatalogPush, "catalog.pull": CatalogPull,
    "inventory.push": InventoryPush, "orders.pull": OrdersPull,
    "orders.webhook": OrdersWebhook, "fulfilment.push": FulfilmentPush,
    "settlement.pull": SettlementPull,
}
