"""The webhooks the partner sandbox sends the hub, and its own event log.

Every event gets a webhook-id when it is made; order events also go into the log that
GET /events serves, whatever becomes of their delivery, so a hub that missed a webhook
still finds the event there. Deliveries are signed per Standard Webhooks with the
connection's inbound secret, unless a fault says otherwise."""

from __future__ import annotations

import json
import secrets as _random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from connectors.partner import signing
from connectors.partner.sandbox_faults import Faults, SendFaults

Sender = Callable[[str, Mapping[str, str], bytes], int]
"""(url, headers, body) -> the HTTP status the receiver answered."""

STALE_BY = timedelta(hours=2)  # beyond the largest tolerance a connection may set
LOGGED_TYPES = frozenset({"order.placed", "order.cancelled", "order.refunded"})


def iso_seconds(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class Delivery:
    """One webhook: what was sent and every answer the receiver gave (None: not sent yet)."""

    webhook_id: str
    type: str
    body: bytes
    statuses: list[int] = field(default_factory=list)
    faults: tuple[str, ...] = ()

    @property
    def status(self) -> int | None:
        """The receiver's first answer."""
        return self.statuses[0] if self.statuses else None

    @property
    def envelope(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.body)
        return value


class WebhookSender:
    """Makes, logs and sends the platform's events. Thread-safe; no lock is held while
    sending."""

    def __init__(self, url: str, secret: str, faults: Faults, clock: Callable[[], datetime],
                 sender: Sender | None = None, timeout: float = 10.0) -> None:
        signing.parse_secret(secret)  # a bad secret fails here, not at the first send
        self.url, self._secret, self._faults, self._clock = url, secret, faults, clock
        self._send_one: Sender = sender or self._post
        self._timeout = timeout
        self._lock = threading.Lock()
        self._log: list[dict[str, Any]] = []
        self._positions: dict[str, int] = {}
        self._deliveries: list[Delivery] = []
        self._held: list[tuple[Delivery, SendFaults]] = []
        self._sessions: list[requests.Session] = []
        self._local = threading.local()

    # -- making events ------------------------------------------------------------------

    def emit(self, event_type: str, data: Mapping[str, Any]) -> Delivery:
        """Make one event now, log it if it is an order event, and send it (or hold it)."""
        envelope = {"type": event_type, "timestamp": iso_seconds(self._clock()),
                    "data": dict(data)}
        body = json.dumps(envelope, ensure_ascii=False, separators=(",", ":"),
                          allow_nan=False).encode("utf-8")
        delivery = Delivery("msg_" + _random.token_urlsafe(15), event_type, body)
        faults = self._faults.take_send()
        delivery.faults = faults.names
        batch: list[tuple[Delivery, SendFaults]] = []
        with self._lock:
            if event_type in LOGGED_TYPES:
                self._positions[delivery.webhook_id] = len(self._log)
                self._log.append({"id": delivery.webhook_id, **envelope})
            self._deliveries.append(delivery)
            if faults.held:
                self._held.append((delivery, faults))
                if faults.release:
                    batch, self._held = list(reversed(self._held)), []
            else:
                batch = [(delivery, faults)]
        for held, held_faults in batch:
            self._send(held, held_faults)
        return delivery

    def flush(self) -> list[Delivery]:
        """Send the held webhooks now, in reverse order of making."""
        with self._lock:
            batch, self._held = list(reversed(self._held)), []
        for delivery, faults in batch:
            self._send(delivery, faults)
        return [delivery for delivery, _faults in batch]

    @property
    def deliveries(self) -> list[Delivery]:
        with self._lock:
            return list(self._deliveries)

    @property
    def held(self) -> list[Delivery]:
        with self._lock:
            return [delivery for delivery, _faults in self._held]

    # -- the event log ------------------------------------------------------------------

    @property
    def log(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(entry) for entry in self._log]

    def events_after(self, after: str | None, limit: int) -> tuple[list[dict[str, Any]],
                                                                   str | None]:
        """The logged events after the one with id `after` (all without it), oldest first,
        and the id to pass next time. An unknown id raises LookupError."""
        with self._lock:
            start = 0
            if after:
                if after not in self._positions:
                    raise LookupError(after)
                start = self._positions[after] + 1
            page = [dict(entry) for entry in self._log[start:start + limit]]
        return page, page[-1]["id"] if page else after

    # -- sending ------------------------------------------------------------------------

    def _send(self, delivery: Delivery, faults: SendFaults) -> None:
        now = self._clock() - (STALE_BY if faults.stale_timestamp else timedelta(0))
        secret = signing.new_secret() if faults.wrong_signature else self._secret
        headers = signing.headers_for(secret, delivery.webhook_id, delivery.body, now)
        headers["Content-Type"] = "application/json"
        if not faults.concurrent:
            for _copy in range(faults.copies):
                status = self._send_one(self.url, headers, delivery.body)
                with self._lock:
                    delivery.statuses.append(status)
            return
        start = threading.Barrier(faults.copies)
        errors: list[BaseException] = []

        def send_copy() -> None:
            try:
                start.wait(timeout=10)
                status = self._send_one(self.url, headers, delivery.body)
            except BaseException as error:  # noqa: BLE001 - re-raised in the caller's thread
                errors.append(error)
                return
            with self._lock:
                delivery.statuses.append(status)

        threads = [threading.Thread(target=send_copy, daemon=True)
                   for _copy in range(faults.copies)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=self._timeout * 2)
        if errors:
            raise errors[0]

    def _post(self, url: str, headers: Mapping[str, str], body: bytes) -> int:
        """The default sender: one POST over loopback, proxies from the environment ignored,
        one session per thread."""
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.trust_env = False
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        response = session.post(url, data=body, headers=dict(headers), timeout=self._timeout,
                                allow_redirects=False)
        return int(response.status_code)

    def close(self) -> None:
        with self._lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()
