"""The partner sandbox's own HTTP side, on loopback: the hub's notifications come in at
POST /notifications (verified, de-duplicated by webhook-id), its event log is served at
GET /events behind a bearer token, and its product pages at GET /products/<id>."""

from __future__ import annotations

import hmac
import html
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.serving import BaseWSGIServer, make_server

from connectors.partner import signing
from connectors.partner.sandbox_faults import Faults, ReceiveFault
from connectors.partner.sandbox_webhooks import WebhookSender

MAX_EVENTS_PAGE = 500
DEFAULT_EVENTS_PAGE = 50


@dataclass(frozen=True)
class Notification:
    """One notification from the hub, accepted once per webhook-id."""

    webhook_id: str
    type: str
    data: dict[str, Any]
    received_at: datetime


@dataclass(frozen=True)
class NotificationAttempt:
    """One request to /notifications and the status it was answered (faults included)."""

    webhook_id: str | None
    status: int
    at: datetime


class NotificationInbox:
    """What the platform has received from the hub; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._accepted: dict[str, Notification] = {}
        self._attempts: list[NotificationAttempt] = []

    def accept(self, notification: Notification) -> bool:
        """Record it unless its webhook-id was accepted before; True when new."""
        with self._lock:
            if notification.webhook_id in self._accepted:
                return False
            self._accepted[notification.webhook_id] = notification
            return True

    def attempt(self, webhook_id: str | None, status: int, at: datetime) -> None:
        with self._lock:
            self._attempts.append(NotificationAttempt(webhook_id, status, at))

    @property
    def notifications(self) -> list[Notification]:
        with self._lock:
            return list(self._accepted.values())

    @property
    def attempts(self) -> list[NotificationAttempt]:
        with self._lock:
            return list(self._attempts)


@dataclass
class PlatformSide:
    """What the server answers from; owned by the PartnerSandbox."""

    name: str
    outbound_secret: str
    events_token: str
    faults: Faults
    inbox: NotificationInbox
    webhooks: WebhookSender
    clock: Callable[[], datetime]
    product_title: Callable[[str], str | None]
    stopping: threading.Event
    # [start, end) -> the settlement report's lines (sandbox_settlements.py)
    settlements: Callable[[datetime, datetime], list[dict[str, Any]]] | None = None


def _fault_response(fault: ReceiveFault) -> Response:
    assert fault.status is not None
    if fault.status == 429:
        response = jsonify({"error": "too many requests"})
        if fault.retry_after is not None:
            response.headers["Retry-After"] = f"{fault.retry_after:g}"
    elif fault.status == 410:
        response = jsonify({"error": "this endpoint is gone"})
    else:
        response = Response(f"{fault.status} upstream unavailable\n", mimetype="text/plain")
    response.status_code = fault.status
    return response


def platform_app(side: PlatformSide) -> Flask:
    app = Flask(f"partner_sandbox_{side.name}")

    @app.post("/notifications")
    def notifications() -> Any:
        webhook_id = request.headers.get(signing.ID_HEADER)
        if side.faults.slow_seconds:
            side.stopping.wait(side.faults.slow_seconds)
        fault = side.faults.take_receive()
        if fault is not None:
            side.stopping.wait(fault.delay)
            if fault.status is not None:
                side.inbox.attempt(webhook_id, fault.status, side.clock())
                return _fault_response(fault)
        status, answer = _receive(side, request.get_data(cache=False),
                                  dict(request.headers.items()))
        side.inbox.attempt(webhook_id, status, side.clock())
        return jsonify(answer), status

    @app.get("/events")
    def events() -> Any:
        if not _authorised(side):
            return jsonify({"error": "unauthorized"}), 401, {"WWW-Authenticate": "Bearer"}
        try:
            limit = int(request.args.get("limit") or DEFAULT_EVENTS_PAGE)
        except ValueError:
            limit = 0
        if not 1 <= limit <= MAX_EVENTS_PAGE:
            return jsonify({"error": f"limit must be 1 to {MAX_EVENTS_PAGE}"}), 400
        try:
            data, next_cursor = side.webhooks.events_after(request.args.get("after"), limit)
        except LookupError:
            return jsonify({"error": "after names no event in this log"}), 400
        return jsonify({"data": data, "next_cursor": next_cursor})

    @app.get("/settlements")
    def settlements() -> Any:
        if not _authorised(side):
            return jsonify({"error": "unauthorized"}), 401, {"WWW-Authenticate": "Bearer"}
        return _settlement_page(side)

    @app.get("/products/<product_id>")
    def product_page(product_id: str) -> Any:
        title = side.product_title(product_id)
        if title is None:
            return Response("no such product\n", status=404, mimetype="text/plain")
        page = (f"<!doctype html><html><head><meta charset=\"utf-8\"><title>{html.escape(title)}"
                f"</title></head><body><h1>{html.escape(title)}</h1>"
                f"<p>{html.escape(side.name)} · {html.escape(product_id)}</p></body></html>")
        return Response(page, mimetype="text/html")

    @app.get("/")
    def index() -> Any:
        return Response(f"{side.name}: partner platform sandbox (POST /notifications, "
                        "GET /events, GET /products/<id>)\n", mimetype="text/plain")

    return app


def _authorised(side: PlatformSide) -> bool:
    scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(),
                                                              side.events_token.encode())


def _settlement_page(side: PlatformSide) -> Any:
    """GET /settlements?from=&to=&cursor=&limit=: the report of orders placed in [from, to),
    a page at a time (the cursor is the offset of the next line)."""
    try:
        start, end = (datetime.fromisoformat(str(request.args[name]).replace("Z", "+00:00"))
                      for name in ("from", "to"))
        limit = int(request.args.get("limit") or DEFAULT_EVENTS_PAGE)
        offset = int(request.args.get("cursor") or 0)
    except (KeyError, ValueError):
        return jsonify({"error": "from and to are ISO instants; limit and cursor numbers"}), 400
    if start.tzinfo is None or end.tzinfo is None or not 1 <= limit <= MAX_EVENTS_PAGE \
            or offset < 0:
        return jsonify({"error": f"from/to need a UTC offset; limit is 1 to {MAX_EVENTS_PAGE}"}
                       ), 400
    lines = side.settlements(start, end) if side.settlements is not None else []
    following = offset + limit
    return jsonify({"data": lines[offset:following], "currency": "KRW",
                    "next_cursor": str(following) if following < len(lines) else None})


def _receive(side: PlatformSide, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    """Verify like a platform following Standard Webhooks, then keep it once per id."""
    try:
        signing.check_body(body)
        message = signing.verify([side.outbound_secret], headers, body, now=side.clock())
    except signing.MalformedSignature as error:
        return 400, {"error": str(error)}
    except signing.InvalidSignature as error:
        return 401, {"error": str(error)}
    try:
        envelope = json.loads(body)
    except ValueError:
        envelope = None
    if not isinstance(envelope, dict) or not isinstance(envelope.get("type"), str) \
            or not isinstance(envelope.get("data"), dict):
        return 400, {"error": "the body is not a {type, timestamp, data} envelope"}
    new = side.inbox.accept(Notification(message.msg_id, envelope["type"], envelope["data"],
                                         side.clock()))
    return 200, {"status": "accepted" if new else "duplicate"}


class PlatformServer:
    """The WSGI app on a loopback port, served from a daemon thread."""

    def __init__(self, side: PlatformSide, host: str, port: int) -> None:
        self.app = platform_app(side)
        self._stopping = side.stopping
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
        self._server: BaseWSGIServer = make_server(host, port, self.app, threaded=True)
        self.port = int(self._server.server_port)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name=f"partner-sandbox-{self.port}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
