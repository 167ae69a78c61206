"""What a connector declares: its key, capabilities and a config schema with secret fields."""

from __future__ import annotations

from typing import Any, ClassVar

from marshmallow import Schema, fields

CAPABILITIES = (
    "catalog.push", "catalog.pull", "inventory.push", "orders.pull", "orders.webhook",
    "fulfilment.push", "settlement.pull",
)


def Secret(**kwargs: Any) -> fields.String:  # noqa: N802 - reads like a field class
    """A config field that is encrypted at rest, write-only in the API, redacted in logs."""
    metadata = dict(kwargs.pop("metadata", {}))
    metadata["secret"] = True
    return fields.String(metadata=metadata, **kwargs)


class ConnectorConfigSchema(Schema):
    """Base of every connector's config schema; unknown keys are rejected."""

    @classmethod
    def secret_field_names(cls) -> frozenset[str]:
        return frozenset(name for name, field in cls._declared_fields.items()
                         if field.metadata.get("secret"))


class Connector:
    """A platform the hub can talk to. Subclasses set the class attributes."""

    key: ClassVar[str]
    display_name: ClassVar[str]
    capabilities: ClassVar[frozenset[str]] = frozenset()
    config_schema: ClassVar[type[ConnectorConfigSchema]] = ConnectorConfigSchema

    @classmethod
    def secret_fields(cls) -> frozenset[str]:
        return cls.config_schema.secret_field_names()
