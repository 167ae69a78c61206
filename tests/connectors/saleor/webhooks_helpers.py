"""Signing deliveries as the mall does, for the connector and endpoint tests."""

from __future__ import annotations

import json

from connectors.saleor.webhooks import signed_headers
from tests.connectors.saleor.saleor_fakes import API_URL, rsa_key
from tests.mappings.saleor.samples import ORDER

BODY = json.dumps({"issuedAt": "2026-11-28T01:06:00+00:00", "order": ORDER},
                  ensure_ascii=False).encode()


def signed(event: str = "order_created", body: bytes = BODY, key: str = "main",
           kid: str = "k1") -> dict[str, str]:
    return signed_headers(event, body, rsa_key(key), kid, API_URL)
