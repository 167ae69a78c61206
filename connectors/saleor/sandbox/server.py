"""SaleorSandbox: the state, the WSGI app (GraphQL API, JWKS, control) and its server."""

from __future__ import annotations

import hmac
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

from flask import Flask, Response, jsonify, request
from graphql import OperationDefinitionNode, OperationType, execute_sync, parse, validate
from graphql.error import GraphQLError
from werkzeug.serving import BaseWSGIServer, make_server

from connectors.saleor.sandbox.context import Context, PermissionMiddleware, format_error
from connectors.saleor.sandbox.faults import Faults
from connectors.saleor.sandbox.helpers import MallHelpers
from connectors.saleor.sandbox.install import InstalledApp, install_app
from connectors.saleor.sandbox.net import NotLoopback, is_loopback_host
from connectors.saleor.sandbox.schema import load_schema
from connectors.saleor.sandbox.signing import KeyRing
from connectors.saleor.sandbox.store import Rec, Store
from connectors.saleor.sandbox.webhooks import Delivery, Dispatcher

Result = tuple[dict[str, Any], int]


class SaleorSandbox(MallHelpers):
    """A local Saleor-like mall executing the real Saleor schema in memory.

    Use it as a context manager or call start()/stop(); it is also a WSGI app."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0,
                 schema_path: Path | None = None,
                 shop_name: str = "Gudok municipal mall (sandbox)",
                 retry_delays: tuple[float, ...] = (0.05, 0.2), max_attempts: int = 3,
                 delivery_timeout: float = 10.0, strict_tokens: bool = False,
                 jws_crit: bool = True) -> None:
        if not is_loopback_host(host):
            raise NotLoopback(f"the sandbox binds to loopback only, not {host!r}")
        self.host, self._port = host, port
        self.strict_tokens = strict_tokens
        self.schema = load_schema(schema_path)
        self.store = Store(shop_name)
        self.keys = KeyRing(crit=jws_crit)
        self.faults = Faults()
        self._stopping = threading.Event()
        self.dispatcher = Dispatcher(self.store, self.schema, self.keys, self.faults,
                                     api_url=lambda: self.graphql_url,
                                     domain=lambda: self.domain, retry_delays=retry_delays,
                                     max_attempts=max_attempts, timeout=delivery_timeout)
        self.store.emit = self.dispatcher.emit
        self.wsgi = self._make_app()
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    # -- addresses ------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._port}"

    @property
    def domain(self) -> str:
        return self.url.removeprefix("http://")

    @property
    def graphql_url(self) -> str:
        return f"{self.url}/graphql/"

    @property
    def jwks_url(self) -> str:
        return f"{self.url}/.well-known/jwks.json"

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> SaleorSandbox:
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = make_server(self.host, self._port, self.wsgi, threaded=True)
        self._port = self._server.server_port
        self.store.shop["domain"] = {"host": self.domain, "sslEnabled": False,
                                     "url": self.url + "/"}
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name="saleor-sandbox", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self.dispatcher.stop()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> SaleorSandbox:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.wsgi(environ, start_response)

    # -- apps and webhooks ----------------------------------------------------------------

    def install_app(self, manifest_url: str, *, webhook_secret: str | None = None,
                    timeout: float = 10.0) -> InstalledApp:
        """Saleor's install handshake against the app serving `manifest_url`."""
        if self._server is None:
            raise RuntimeError("start() the sandbox before installing an app: the app may "
                               "call back into it while it registers")
        return install_app(self.store, self.schema, manifest_url, api_url=self.graphql_url,
                           domain=self.domain, webhook_secret=webhook_secret, timeout=timeout)

    @property
    def deliveries(self) -> list[Delivery]:
        return list(self.dispatcher.deliveries)

    def drain(self, timeout: float = 15.0) -> bool:
        """Waits until every webhook delivery has been sent (held ones are released)."""
        return self.dispatcher.drain(timeout)

    def redeliver(self, delivery: Delivery | int | None = None) -> Delivery:
        """Replays a delivery byte for byte (default: the last one sent)."""
        sent = [d for d in self.dispatcher.deliveries if d.status != "skipped"]
        if isinstance(delivery, int):
            sent = [d for d in sent if d.id == delivery]
        target = delivery if isinstance(delivery, Delivery) else sent[-1] if sent else None
        if target is None:
            raise LookupError("no delivery to replay")
        return self.dispatcher.redeliver(target)

    def rotate_key(self, keep_old: bool = True) -> str:
        """A new signing key; the JWKS keeps publishing the old one when `keep_old`."""
        with self.store.lock:
            return self.keys.rotate(keep_old).kid

    def jwks(self) -> dict[str, Any]:
        return self.keys.jwks()

    # -- GraphQL ----------------------------------------------------------------------------

    def app_for_token(self, token: str | None) -> Rec | None:
        if not token:
            return None
        with self.store.lock:
            for app in self.store.all("App"):
                if any(hmac.compare_digest(t, token) for t in app["_tokens"]):
                    return app
        return None

    def execute(self, query: str, variables: dict[str, Any] | None = None, *,
                token: str | None = None, superuser: bool = False,
                operation_name: str | None = None) -> dict[str, Any]:
        """Runs an operation as the app owning `token` (or as staff with every permission)."""
        context = Context(self.store, superuser=True) if superuser else Context.for_app(
            self.store, self.app_for_token(token))
        body = {"query": query, "variables": variables, "operationName": operation_name}
        return self._operation(body, context)[0]

    def _operation(self, body: Any, context: Context) -> Result:
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return {"errors": [{"message": "Must provide a query string."}]}, 400
        try:
            document = parse(body["query"])
        except GraphQLError as failure:
            return {"errors": [format_error(failure)]}, 400
        problems = validate(self.schema.schema, document)
        if problems:
            return {"errors": [format_error(p) for p in problems]}, 400
        if any(isinstance(d, OperationDefinitionNode) and d.operation == OperationType.SUBSCRIPTION
               for d in document.definitions):
            return {"errors": [{"message": "Subscriptions are not allowed over HTTP."}]}, 400
        with self.store.lock:
            result = execute_sync(self.schema.schema, document, context_value=context,
                             variable_values=body.get("variables") or None,
                             operation_name=body.get("operationName"),
                             middleware=[PermissionMiddleware(self.schema.rules)])
        answer: dict[str, Any] = {"data": result.data}
        if result.errors:
            answer["errors"] = [format_error(e) for e in result.errors]
        request_error = result.data is None and all(e.path is None for e in result.errors or [])
        return answer, 400 if request_error else 200

    # -- WSGI -----------------------------------------------------------------------------

    def _make_app(self) -> Flask:
        from connectors.saleor.sandbox.control import control_blueprint

        app = Flask("saleor_sandbox")
        app.json.sort_keys = False  # type: ignore[attr-defined]  # keep the query's order
        app.register_blueprint(control_blueprint(self))

        @app.before_request
        def inject_faults() -> Any:
            return self._fault_response(request.path)

        @app.post("/graphql/")
        @app.post("/graphql")
        def graphql_api() -> Any:
            return self._graphql_view()

        @app.get("/graphql/")
        def graphql_page() -> Any:
            return Response("Saleor sandbox GraphQL API: POST queries here.\n",
                            mimetype="text/plain")

        @app.get("/.well-known/jwks.json")
        def jwks() -> Any:
            return jsonify(self.keys.jwks())

        return app

    def _fault_response(self, path: str) -> Response | None:
        if path.startswith("/graphql") and self.faults.slow_seconds:
            self._stopping.wait(self.faults.slow_seconds)
        fault = self.faults.take_http(path)
        if fault is None:
            return None
        if fault.hang:
            self._stopping.wait(fault.hang)
        if fault.status is None:
            return None
        if fault.status == 429:
            response = jsonify({"errors": [{"message": "Too many requests."}]})
            if fault.retry_after is not None:
                response.headers["Retry-After"] = f"{fault.retry_after:g}"
        elif fault.status in (502, 503, 504):
            response = Response(f"<html><body><h1>{fault.status}</h1>upstream unavailable"
                                "</body></html>", mimetype="text/html")
        else:
            response = jsonify({"errors": [{"message": "Internal Server Error"}]})
        response.status_code = fault.status
        return response

    def _graphql_view(self) -> Any:
        body = request.get_json(force=True, silent=True)
        if body is None:
            return jsonify({"errors": [{"message": "Unable to parse query."}]}), 400
        token = self._token(request.headers.get("Authorization"),
                            request.headers.get("Authorization-Bearer"))
        app = self.app_for_token(token)
        if token and app is None and self.strict_tokens:
            return jsonify({"errors": [{"message": "Invalid token.", "extensions": {
                "exception": {"code": "InvalidTokenError"}}}]}), 401
        context = Context.for_app(self.store, app)
        if isinstance(body, list):
            results = [self._operation(item, context) for item in body]
            return jsonify([r[0] for r in results]), max(r[1] for r in results) if results else 400
        answer, status = self._operation(body, context)
        return jsonify(answer), status

    @staticmethod
    def _token(authorization: str | None, bearer: str | None) -> str | None:
        if bearer:
            return bearer.strip()
        if authorization:
            scheme, _, value = authorization.strip().partition(" ")
            if scheme.lower() == "bearer" and value.strip():
                return value.strip()
        return None
