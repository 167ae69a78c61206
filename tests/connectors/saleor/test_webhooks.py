"""Saleor webhook signatures: detached RS256 JWS against the mall's JWKS (cached, refetched
for a new key id at most once per interval), and the legacy HMAC only when configured."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest
import responses

from connectors.base import WebhookSignatureError
from connectors.saleor import SaleorConnector
from connectors.saleor.webhooks import KeyCache, delivery_key, jwks_url
from hub.errors import TransientError
from tests.connectors.saleor.saleor_fakes import JWKS_URL, jwk, make_context, rsa_key, serve_jwks
from tests.connectors.saleor.webhooks_helpers import BODY, signed

connector = SaleorConnector()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def mock() -> Any:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as m:
        yield m


def test_jwks_url_is_at_the_api_origin() -> None:
    assert jwks_url("https://mall.example.kr:8443/graphql/") == \
        "https://mall.example.kr:8443/.well-known/jwks.json"
    assert JWKS_URL == "https://mall.hanbit.example.kr/.well-known/jwks.json"


def test_a_signed_delivery_verifies_and_parses(mock: Any) -> None:
    serve_jwks(mock, jwk(rsa_key("main"), "k1"))
    ctx = make_context()
    delivery = connector.verify_webhook(ctx, signed(), BODY)
    assert delivery.event == "order_created" and delivery.body == BODY
    assert delivery.delivery_key == hashlib.sha256(b"order_created" + BODY).hexdigest()
    [event] = connector.parse_webhook(ctx, delivery)
    assert event["kind"] == "order.upserted" and event["order"]["total"] == 78000


def test_keys_are_cached_per_connection(mock: Any) -> None:
    fetch = serve_jwks(mock, jwk(rsa_key("main"), "k1"))
    cache = KeyCache()
    for _ in range(3):
        connector.verify_webhook(make_context(cache=cache), signed(), BODY)
    assert fetch.call_count == 1
    connector.verify_webhook(make_context(cache=cache, connection_id=8), signed(), BODY)
    assert fetch.call_count == 2


@pytest.mark.parametrize("tamper", [
    lambda h, b: (h, b + b" "),
    lambda h, b: (h, b.replace(b"78000", b"7800")),
    lambda h, b: ({**h, "Saleor-Event": "order_cancelled"}, b),  # same key, other event
])
def test_a_tampered_delivery_is_refused(mock: Any, tamper: Any) -> None:
    serve_jwks(mock, jwk(rsa_key("main"), "k1"))
    headers, body = tamper(signed(), BODY)
    if headers["Saleor-Event"] == "order_cancelled":
        # The event header is not signed; it only changes the dedupe key, never the body.
        delivery = connector.verify_webhook(make_context(), headers, body)
        assert delivery.delivery_key != delivery_key("order_created", body)
        return
    with pytest.raises(WebhookSignatureError):
        connector.verify_webhook(make_context(), headers, body)


def test_a_delivery_signed_with_another_key_is_refused(mock: Any) -> None:
    serve_jwks(mock, jwk(rsa_key("main"), "k1"))
    with pytest.raises(WebhookSignatureError):
        connector.verify_webhook(make_context(), signed(key="attacker", kid="k1"), BODY)


def test_an_unknown_key_id_refetches_the_keys_once_per_interval(mock: Any) -> None:
    clock = Clock()
    cache = KeyCache(refetch_interval=60, clock=clock)
    fetch = serve_jwks(mock, jwk(rsa_key("main"), "k1"))
    connector.verify_webhook(make_context(cache=cache), signed(), BODY)
    # The mall rotates to k2; the first delivery signed with it triggers one refetch.
    mock.replace(responses.GET, JWKS_URL, json={"keys": [jwk(rsa_key("main"), "k1"),
                                                          jwk(rsa_key("rotated"), "k2")]})
    clock.now += 61
    delivery = connector.verify_webhook(make_context(cache=cache),
                                        signed(key="rotated", kid="k2"), BODY)
    assert delivery.event == "order_created"
    refetched = mock.registered()[0].call_count + fetch.call_count
    # Made-up key ids within the interval fetch nothing: they cannot be checked now, so
    # the answer is transient (a genuine delivery is retried), never a fetch per request.
    for kid in ("x1", "x2", "x3"):
        with pytest.raises(TransientError):
            connector.verify_webhook(make_context(cache=cache),
                                     signed(key="attacker", kid=kid), BODY)
    assert mock.registered()[0].call_count + fetch.call_count == refetched
    # After the interval one more fetch settles it: the key does not exist.
    clock.now += 61
    with pytest.raises(WebhookSignatureError, match="does not publish"):
        connector.verify_webhook(make_context(cache=cache), signed(key="attacker", kid="x4"),
                                 BODY)


def test_the_jwks_being_unreachable_is_transient(mock: Any) -> None:
    mock.add(responses.GET, JWKS_URL, status=503)
    with pytest.raises(TransientError):
        connector.verify_webhook(make_context(), signed(), BODY)


def _jws(header: dict[str, Any], body: bytes = BODY) -> dict[str, str]:
    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    encoded = b64(json.dumps(header).encode())
    good = signed()["Saleor-Signature"].split("..")[1]
    return {"Saleor-Event": "order_created", "Saleor-Signature": f"{encoded}..{good}"}


@pytest.mark.parametrize("headers", [
    {},
    {"Saleor-Event": "order_created"},
    {"Saleor-Event": "order_created", "Saleor-Signature": "garbage"},
    {"Saleor-Event": "../etc", "Saleor-Signature": "a..b"},
    _jws({"alg": "none", "b64": False, "crit": ["b64"], "kid": "k1"}),
    _jws({"alg": "HS256", "b64": False, "crit": ["b64"], "kid": "k1"}),
    _jws({"alg": "RS256", "kid": "k1"}),  # b64 true: payload would be encoded
    _jws({"alg": "RS256", "b64": False, "crit": ["b64", "exp"], "kid": "k1"}),
    _jws({"alg": "RS256", "b64": False, "crit": ["b64"]}),
])
def test_malformed_or_missing_signatures_are_refused(mock: Any, headers: dict) -> None:
    serve_jwks(mock, jwk(rsa_key("main"), "k1"))
    with pytest.raises(WebhookSignatureError):
        connector.verify_webhook(make_context(), headers, BODY)


def test_legacy_hmac_only_when_the_connection_has_a_secret(mock: Any) -> None:
    secret = "legacy-secret-2f8e"
    digest = hmac.new(secret.encode(), BODY, hashlib.sha256).hexdigest()
    headers = {"Saleor-Event": "order_created", "Saleor-Signature": digest}
    with pytest.raises(WebhookSignatureError, match="not accepted"):
        connector.verify_webhook(make_context(), headers, BODY)
    ctx = make_context({"legacy_webhook_secret": secret})
    assert connector.verify_webhook(ctx, headers, BODY).event == "order_created"
    with pytest.raises(WebhookSignatureError):
        connector.verify_webhook(ctx, headers, BODY + b"x")
    with pytest.raises(WebhookSignatureError):
        connector.verify_webhook(ctx, {**headers, "Saleor-Signature": "0" * 64}, BODY)
    # JWS still works on a connection that also has the legacy secret.
    serve_jwks(mock, jwk(rsa_key("main"), "k1"))
    assert connector.verify_webhook(ctx, signed(), BODY).event == "order_created"
