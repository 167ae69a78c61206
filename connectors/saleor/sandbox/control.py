"""Control endpoints for a sandbox run standalone (`python -m connectors.saleor.sandbox`):
install an app, place and move orders, inject faults, drain and list deliveries.

They exist only on the sandbox, which listens on loopback only."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Blueprint, jsonify, request

from connectors.saleor.sandbox.install import InstallError
from connectors.saleor.sandbox.orders import OrderError

if TYPE_CHECKING:
    from connectors.saleor.sandbox.server import SaleorSandbox

FAULTS = ("fail_next", "slow", "hang_next", "duplicate_deliveries", "reorder_deliveries",
          "tamper_next_signature", "tamper_next_body", "sign_with_wrong_key_next", "reset")
ORDER_ACTIONS = ("mark_paid", "cancel", "refund", "update_order_status")


def control_blueprint(sandbox: SaleorSandbox) -> Blueprint:
    bp = Blueprint("sandbox_control", __name__, url_prefix="/__sandbox__")

    def body() -> dict[str, Any]:
        data = request.get_json(force=True, silent=True)
        return data if isinstance(data, dict) else {}

    @bp.get("/")
    def info() -> Any:
        return jsonify({"graphql": sandbox.graphql_url, "jwks": sandbox.jwks_url,
                        "channel": sandbox.default_channel_id,
                        "warehouses": sandbox.warehouse_ids, "category": sandbox.category_id})

    @bp.post("/install")
    def install() -> Any:
        data = body()
        try:
            app = sandbox.install_app(str(data.get("manifestUrl", "")),
                                      webhook_secret=data.get("webhookSecret"))
        except (InstallError, ValueError) as failure:
            return jsonify({"error": str(failure)}), 400
        return jsonify({"id": app.id, "name": app.name, "permissions": app.permissions}), 201

    @bp.post("/orders")
    def place_order() -> Any:
        data = body()
        try:
            order_id = sandbox.place_order(
                [(str(v), int(q)) for v, q in data.get("lines", [])],
                paid=bool(data.get("paid", True)), email=str(data.get("email", "buyer@example.kr")))
        except (OrderError, LookupError, TypeError, ValueError) as failure:
            return jsonify({"error": str(failure)}), 400
        return jsonify({"id": order_id}), 201

    @bp.post("/orders/<order_id>/<action>")
    def order_action(order_id: str, action: str) -> Any:
        if action not in ORDER_ACTIONS:
            return jsonify({"error": f"unknown action {action}"}), 404
        try:
            getattr(sandbox, action)(order_id, **body())
        except (OrderError, LookupError, TypeError, ValueError) as failure:
            return jsonify({"error": str(failure)}), 400
        return jsonify({"id": order_id})

    @bp.post("/faults/<name>")
    def fault(name: str) -> Any:
        if name not in FAULTS:
            return jsonify({"error": f"unknown fault {name}"}), 404
        try:
            getattr(sandbox.faults, name)(**body())
        except (TypeError, ValueError) as failure:
            return jsonify({"error": str(failure)}), 400
        return jsonify({"fault": name})

    @bp.post("/drain")
    def drain() -> Any:
        return jsonify({"drained": sandbox.drain(float(body().get("timeout", 15.0)))})

    @bp.get("/deliveries")
    def deliveries() -> Any:
        return jsonify([{"id": d.id, "event": d.event, "target": d.target_url,
                         "status": d.status, "attempts": d.attempts, "error": d.error}
                        for d in sandbox.deliveries])

    return bp
