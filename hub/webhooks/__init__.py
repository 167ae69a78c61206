"""Inbound webhook endpoint and the Saleor App install endpoints: plain Flask routes,
outside the REST API (no bearer token; the platform's signature or handshake decides)."""

from __future__ import annotations

from flask import Flask


def register_webhooks(app: Flask) -> None:
    from hub.webhooks.inbound import inbound
    from hub.webhooks.saleor_app import saleor_app

    app.register_blueprint(inbound)
    app.register_blueprint(saleor_app)
