"""Webhook deliveries like Saleor's: the payload is the app's subscription query executed
against the event, the body is signed (JWS with detached payload, or the legacy HMAC),
and a delivery is retried only when the target answers 5xx or cannot be reached."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from itertools import count
from typing import Any

import requests
from graphql import execute_sync

from connectors.saleor.sandbox.context import Context, PermissionMiddleware
from connectors.saleor.sandbox.faults import Faults
from connectors.saleor.sandbox.net import is_loopback_url, outbound_session
from connectors.saleor.sandbox.schema import SALEOR_VERSION, SCHEMA_VERSION, SandboxSchema
from connectors.saleor.sandbox.signing import KeyRing, hmac_signature, tamper
from connectors.saleor.sandbox.store import Rec, Store

EVENT_PERMISSIONS = (("ORDER_", "MANAGE_ORDERS"), ("FULFILLMENT_", "MANAGE_ORDERS"),
                     ("PRODUCT_", "MANAGE_PRODUCTS"))


def event_type_name(event: str) -> str:
    """ORDER_FULLY_PAID -> OrderFullyPaid, the Event type Saleor resolves for it."""
    return "".join(part.capitalize() for part in event.lower().split("_"))


@dataclass
class Delivery:
    """One webhook delivery, as sent (or held, skipped, failed)."""

    id: int
    event: str  # Saleor-Event header value, e.g. "order_created"
    webhook_id: str
    app_id: str
    target_url: str
    body: bytes
    headers: dict[str, str]
    status: str = "pending"  # pending, held, delivered, failed, skipped
    attempts: list[int | str] = field(default_factory=list)
    error: str | None = None

    @property
    def payload(self) -> Any:
        return json.loads(self.body)


class Dispatcher:
    """Builds deliveries while the store is locked; a worker thread sends them in order."""

    def __init__(self, store: Store, schema: SandboxSchema, keys: KeyRing, faults: Faults,
                 api_url: Callable[[], str], domain: Callable[[], str],
                 retry_delays: tuple[float, ...] = (0.05, 0.2), max_attempts: int = 3,
                 timeout: float = 10.0) -> None:
        self.store, self.schema, self.keys, self.faults = store, schema, keys, faults
        self.api_url, self.domain = api_url, domain
        self.retry_delays, self.max_attempts, self.timeout = retry_delays, max_attempts, timeout
        self.deliveries: list[Delivery] = []
        self._ids = count(1)
        self._queue: deque[Delivery] = deque()
        self._held: list[Delivery] = []
        self._hold_target = 0
        self._in_flight = 0
        self._cond = threading.Condition()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._http = outbound_session()

    # -- building -----------------------------------------------------------------------

    def subscribers(self, event: str) -> list[Rec]:
        needed = next((perm for prefix, perm in EVENT_PERMISSIONS if event.startswith(prefix)),
                      None)
        return [w for w in self.store.all("Webhook")
                if w["isActive"] and w["app"]["isActive"] and event in w["_events"]
                and (needed is None or needed in w["app"]["_permissions"])]

    def emit(self, event: str, principal: Rec | None, **objects: Any) -> None:
        """Called by the mall when `event` happens; the store lock is held."""
        type_name = event_type_name(event)
        if type_name not in self.schema.schema.type_map:
            return
        for webhook in self.subscribers(event):
            record: Rec = {"__typename": type_name, "issuedAt": self.store.now(),
                           "version": SALEOR_VERSION, "issuingPrincipal": principal,
                           "recipient": webhook["app"], **objects}
            self._deliver(webhook, event, record)

    def _deliver(self, webhook: Rec, event: str, record: Rec) -> None:
        result = execute_sync(self.schema.schema, webhook["_document"], root_value=record,
                         context_value=Context.for_app(self.store, webhook["app"]),
                         middleware=[PermissionMiddleware(self.schema.rules)])
        delivery = Delivery(id=next(self._ids), event=event.lower(), webhook_id=webhook["id"],
                            app_id=webhook["app"]["id"], target_url=webhook["targetUrl"],
                            body=b"", headers={})
        if result.errors or not result.data:
            delivery.status = "skipped"
            delivery.error = "; ".join(e.message for e in result.errors or []) or "no data"
            self.deliveries.append(delivery)
            return
        delivery.body = json.dumps(next(iter(result.data.values()))).encode()
        faults = self.faults.take_delivery()
        signature = self._sign(webhook, delivery.body, faults.wrong_key, faults.unknown_kid)
        if faults.tamper_signature:
            signature = tamper(signature)
        if faults.tamper_body and delivery.body.startswith(b"{"):
            delivery.body = b'{"tampered": true, ' + delivery.body[1:]
            if delivery.body.endswith(b", }"):
                delivery.body = delivery.body[:-3] + b"}"
        delivery.headers = self._headers(delivery.event, signature)
        copies = [delivery]
        if faults.duplicate:
            copies.append(replace(delivery, id=next(self._ids), attempts=[]))
        for copy in copies:
            self._enqueue(copy)

    def _sign(self, webhook: Rec, body: bytes, wrong_key: bool, unknown_kid: bool) -> str:
        secret = webhook.get("secretKey")
        if secret:
            return hmac_signature(body, "not-" + secret if wrong_key else secret)
        if wrong_key:
            return self.keys.sign_with_wrong_key(body, unknown_kid=unknown_kid)
        return self.keys.sign(body)

    def _headers(self, event: str, signature: str) -> dict[str, str]:
        domain = self.domain()
        return {"Content-Type": "application/json", "User-Agent": f"Saleor/{SCHEMA_VERSION}",
                "X-Saleor-Event": event, "X-Saleor-Domain": domain,
                "X-Saleor-Signature": signature, "Saleor-Event": event,
                "Saleor-Domain": domain, "Saleor-Signature": signature,
                "Saleor-Api-Url": self.api_url()}

    # -- queueing -----------------------------------------------------------------------

    def _enqueue(self, delivery: Delivery) -> None:
        with self._cond:
            self.deliveries.append(delivery)
            if not self._hold_target:
                self._hold_target = self.faults.take_reorder()
            if self._hold_target:
                delivery.status = "held"
                self._held.append(delivery)
                if len(self._held) >= self._hold_target:
                    self._release_held()
                return
            self._queue.append(delivery)
            self._ensure_worker()
            self._cond.notify_all()

    def _release_held(self) -> None:
        for delivery in reversed(self._held):
            delivery.status = "pending"
            self._queue.append(delivery)
        self._held.clear()
        self._hold_target = 0
        self._ensure_worker()
        self._cond.notify_all()

    def redeliver(self, delivery: Delivery) -> Delivery:
        """Sends a delivery again, byte for byte (a replay)."""
        again = replace(delivery, id=next(self._ids), status="pending", attempts=[], error=None)
        with self._cond:
            self.deliveries.append(again)
            self._queue.append(again)
            self._ensure_worker()
            self._cond.notify_all()
        return again

    def drain(self, timeout: float = 15.0) -> bool:
        """Releases held deliveries and waits until every delivery is done."""
        deadline = time.monotonic() + timeout
        with self._cond:
            if self._held:
                self._release_held()
            while self._queue or self._in_flight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
        return True

    # -- sending ------------------------------------------------------------------------

    def _ensure_worker(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._stopping.clear()
            self._thread = threading.Thread(target=self._run, name="saleor-sandbox-webhooks",
                                            daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stopping.is_set():
            with self._cond:
                while not self._queue and not self._stopping.is_set():
                    self._cond.wait(0.5)
                if self._stopping.is_set():
                    return
                delivery = self._queue.popleft()
                self._in_flight += 1
            try:
                self._send(delivery)
            finally:
                with self._cond:
                    self._in_flight -= 1
                    self._cond.notify_all()

    def _send(self, delivery: Delivery) -> None:
        if not is_loopback_url(delivery.target_url):
            delivery.status, delivery.error = "failed", "refused: not a loopback address"
            return
        for attempt in range(self.max_attempts):
            if attempt:
                delay = self.retry_delays[min(attempt - 1, len(self.retry_delays) - 1)]
                if self._stopping.wait(delay):
                    break
            try:
                response = self._http.post(delivery.target_url, data=delivery.body,
                                         headers=delivery.headers, timeout=self.timeout,
                                         allow_redirects=False)
            except requests.RequestException as failure:
                delivery.attempts.append(type(failure).__name__)
                delivery.error = str(failure)
                continue
            delivery.attempts.append(response.status_code)
            if response.status_code >= 500:
                continue
            ok = 200 <= response.status_code < 300
            delivery.status = "delivered" if ok else "failed"
            delivery.error = None if ok else f"answered {response.status_code}"
            return
        delivery.status = "failed"
