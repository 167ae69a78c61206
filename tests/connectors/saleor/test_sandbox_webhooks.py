"""Install handshake, signed webhooks and the fault injectors of the Saleor sandbox."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
import requests
from jwt import PyJWK

from connectors.saleor.sandbox import InstallError, SaleorSandbox
from tests.connectors.saleor.test_sandbox_support import EVENTS, Hub, data, gql, push_box


@pytest.fixture
def sandbox() -> Iterator[SaleorSandbox]:
    with SaleorSandbox(retry_delays=(0.01,)) as mall:
        yield mall


@pytest.fixture
def hub() -> Iterator[Hub]:
    stand_in = Hub().start()
    yield stand_in
    stand_in.stop()


@pytest.fixture
def token(sandbox: SaleorSandbox, hub: Hub) -> str:
    return sandbox.install_app(f"{hub.url}/manifest").token


def verify(sandbox: SaleorSandbox, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    """What the hub must do: RS256 JWS with detached payload, key from the mall's JWKS."""
    signature = headers["Saleor-Signature"]
    header = jwt.get_unverified_header(signature)
    keys = requests.get(sandbox.jwks_url, timeout=5).json()["keys"]
    jwk = next((k for k in keys if k["kid"] == header["kid"]), None)
    if jwk is None:
        raise jwt.InvalidKeyError("unknown kid")
    decoded: dict[str, Any] = jwt.api_jws.decode_complete(
        signature, PyJWK(jwk).key, algorithms=["RS256"], detached_payload=body)
    return decoded


def test_install_handshake(sandbox: SaleorSandbox, hub: Hub) -> None:
    app = sandbox.install_app(f"{hub.url}/manifest")
    assert hub.manifest_headers[0]["Saleor-Schema-Version"] == "3.23"
    token, headers = hub.tokens[0]
    assert token == app.token and len(token) == 30
    assert headers["Saleor-Api-Url"] == sandbox.graphql_url
    assert headers["Saleor-Domain"] == sandbox.domain == headers["X-Saleor-Domain"]
    assert hub.callbacks == [{"data": {"app": {"id": app.id, "name": "Gudok Hub"}}}]
    body = data(sandbox, "{ app { permissions { code } webhooks { name targetUrl isActive "
                "asyncEvents { eventType } } } }", token=token)["app"]
    assert {p["code"] for p in body["permissions"]} == set(app.permissions)
    webhook = body["webhooks"][0]
    assert webhook["targetUrl"] == f"{hub.url}/webhooks" and webhook["isActive"]
    assert [e["eventType"] for e in webhook["asyncEvents"]] == EVENTS
    with pytest.raises(InstallError, match="already installed"):
        sandbox.install_app(f"{hub.url}/manifest")


def test_install_fails_when_the_app_refuses_the_token(sandbox: SaleorSandbox,
                                                      hub: Hub) -> None:
    hub.register_status = 500
    with pytest.raises(InstallError, match="did not accept its token"):
        sandbox.install_app(f"{hub.url}/manifest")
    assert sandbox.store.all("App") == []
    assert gql(sandbox, "{ app { id } }", token=hub.tokens[0][0]).json()["data"] == {
        "app": None}


def test_install_rejects_a_bad_manifest(sandbox: SaleorSandbox, hub: Hub,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    broken = hub.manifest()
    broken["permissions"] = ["MANAGE_EVERYTHING"]
    monkeypatch.setattr(hub, "manifest", lambda: broken)
    with pytest.raises(InstallError, match="permissions don't exist"):
        sandbox.install_app(f"{hub.url}/manifest")
    broken["permissions"] = []
    broken["webhooks"][0]["query"] = "subscription { event { ... on OrderCreated { nope } } }"
    with pytest.raises(InstallError, match="Subscription query is not valid"):
        sandbox.install_app(f"{hub.url}/manifest")


def test_webhooks_are_signed_like_saleor_and_verify(sandbox: SaleorSandbox, hub: Hub,
                                                    token: str) -> None:
    box = push_box(sandbox, token)
    order_id = sandbox.place_order([(box["weekly"], 2)])
    assert sandbox.drain()
    headers, body = next((h, b) for h, b in hub.received if h["Saleor-Event"] == "order_created")
    assert headers["Saleor-Domain"] == sandbox.domain
    assert headers["Saleor-Api-Url"] == sandbox.graphql_url
    assert headers["X-Saleor-Signature"] == headers["Saleor-Signature"]
    decoded = verify(sandbox, headers, body)
    kid = sandbox.jwks()["keys"][0]["kid"]
    assert decoded["header"] == {"alg": "RS256", "b64": False, "crit": ["b64"], "kid": kid,
                                 "typ": "JWT"}
    header_segment, payload_segment, _ = headers["Saleor-Signature"].split(".")
    assert payload_segment == ""
    expected = jwt.api_jws.encode(body, sandbox.keys.current.private_key, algorithm="RS256",
                                  headers={"kid": kid}, is_payload_detached=True)
    assert headers["Saleor-Signature"] == expected
    payload = json.loads(body)
    assert payload["__typename"] == "OrderCreated"
    assert payload["order"]["id"] == order_id
    assert payload["order"]["lines"][0]["productSku"] == "JEJU-W"
    assert payload["order"]["total"]["gross"] == {"amount": 39800.0, "currency": "KRW"}


def test_tampered_and_foreign_signatures_fail(sandbox: SaleorSandbox, hub: Hub,
                                              token: str) -> None:
    box = push_box(sandbox, token)
    assert sandbox.drain()
    for n, inject in enumerate((sandbox.faults.tamper_next_signature,
                                sandbox.faults.tamper_next_body,
                                sandbox.faults.sign_with_wrong_key_next,
                                lambda: sandbox.faults.sign_with_wrong_key_next(unknown_kid=True))):
        before = len(hub.received)
        inject()
        sandbox.set_stock(box["weekly"], "seoul-central", 100 + n)
        sandbox.set_stock(box["weekly"], "jeju-fresh", 200 + n)
        assert sandbox.drain()
        first, second = hub.received[before:before + 2]
        with pytest.raises((jwt.InvalidSignatureError, jwt.InvalidKeyError)):
            verify(sandbox, *first)
        verify(sandbox, *second)


def test_legacy_hmac_signature_when_a_secret_is_set(sandbox: SaleorSandbox, hub: Hub,
                                                    token: str) -> None:
    box = push_box(sandbox, token)
    app_id = data(sandbox, "{ app { id } }", token=token)["app"]["id"]
    sandbox.set_webhook_secret(app_id, "s3cret")
    sandbox.place_order([(box["monthly"], 1)])
    assert sandbox.drain()
    headers, body = hub.received[-1]
    assert headers["Saleor-Signature"] == hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()


def test_every_event_the_connector_handles_is_sent(sandbox: SaleorSandbox, hub: Hub,
                                                   token: str) -> None:
    box = push_box(sandbox, token)
    sandbox.set_stock(box["weekly"], "seoul-central", 3)
    data(sandbox, """mutation($id: ID!) { productUpdate(id: $id, input: {name: "New name"}) {
        errors { code } } }""", {"id": box["product"]}, token)
    paid = sandbox.place_order([(box["weekly"], 1)])
    line = data(sandbox, "query($id: ID!) { order(id: $id) { lines { id } } }", {"id": paid},
                token)["order"]["lines"][0]["id"]
    data(sandbox, """mutation($o: ID!, $l: ID!, $w: ID!) { orderFulfill(order: $o, input: {
        lines: [{orderLineId: $l, stocks: [{quantity: 1, warehouse: $w}]}]}) {
        errors { code } } }""", {"o": paid, "l": line, "w": box["seoul"]}, token)
    unpaid = sandbox.place_order([(box["weekly"], 1)], paid=False)
    sandbox.mark_paid(unpaid)
    sandbox.refund(unpaid)
    sandbox.cancel(unpaid)
    sandbox.update_order_status(paid, "FULFILLED")
    data(sandbox, "mutation($id: ID!) { productDelete(id: $id) { errors { code } } }",
         {"id": box["product"]}, token)
    assert sandbox.drain()
    assert {event.upper() for event in hub.events_received()} == set(EVENTS)
    deleted = [json.loads(b) for h, b in hub.received if h["Saleor-Event"] == "product_deleted"]
    assert deleted == [{"__typename": "ProductDeleted", "issuedAt": deleted[0]["issuedAt"],
                        "product": {"id": box["product"], "name": "New name"}}]
    refunded = [json.loads(b) for h, b in hub.received
                if h["Saleor-Event"] == "order_fully_refunded"]
    assert refunded[0]["order"]["paymentStatus"] == "FULLY_REFUNDED"


def test_events_need_the_app_permission(sandbox: SaleorSandbox) -> None:
    stand_in = Hub(permissions=["MANAGE_PRODUCTS"]).start()
    try:
        app = sandbox.install_app(f"{stand_in.url}/manifest")
        catalog = sandbox.create_app("seed", ["MANAGE_PRODUCTS",
                                              "MANAGE_PRODUCT_TYPES_AND_ATTRIBUTES"])
        box = push_box(sandbox, catalog.token)
        sandbox.place_order([(box["weekly"], 1)])
        assert sandbox.drain()
        assert app.permissions == ("MANAGE_PRODUCTS",)
        assert "product_created" in stand_in.events_received()
        assert not [e for e in stand_in.events_received() if e.startswith("order")]
    finally:
        stand_in.stop()


def test_deliveries_are_retried_on_5xx_only(sandbox: SaleorSandbox, hub: Hub,
                                            token: str) -> None:
    box = push_box(sandbox, token)
    assert sandbox.drain()
    hub.statuses.extend([503, 500, 200])
    sandbox.set_stock(box["weekly"], "seoul-central", 1)
    assert sandbox.drain()
    assert sandbox.deliveries[-1].attempts == [503, 500, 200]
    assert sandbox.deliveries[-1].status == "delivered"
    hub.statuses.extend([400])
    sandbox.set_stock(box["weekly"], "seoul-central", 2)
    assert sandbox.drain()
    assert (sandbox.deliveries[-1].attempts, sandbox.deliveries[-1].status) == ([400], "failed")
    hub.statuses.extend([502, 502, 502, 502])
    sandbox.set_stock(box["weekly"], "seoul-central", 3)
    assert sandbox.drain()
    assert sandbox.deliveries[-1].attempts == [502, 502, 502]
    assert sandbox.deliveries[-1].status == "failed"


def test_duplicate_reordered_and_replayed_deliveries(sandbox: SaleorSandbox, hub: Hub,
                                                     token: str) -> None:
    box = push_box(sandbox, token)
    assert sandbox.drain()
    start = len(hub.received)
    sandbox.faults.duplicate_deliveries(1)
    sandbox.place_order([(box["weekly"], 1)])
    assert sandbox.drain()
    created = [r for r in hub.received[start:] if r[0]["Saleor-Event"] == "order_created"]
    assert len(created) == 2 and created[0][1] == created[1][1]
    assert created[0][0]["Saleor-Signature"] == created[1][0]["Saleor-Signature"]
    start = len(hub.received)
    sandbox.faults.reorder_deliveries(2)
    sandbox.set_stock(box["weekly"], "seoul-central", 11)
    sandbox.set_stock(box["weekly"], "seoul-central", 12)
    assert sandbox.drain()
    quantities = [json.loads(b)["productVariant"]["stocks"][0]["quantity"]
                  for _, b in hub.received[start:]]
    assert quantities == [12, 11]
    start = len(hub.received)
    replay = sandbox.redeliver()
    assert sandbox.drain()
    assert hub.received[start][1] == replay.body
    verify(sandbox, *hub.received[start])


def test_key_rotation_is_published_in_the_jwks(sandbox: SaleorSandbox, hub: Hub,
                                               token: str) -> None:
    box = push_box(sandbox, token)
    old = sandbox.jwks()["keys"][0]["kid"]
    new = sandbox.rotate_key()
    assert [k["kid"] for k in requests.get(sandbox.jwks_url, timeout=5).json()["keys"]] == [
        new, old]
    sandbox.set_stock(box["weekly"], "seoul-central", 9)
    assert sandbox.drain()
    assert verify(sandbox, *hub.received[-1])["header"]["kid"] == new


def test_http_fault_injectors(sandbox: SaleorSandbox) -> None:
    query = "{ shop { name } }"
    sandbox.faults.fail_next(2, status=429, retry_after=3)
    limited = [gql(sandbox, query) for _ in range(2)]
    assert [r.status_code for r in limited] == [429, 429]
    assert limited[0].headers["Retry-After"] == "3"
    assert gql(sandbox, query).status_code == 200
    for status in (500, 502, 503):
        sandbox.faults.fail_next(1, status=status)
        failed = gql(sandbox, query)
        assert failed.status_code == status
    assert failed.headers["Content-Type"].startswith("text/html")
    sandbox.faults.slow(0.3)
    started = time.monotonic()
    assert gql(sandbox, query).status_code == 200
    assert time.monotonic() - started >= 0.3
    sandbox.faults.slow(0)
    sandbox.faults.hang_next(1, seconds=2)
    with pytest.raises(requests.Timeout):
        gql(sandbox, query, timeout=0.5)
    assert gql(sandbox, query).status_code == 200
    sandbox.faults.fail_next(1, status=503, path="/.well-known/jwks.json")
    assert requests.get(sandbox.jwks_url, timeout=5).status_code == 503
    assert requests.get(sandbox.jwks_url, timeout=5).status_code == 200


def test_a_hung_request_can_still_apply_its_change(sandbox: SaleorSandbox) -> None:
    token = sandbox.create_app("hub", ["MANAGE_PRODUCT_TYPES_AND_ATTRIBUTES"]).token
    sandbox.faults.hang_next(1, seconds=1, process=True)
    create = 'mutation { productTypeCreate(input: {name: "Late"}) { productType { id } } }'
    with pytest.raises(requests.Timeout):
        gql(sandbox, create, token=token, timeout=0.3)
    deadline = time.monotonic() + 5
    while not sandbox.store.all("ProductType") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [t["name"] for t in sandbox.store.all("ProductType")] == ["Late"]


def test_a_header_without_crit_like_older_pyjwt() -> None:
    with SaleorSandbox(jws_crit=False) as mall:
        signature = mall.keys.sign(b"{}")
        assert jwt.get_unverified_header(signature) == {
            "alg": "RS256", "b64": False, "kid": mall.keys.current.kid, "typ": "JWT"}
