"""The two apps bench/webhook_ingest.py serves with gunicorn, as app factories:

    gunicorn --pythonpath bench 'ingest_app:hub_app()'    the hub, configured by GUDOK_*
    gunicorn --pythonpath bench 'ingest_app:bare_app()'   the baseline

The baseline is the least a Flask endpoint can do with a webhook: read the body and answer
202 with a small JSON, at the same path as the hub's endpoint."""

from __future__ import annotations

from flask import Flask, Response, jsonify, request

from hub import create_app


def hub_app() -> Flask:
    """The hub as `gudok serve` runs it; its settings come from the environment."""
    return create_app()


def bare_app() -> Flask:
    app = Flask("bare")

    @app.post("/webhooks/<int:connection_id>")
    def receive(connection_id: int) -> tuple[Response, int]:
        body = request.get_data(cache=False)
        return jsonify({"status": "accepted", "bytes": len(body)}), 202

    @app.get("/healthz")
    def healthz() -> Response:
        return jsonify(status="ok")

    return app
