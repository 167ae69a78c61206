"""PartnerSandbox: a local subscription platform that integrates through the hub's Partner
API, for the demo and the integration tests. Loopback only, both ways.

As a platform it reads the hub's feed, lists the boxes as its own products and reports the
links, submits its own products, and sends order events as Standard Webhooks; it receives
the hub's notifications and serves its event log and product pages. Faults can be injected
both ways (see sandbox_faults.py).

    with PartnerSandbox("다온", hub_url=..., connection_id=..., api_token=...,
                        inbound_secret=..., outbound_secret=...) as platform:
        platform.read_feed()
        platform.report_links()
        order_id = platform.place_order("BOX-1", "PLAN-1")
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import secrets as _random
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import requests

from connectors.partner.sandbox_faults import Faults
from connectors.partner.sandbox_orders import OrderEvents
from connectors.partner.sandbox_server import (
    Notification,
    NotificationAttempt,
    NotificationInbox,
    PlatformServer,
    PlatformSide,
)
from connectors.partner.sandbox_settlements import SettlementDesk
from connectors.partner.sandbox_webhooks import Delivery, Sender, WebhookSender
from connectors.partner.signing import new_secret

__all__ = ["Delivery", "Faults", "HubAnswer", "HubRefused", "Notification",
           "NotificationAttempt", "PartnerSandbox", "ProductLink"]

CADENCES = frozenset({"weekly", "biweekly", "monthly"})
FEED_PAGE_SIZE = 100
MAX_FEED_PAGES = 1000


class HubRefused(RuntimeError):
    """The hub answered a Partner API call with something other than 2xx."""

    def __init__(self, method: str, path: str, status: int, body: Any) -> None:
        super().__init__(f"{method} {path}: the hub answered {status}: {body!r}"[:500])
        self.status, self.body = status, body


@dataclass(frozen=True)
class HubAnswer:
    status: int
    body: Any


@dataclass(frozen=True)
class ProductLink:
    """A fed box as this platform lists it."""

    product_id: str
    url: str
    title: str


def _loopback_url(url: str) -> str:
    host = urlsplit(url).hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if urlsplit(url).scheme not in ("http", "https") or not loopback:
        raise ValueError(f"the sandbox only talks to loopback addresses, not {url!r}")
    return url if url.endswith("/") else url + "/"


class PartnerSandbox(OrderEvents, SettlementDesk):
    """Thread-safe. start()/stop() or use it as a context manager."""

    def __init__(self, name: str, *, hub_url: str, connection_id: int, api_token: str,
                 inbound_secret: str, outbound_secret: str, events_token: str | None = None,
                 clock: Callable[[], datetime] | None = None, sender: Sender | None = None,
                 host: str = "127.0.0.1", port: int = 0, timeout: float = 10.0) -> None:
        _loopback_url(f"http://[{host}]/" if ":" in host else f"http://{host}/")
        self.name, self.hub_url = name, _loopback_url(hub_url)
        self.connection_id, self.host, self._port = int(connection_id), host, port
        self.clock = clock or (lambda: datetime.now(UTC))
        self.events_token = events_token or _random.token_urlsafe(24)
        self.faults = Faults()
        self._api_token, self._outbound_secret, self._timeout = api_token, outbound_secret, timeout
        self._inbox = NotificationInbox()
        self._webhooks = WebhookSender(self.webhook_url, inbound_secret, self.faults,
                                       self.clock, sender, timeout)
        self._lock = threading.RLock()
        self._run = _random.token_hex(3)  # ids stay unique across restarts against one hub
        self._feed_cursor: str | None = None
        self._boxes: dict[str, dict[str, Any]] = {}
        self._box_products: dict[str, str] = {}
        self._titles: dict[str, str] = {}
        self._orders: dict[str, dict[str, Any]] = {}
        self._submitted: dict[str, HubAnswer] = {}
        self._session = requests.Session()
        self._session.trust_env = False  # loopback stays local, whatever the proxies say
        self._server: PlatformServer | None = None

    # -- lifecycle and addresses --------------------------------------------------------

    def start(self) -> PartnerSandbox:
        with self._lock:
            if self._server is None:
                side = PlatformSide(self.name, self._outbound_secret, self.events_token,
                                    self.faults, self._inbox, self._webhooks, self.clock,
                                    self._title, threading.Event(), self.settlement_report)
                self._server = PlatformServer(side, self.host, self._port)
                self._port = self._server.port
        return self

    def stop(self) -> None:
        with self._lock:
            server, self._server = self._server, None
        if server is not None:
            server.stop()
        self._webhooks.close()
        self._session.close()

    def __enter__(self) -> PartnerSandbox:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("start() the sandbox first: its port is chosen then")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._port}/"

    @property
    def notifications_url(self) -> str:
        return self.url + "notifications"

    @property
    def events_url(self) -> str:
        return self.url + "events"

    @property
    def settlements_url(self) -> str:
        return self.url + "settlements"

    @property
    def webhook_url(self) -> str:
        """Where the platform sends its webhooks: the hub's endpoint for the connection."""
        return urljoin(self.hub_url, f"webhooks/{self.connection_id}")

    def product_url(self, product_id: str) -> str:
        return self.url + "products/" + quote(product_id, safe="")

    # -- what the platform holds --------------------------------------------------------

    @property
    def notifications(self) -> list[Notification]:
        """The hub's notifications accepted, once per webhook-id, in arrival order."""
        return self._inbox.notifications

    @property
    def notification_attempts(self) -> list[NotificationAttempt]:
        """Every request to /notifications with the status it got, faults included."""
        return self._inbox.attempts

    @property
    def events(self) -> list[dict[str, Any]]:
        """The platform's event log (order events, with ids), oldest first."""
        return self._webhooks.log

    @property
    def deliveries(self) -> list[Delivery]:
        """Every webhook made, with the hub's answers."""
        return self._webhooks.deliveries

    @property
    def held(self) -> list[Delivery]:
        return self._webhooks.held

    @property
    def boxes(self) -> dict[str, dict[str, Any]]:
        """The boxes currently offered, by code, as the feed last said."""
        with self._lock:
            return dict(self._boxes)

    @property
    def submitted(self) -> dict[str, HubAnswer]:
        """The hub's latest answer to each of the platform's own products submitted."""
        with self._lock:
            return dict(self._submitted)

    def _title(self, product_id: str) -> str | None:
        with self._lock:
            return self._titles.get(product_id)

    # -- the Partner API, as the platform calls it ----------------------------------------

    def _hub(self, method: str, path: str, *, json: Any = None,
             params: Mapping[str, Any] | None = None, expect: Sequence[int] = ()) -> HubAnswer:
        response = self._session.request(
            method, urljoin(self.hub_url, path), json=json, params=params,
            headers={"Authorization": f"Bearer {self._api_token}"}, timeout=self._timeout,
            allow_redirects=False)
        try:
            body: Any = response.json()
        except ValueError:
            body = response.text
        if expect and response.status_code not in expect:
            raise HubRefused(method, path, response.status_code, body)
        return HubAnswer(response.status_code, body)

    def read_feed(self) -> dict[str, dict[str, Any]]:
        """Page through the feed from the stored cursor until has_more is false."""
        for _page in range(MAX_FEED_PAGES):
            params: dict[str, Any] = {"limit": FEED_PAGE_SIZE}
            if self._feed_cursor:
                params["cursor"] = self._feed_cursor
            body = self._hub("GET", "api/v1/partner/feed", params=params, expect=(200,)).body
            with self._lock:
                for entry in body["data"]:
                    if entry.get("offered"):
                        self._boxes[entry["code"]] = entry
                    else:
                        self._boxes.pop(entry["code"], None)
                self._feed_cursor = body["next_cursor"]
            if not body.get("has_more"):
                return self.boxes
        raise RuntimeError("the hub's feed never ended")

    def _product_id(self, code: str) -> str:
        with self._lock:
            if code not in self._boxes:
                raise LookupError(f"box {code!r} is not in the feed: read_feed() first")
            product_id = self._box_products.setdefault(
                code, f"p-{self._run}-{len(self._box_products) + 1:04d}")
            self._titles[product_id] = str(self._boxes[code].get("title") or code)
            return product_id

    def list_boxes(self) -> dict[str, ProductLink]:
        """Every fed box as a product of this platform; ids and URLs stay the same."""
        links = {}
        for code in sorted(self.boxes):
            product_id = self._product_id(code)
            links[code] = ProductLink(product_id, self.product_url(product_id),
                                      self._title(product_id) or code)
        return links

    def report_links(self) -> int:
        """PUT every listed box's product id and URL to the hub; returns how many."""
        links = self.list_boxes()
        for code, link in links.items():
            self._hub("PUT", f"api/v1/partner/listings/{quote(code, safe='')}",
                      json={"external_id": link.product_id, "url": link.url}, expect=(200,))
        return len(links)

    def submit_product(self, external_id: str, name: str, description: str, price: int,
                       cadence: str, image_url: str | None = None) -> HubAnswer:
        """Offer one of the platform's own subscription products to the mall, with its page
        here as the URL; the hub's answer (201 new, 200 after, or a problem) is returned."""
        if cadence not in CADENCES:
            raise ValueError(f"cadence must be one of {sorted(CADENCES)}")
        if isinstance(price, bool) or not isinstance(price, int) or price < 0:
            raise ValueError("price is whole won, not negative")
        with self._lock:
            self._titles[external_id] = name
        body: dict[str, Any] = {"name": name, "description": description,
                                "url": self.product_url(external_id), "price": price,
                                "cadence": cadence}
        if image_url is not None:
            body["image_url"] = image_url
        answer = self._hub("PUT", f"api/v1/partner/products/{quote(external_id, safe='')}",
                           json=body)
        with self._lock:
            self._submitted[external_id] = answer
        return answer

    def withdraw_product(self, external_id: str) -> HubAnswer:
        return self._hub("DELETE", f"api/v1/partner/products/{quote(external_id, safe='')}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m connectors.partner.sandbox",
        description="A local partner subscription platform (loopback only). Without secrets "
                    "it makes new ones and prints them for the hub's connection config.")
    parser.add_argument("--name", default="sandbox platform")
    parser.add_argument("--hub-url", default="http://127.0.0.1:5000/")
    parser.add_argument("--connection-id", type=int, required=True)
    parser.add_argument("--api-token", required=True, help="a partner token of the connection")
    parser.add_argument("--inbound-secret", help="whsec_... the platform signs webhooks with")
    parser.add_argument("--outbound-secret", help="whsec_... the hub signs notifications with")
    parser.add_argument("--port", type=int, default=8020)
    args = parser.parse_args(argv)
    inbound, outbound = args.inbound_secret or new_secret(), args.outbound_secret or new_secret()
    with PartnerSandbox(args.name, hub_url=args.hub_url, connection_id=args.connection_id,
                        api_token=args.api_token, inbound_secret=inbound,
                        outbound_secret=outbound, port=args.port) as platform:
        print(f"{platform.name} at {platform.url}\n  outbound_url  {platform.notifications_url}"
              f"\n  events_url    {platform.events_url}\n  events_token  {platform.events_token}",
              flush=True)
        if not (args.inbound_secret and args.outbound_secret):
            print(f"  inbound_secret  {inbound}\n  outbound_secret {outbound}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
