"""Saleor payloads as the connector's fragments select them, for the mapping tests."""

from __future__ import annotations

import copy
from typing import Any

ORDER: dict[str, Any] = {
    "id": "T3JkZXI6MWQ0YjU=",
    "number": "1042",
    "status": "UNFULFILLED",
    "paymentStatus": "FULLY_CHARGED",
    "chargeStatus": "FULL",
    "isPaid": True,
    "created": "2026-11-28T01:00:00.123456+00:00",
    "updatedAt": "2026-11-28T01:05:00+00:00",
    "channel": {"slug": "default-channel"},
    "user": {"id": "VXNlcjo3Nw=="},
    "userEmail": "kim@example.kr",
    "total": {"gross": {"amount": 78000.0, "currency": "KRW"}},
    "totalRefunded": {"amount": 0.0, "currency": "KRW"},
    "lines": [{
        "id": "T3JkZXJMaW5lOjE=", "quantity": 2, "quantityFulfilled": 0,
        "productSku": "gudok-1-monthly-3", "productVariantId": "UHJvZHVjdFZhcmlhbnQ6MTA=",
        "variant": {"id": "UHJvZHVjdFZhcmlhbnQ6MTA=", "product": {"id": "UHJvZHVjdDo1"}},
        "unitPrice": {"gross": {"amount": 39000.0, "currency": "KRW"}},
    }],
}

PRODUCT: dict[str, Any] = {
    "id": "UHJvZHVjdDo1",
    "name": "한빛 제철 꾸러미",
    "slug": "hanbit-seasonal",
    "description": '{"blocks": [{"type": "paragraph", "data": {"text": "제철 &amp; 로컬"}}, '
                   '{"type": "paragraph", "data": {"text": "둘째<br>줄"}}]}',
    "created": "2026-11-01T00:00:00+00:00",
    "updatedAt": "2026-11-20T00:00:00+00:00",
    "externalReference": None,
    "productType": {"id": "UHJvZHVjdFR5cGU6Mg==", "name": "구독 꾸러미"},
    "category": {"id": "Q2F0ZWdvcnk6Mw==", "slug": "gudok-boxes"},
    "metadata": [{"key": "gudok.category", "value": "produce"}],
    "media": [{"url": "https://mall.hanbit.example.kr/media/box.jpg"}],
    "channelListings": [{"channel": {"id": "Q2hhbm5lbDox", "slug": "default-channel"},
                         "isPublished": True, "visibleInListings": True,
                         "isAvailableForPurchase": True}],
    "productVariants": {"edges": [{"node": {
        "id": "UHJvZHVjdFZhcmlhbnQ6MTA=", "name": "월간 3회", "sku": "monthly-3",
        "externalReference": None, "updatedAt": "2026-11-20T00:00:00+00:00",
        "metadata": [{"key": "gudok.cadence", "value": "monthly"},
                     {"key": "gudok.prepaid_rounds", "value": "3"}],
        "channelListings": [{"channel": {"id": "Q2hhbm5lbDox", "slug": "default-channel",
                                         "currencyCode": "KRW"},
                             "price": {"amount": 117000.0, "currency": "KRW"}}],
        "stocks": [],
    }}]},
}

LISTING: dict[str, Any] = {
    "box_id": 11, "tenant_id": 1, "code": "seasonal.box", "title": "한빛 제철 꾸러미",
    "description": "제철 채소와 <로컬> 가공품.\n\n매달 한 번.", "images": [],
    "category": "produce", "status": "active", "box_version": 3, "available": 12,
    "plans": [
        {"plan_id": 21, "code": "monthly-3", "name": "월간 3회 선결제", "cadence": "monthly",
         "prepaid_rounds": 3, "term_rounds": None, "round_price": 39000},
        {"plan_id": 22, "code": "weekly-1", "name": "주간", "cadence": "weekly",
         "prepaid_rounds": 1, "term_rounds": 12, "round_price": 15000},
    ],
    "links": [{"connection_id": 2, "platform": "naver", "external_id": "9001",
               "url": "https://smartstore.naver.com/hanbit/products/9001"},
              {"connection_id": 3, "platform": "partner", "external_id": "p-1", "url": None}],
    "external_id": None,
}


def order(**changes: Any) -> dict[str, Any]:
    value = copy.deepcopy(ORDER)
    value.update(changes)
    return value


def product(**changes: Any) -> dict[str, Any]:
    value = copy.deepcopy(PRODUCT)
    value.update(changes)
    return value


def listing(**changes: Any) -> dict[str, Any]:
    value = copy.deepcopy(LISTING)
    value.update(changes)
    return value
