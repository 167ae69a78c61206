"""The SyncContext of one connection inside a web request (webhook, app install): its
decrypted config, a redacting logger, and a transport made only if something calls out."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask, current_app

from connectors import get_connector
from connectors.base import ConnectionInfo, SyncContext, redacting_logger
from hub.models import Connection
from hub.services.connections import full_config

TRANSPORT_FACTORY = "gudok.transport_factory"
"""app.extensions key: a callable(connection_id) -> transport; tests put a stand-in here."""


def _default_factory(app: Flask) -> Callable[[int], Any]:
    from connectors.http import client_for
    from hub.queue import redis_client

    settings = app.extensions["gudok"].settings
    # Through Redis when set: every worker shares each connection's rate limit and circuit.
    return lambda connection_id: client_for(settings, connection_id, redis=redis_client(app))


class LazyTransport:
    """Builds the connection's transport on first use; most webhook deliveries need none."""

    def __init__(self, factory: Callable[[int], Any], connection_id: int) -> None:
        self._factory = factory
        self._connection_id = connection_id
        self._transport: Any = None

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        if self._transport is None:
            self._transport = self._factory(self._connection_id)
        return self._transport.request(method, url, **kwargs)

    def close(self) -> None:
        if self._transport is not None and hasattr(self._transport, "close"):
            self._transport.close()
        self._transport = None


def connection_context(row: Connection, *, overrides: Mapping[str, Any] | None = None,
                       extra: dict[str, Any] | None = None) -> SyncContext:
    """The context a connector runs with for this connection, secrets decrypted."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    state = app.extensions["gudok"]
    config = {**full_config(state.secrets, row), **(overrides or {})}
    connector = get_connector(row.connector)
    secrets = [str(config[name]) for name in connector.secret_fields() if config.get(name)]
    info = ConnectionInfo(row.id, row.tenant_id, row.connector, row.name)
    factory = app.extensions.get(TRANSPORT_FACTORY) or _default_factory(app)
    return SyncContext(connection=info, config=config,
                       http=LazyTransport(factory, row.id),
                       log=redacting_logger(f"{row.connector}.{row.id}", secrets),
                       extra=dict(extra or {}))


def close_context(ctx: SyncContext) -> None:
    if isinstance(ctx.http, LazyTransport):
        ctx.http.close()
