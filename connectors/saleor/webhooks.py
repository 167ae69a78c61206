"""Saleor webhook signatures: RS256 JWS with a detached, unencoded payload (RFC 7797)
against the mall's JWKS, or the legacy hex HMAC-SHA256 when the connection has a secret."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from jwt.algorithms import RSAAlgorithm

from connectors.base import SyncContext, WebhookSignatureError
from connectors.http import json_body
from hub.errors import RecordError, TransientError

REFETCH_INTERVAL_SECONDS = 60.0  # at most one JWKS fetch a minute per connection
MAX_KEY_AGE_SECONDS = 6 * 3600.0  # keys are fetched again after this, to drop revoked ones
MAX_SIGNATURE_LENGTH = 4096
__all__ = ["KeyCache", "WebhookSignatureError", "delivery_key", "jwks_url", "signed_headers",
           "verify"]
_EVENT = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_HEX = re.compile(r"^[0-9a-fA-F]{64}$")


def jwks_url(api_url: str) -> str:
    """The mall's key set lives at its API origin: scheme://host[:port]/.well-known/jwks.json."""
    parts = urlsplit(api_url)
    return f"{parts.scheme}://{parts.netloc}/.well-known/jwks.json"


def delivery_key(event: str, body: bytes) -> str:
    """Saleor sends no delivery id; a retry repeats the same event and the same body."""
    return hashlib.sha256(event.encode("utf-8") + body).hexdigest()


FETCH_WAIT_SECONDS = 15.0  # how long a delivery waits for another's key fetch


@dataclass
class _KeySet:
    keys: dict[str, RSAPublicKey] = field(default_factory=dict)
    fetched_at: float | None = None  # when the last fetch was attempted (monotonic)
    fetching: threading.Event | None = None  # set when the fetch in flight has finished
    fetches: int = 0  # successful fetches, so a waiter can tell the one it awaited failed


class KeyCache:
    """Public keys per connection. An unknown key id refetches the set, but not more than
    once per interval, so a flood of made-up key ids cannot make the hub hammer the mall."""

    def __init__(self, *, refetch_interval: float = REFETCH_INTERVAL_SECONDS,
                 max_age: float = MAX_KEY_AGE_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.refetch_interval = refetch_interval
        self.max_age = max_age
        self.clock = clock
        self._sets: dict[tuple[int, str], _KeySet] = {}
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._sets.clear()

    def key(self, ctx: SyncContext, kid: str) -> RSAPublicKey | None:
        """The key with this id, or None when a fresh fetch shows the mall has no such key.
        Within the refetch interval an unknown id cannot be checked: that is transient
        (answered 5xx, so a genuine delivery signed with a new key is retried, not lost)."""
        url = jwks_url(str(ctx.config["api_url"]))
        with self._lock:
            entry = self._sets.setdefault((ctx.connection.id, url), _KeySet())
            now = self.clock()
            age = None if entry.fetched_at is None else now - entry.fetched_at
            if age is not None and age < self.max_age and kid in entry.keys:
                return entry.keys[kid]
            in_flight, fetches = entry.fetching, entry.fetches
            if in_flight is None:
                if age is not None and age < self.refetch_interval:
                    raise TransientError("a webhook names a signing key the hub has not "
                                         "seen; the mall's keys were fetched moments ago")
                entry.fetched_at = now
                entry.fetching = done = threading.Event()
        if in_flight is not None:
            # Another delivery is fetching the keys right now: its answer is ours too.
            if not in_flight.wait(timeout=FETCH_WAIT_SECONDS):
                raise TransientError("the mall's signing keys are still being fetched")
            with self._lock:
                if entry.fetches == fetches:
                    raise TransientError("the mall's signing keys could not be fetched")
                return entry.keys.get(kid)
        try:
            keys = fetch_keys(ctx, url)  # outside the lock: a slow mall must not block others
            with self._lock:
                entry.keys = keys
                entry.fetches += 1
            return keys.get(kid)
        finally:
            with self._lock:
                entry.fetching = None
            done.set()


def fetch_keys(ctx: SyncContext, url: str) -> dict[str, RSAPublicKey]:
    """RSA signing keys of a JWKS by key id; other and malformed keys are left out."""
    response = ctx.http.request("GET", url, headers={"Accept": "application/json"},
                                timeout=10.0, idempotent=True)
    try:
        document = json_body(response)
    except RecordError:
        raise TransientError("the mall's JWKS is not a JSON document") from None
    found: dict[str, RSAPublicKey] = {}
    entries = document.get("keys") if isinstance(document, Mapping) else None
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, Mapping) or entry.get("kty") != "RSA" \
                or entry.get("use", "sig") != "sig" or not isinstance(entry.get("kid"), str):
            continue
        try:
            key = RSAAlgorithm.from_jwk(dict(entry))
        except Exception:  # noqa: BLE001 - an unreadable key is skipped, not fatal
            continue
        if isinstance(key, RSAPublicKey):
            found[entry["kid"]] = key
    ctx.log.info("fetched %d signing keys of connection %s", len(found), ctx.connection.id)
    return found


def _b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def verify_jws(ctx: SyncContext, signature: str, body: bytes, cache: KeyCache) -> None:
    """RS256 with `b64: false`: the signing input is ASCII(BASE64URL(header)) '.' body."""
    parts = signature.split(".")
    if len(parts) != 3 or parts[1] != "" or not parts[0] or not parts[2]:
        raise WebhookSignatureError("Saleor-Signature is not a detached JWS")
    try:
        header = json.loads(_b64url(parts[0]))
        raw_signature = _b64url(parts[2])
    except (ValueError, binascii.Error):
        raise WebhookSignatureError("Saleor-Signature cannot be decoded") from None
    if not isinstance(header, dict) or header.get("alg") != "RS256":
        raise WebhookSignatureError("Saleor-Signature must use RS256")
    crit = header.get("crit")
    if header.get("b64") is not False or not isinstance(crit, list) or not crit \
            or any(entry != "b64" for entry in crit):
        raise WebhookSignatureError("Saleor-Signature must sign the unencoded payload")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid or len(kid) > 200:
        raise WebhookSignatureError("Saleor-Signature names no key")
    key = cache.key(ctx, kid)
    if key is None:
        raise WebhookSignatureError("Saleor-Signature names a key the mall does not publish")
    try:
        key.verify(raw_signature, parts[0].encode("ascii") + b"." + body,
                   padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise WebhookSignatureError("Saleor-Signature does not match the body") from None


def verify_hmac(secret: str, signature: str, body: bytes) -> None:
    """The deprecated scheme: hex HMAC-SHA256 of the body, compared in constant time."""
    expected = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode("ascii"), signature.lower().encode("ascii")):
        raise WebhookSignatureError("Saleor-Signature does not match the body")


def verify(ctx: SyncContext, headers: Mapping[str, str], body: bytes,
           cache: KeyCache) -> str:
    """Check one delivery's signature and return its event name, or raise
    WebhookSignatureError (bad or missing signature; the endpoint answers 401)."""
    event = (headers.get("Saleor-Event") or "").strip().lower()
    if not _EVENT.match(event):
        raise WebhookSignatureError("Saleor-Event is missing or malformed")
    signature = (headers.get("Saleor-Signature") or "").strip()
    if not signature or len(signature) > MAX_SIGNATURE_LENGTH or not signature.isascii():
        raise WebhookSignatureError("Saleor-Signature is missing")
    legacy = ctx.config.get("legacy_webhook_secret")
    if _HEX.match(signature):
        if not legacy:
            raise WebhookSignatureError("HMAC signatures are not accepted on this connection")
        verify_hmac(str(legacy), signature, body)
    else:
        verify_jws(ctx, signature, body, cache)
    return event


def signed_headers(event: str, body: bytes, private_key: Any, kid: str,
                   api_url: str) -> dict[str, str]:
    """What Saleor sends with a delivery; for tests and demos that play the mall."""
    header = {"alg": "RS256", "b64": False, "crit": ["b64"], "kid": kid}
    encoded = base64.urlsafe_b64encode(
        json.dumps(header, separators=(",", ":")).encode()).rstrip(b"=").decode()
    raw = private_key.sign(encoded.encode("ascii") + b"." + body, padding.PKCS1v15(),
                           hashes.SHA256())
    signature = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    return {"Saleor-Event": event, "Saleor-Signature": f"{encoded}..{signature}",
            "Saleor-Api-Url": api_url, "Saleor-Domain": urlsplit(api_url).netloc,
            "Content-Type": "application/json"}
