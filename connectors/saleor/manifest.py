"""The Saleor app manifest the hub serves per connection: who it is, the permissions it
needs, where Saleor sends the app token, and the webhooks with their subscription queries."""

from __future__ import annotations

from typing import Any

from connectors.saleor.documents import WEBHOOK_SUBSCRIPTIONS

APP_VERSION = "0.1.0"
APP_NAME = "구독 허브 (Gudok Hub)"
# What the documents need: products, variants, stock and metadata; the subscription
# product type; orders and fulfilments (and the order webhooks).
REQUIRED_PERMISSIONS = ("MANAGE_PRODUCTS", "MANAGE_PRODUCT_TYPES_AND_ATTRIBUTES",
                        "MANAGE_ORDERS")


def app_manifest(connection_id: int, root_url: str) -> dict[str, Any]:
    """The manifest for one connection; `root_url` is the hub's public root, ending in /."""
    root = root_url if root_url.endswith("/") else root_url + "/"
    base = f"{root}saleor/{connection_id}"
    target = f"{root}webhooks/{connection_id}"
    return {
        "id": f"gudok-hub.{connection_id}",
        "version": APP_VERSION,
        "name": APP_NAME,
        "about": "지자체 구독 꾸러미를 몰과 민간 플랫폼에 함께 올리고, 주문과 재고를 "
                 "모아 소상공인 정산까지 잇는 통합 허브입니다.",
        "author": "Gudok Hub",
        "permissions": list(REQUIRED_PERMISSIONS),
        "appUrl": f"{base}/app",
        "tokenTargetUrl": f"{base}/register",
        "webhooks": [
            {"name": f"gudok {event.replace('_', ' ')}", "asyncEvents": [enum],
             "query": query.strip(), "targetUrl": target, "isActive": True}
            for event, (enum, query) in WEBHOOK_SUBSCRIPTIONS.items()
        ],
    }
