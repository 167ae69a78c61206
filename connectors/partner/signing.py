"""Standard Webhooks signatures (standardwebhooks.com), both directions of the Partner API.

The hub verifies what a platform sends with the connection's inbound secret and signs its
own notifications with the outbound one. A secret is `whsec_` followed by the standard
base64 (with padding) of 24 to 64 random bytes; the HMAC key is the decoded bytes, not the
text. The signed content is the raw body prefixed by `<webhook-id>.<webhook-timestamp>.`:

    webhook-signature: v1,<base64 of HMAC-SHA256(key, id + "." + timestamp + "." + body)>

Several space-separated signatures may be sent (key rotation); one matching one of the
configured secrets is enough. The timestamp must be within five minutes of the receiver's
clock, either way.

Worked example (reproducible with any HMAC tool; tests/connectors/partner/test_signing.py
checks it):

    secret             whsec_Z3Vkb2staHViIHdvcmtlZCBleGFtcGxlIGtleSAwMSE=
    key (hex)          6775646f6b2d68756220776f726b6564206578616d706c65206b657920303121
                       (the 32 ASCII bytes "gudok-hub worked example key 01!")
    webhook-id         msg_2Yx7Kq4WbN8fT3cR
    webhook-timestamp  1767225600   (2026-01-01T00:00:00Z)
    body (87 bytes)    exactly this one line, no trailing newline:
    {"type":"order.placed","timestamp":"2026-01-01T00:00:00Z","data":{"order_id":"P-1001"}}
    signed content     msg_2Yx7Kq4WbN8fT3cR.1767225600.{"type":"order.placed",...}  (body as is)
    webhook-signature  v1,1ARuJOMTBvaFyWn/m+V9Nn+t2S/iLNfDEluid5fmeUc=

    printf '%s' 'msg_2Yx7Kq4WbN8fT3cR.1767225600.<body>' \\
      | openssl dgst -sha256 -mac HMAC -macopt hexkey:<key hex> -binary | base64
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets as _random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from connectors.base import WebhookSignatureError
from hub.errors import ConfigurationError

__all__ = [
    "DEFAULT_TOLERANCE_SECONDS", "ID_HEADER", "SIGNATURE_HEADER", "TIMESTAMP_HEADER",
    "InvalidSignature", "MalformedSignature", "VerifiedMessage", "check_body", "headers_for",
    "new_secret", "parse_secret", "sign", "verify",
]

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
DEFAULT_TOLERANCE_SECONDS = 300
SECRET_PREFIX = "whsec_"
MIN_KEY_BYTES, MAX_KEY_BYTES = 24, 64  # the specification's range for symmetric keys
MAX_ID_LENGTH = 256
MAX_TIMESTAMP_DIGITS = 12  # ten digits last until 2286; more is not a clock reading
MAX_SIGNATURE_HEADER_LENGTH = 4096  # room for dozens of signatures, bounds the work
_ID = re.compile(rf"[\x21-\x7e]{{1,{MAX_ID_LENGTH}}}")  # visible ASCII, no spaces
_TIMESTAMP = re.compile(rf"0|[1-9][0-9]{{0,{MAX_TIMESTAMP_DIGITS - 1}}}")
_SECRET_FIX = (f"Use {SECRET_PREFIX} followed by the standard base64 (with padding) of "
               f"{MIN_KEY_BYTES} to {MAX_KEY_BYTES} random bytes.")


class MalformedSignature(WebhookSignatureError):
    """The delivery's signature headers (or body) are missing or ill-formed: answer 400."""

    status = 400


class InvalidSignature(WebhookSignatureError):
    """Well-formed, but no configured secret signed it or it is too old or too new: 401."""

    status = 401


@dataclass(frozen=True)
class VerifiedMessage:
    """What a verified delivery's headers said: the id to de-duplicate on, and when."""

    msg_id: str
    timestamp: int


def parse_secret(secret: str) -> bytes:
    """The HMAC key behind a `whsec_` secret; anything else is refused, without echoing it."""
    if not isinstance(secret, str) or not secret.startswith(SECRET_PREFIX):
        raise ConfigurationError(f"the signing secret does not start with {SECRET_PREFIX}",
                                 fix=_SECRET_FIX)
    encoded = secret[len(SECRET_PREFIX):]
    try:
        key = base64.b64decode(encoded.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error, ValueError):
        raise ConfigurationError("the signing secret is not base64 after its prefix",
                                 fix=_SECRET_FIX) from None
    if not MIN_KEY_BYTES <= len(key) <= MAX_KEY_BYTES:
        raise ConfigurationError(
            f"the signing secret decodes to {len(key)} bytes, not {MIN_KEY_BYTES} to "
            f"{MAX_KEY_BYTES}", fix=_SECRET_FIX)
    return key


def new_secret(size: int = 32) -> str:
    """A fresh random secret in the specification's format, for the hub's own endpoints."""
    if not MIN_KEY_BYTES <= size <= MAX_KEY_BYTES:
        raise ValueError(f"a key has {MIN_KEY_BYTES} to {MAX_KEY_BYTES} bytes")
    return SECRET_PREFIX + base64.b64encode(_random.token_bytes(size)).decode("ascii")


def _digest(key: bytes, msg_id: str, timestamp: str, body: bytes) -> bytes:
    return hmac.new(key, f"{msg_id}.{timestamp}.".encode("ascii") + body,
                    hashlib.sha256).digest()


def _epoch(now: datetime | float) -> float:
    """Seconds since the epoch; a naive datetime is refused rather than guessed at."""
    if isinstance(now, datetime):
        if now.tzinfo is None:
            raise ValueError("now must be a timezone-aware datetime")
        return now.timestamp()
    return float(now)


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """One `v1,<base64>` signature; the id and timestamp must be what verify accepts."""
    if not _ID.fullmatch(msg_id):
        raise ValueError(f"a webhook id is 1 to {MAX_ID_LENGTH} visible ASCII characters")
    if isinstance(timestamp, bool) or not 0 <= timestamp < 10 ** MAX_TIMESTAMP_DIGITS:
        raise ValueError("a webhook timestamp is a non-negative number of seconds")
    digest = _digest(parse_secret(secret), msg_id, str(timestamp), body)
    return "v1," + base64.b64encode(digest).decode("ascii")


def headers_for(secret: str | Sequence[str], msg_id: str, body: bytes,
                now: datetime | float) -> dict[str, str]:
    """The three headers of a delivery sent now; several secrets give several signatures
    (while the receiver rotates keys). Retries must reuse the same msg_id."""
    secrets = [secret] if isinstance(secret, str) else list(secret)
    if not secrets:
        raise ValueError("at least one secret is needed to sign")
    timestamp = int(_epoch(now) // 1)
    return {ID_HEADER: msg_id, TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: " ".join(sign(s, msg_id, timestamp, body) for s in secrets)}


def check_body(body: bytes) -> None:
    """For the endpoint: an empty or non-UTF-8 body is the sender's mistake, answered 400."""
    if not body:
        raise MalformedSignature("the request body is empty")
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedSignature("the request body is not UTF-8") from None


def _header(headers: Mapping[str, str], name: str, max_length: int) -> str:
    """One header by case-insensitive name: present once, non-empty, ASCII and bounded."""
    found: list[object] = [value for key, value in headers.items()
                           if isinstance(key, str) and key.lower() == name]
    if not found:
        raise MalformedSignature(f"the {name} header is missing")
    if any(other != found[0] for other in found[1:]):
        raise MalformedSignature(f"the {name} header is sent more than once")
    value = found[0]
    if not isinstance(value, str) or not value:
        raise MalformedSignature(f"the {name} header is empty")
    if len(value) > max_length:
        raise MalformedSignature(f"the {name} header is too long")
    if not value.isascii():
        raise MalformedSignature(f"the {name} header is not ASCII")
    return value


def _v1_signatures(header: str) -> list[bytes]:
    """The well-formed v1 entries; other versions and undecodable entries are skipped."""
    found: list[bytes] = []
    for entry in header.split(" "):
        version, comma, encoded = entry.partition(",")
        if not comma or version != "v1":
            continue
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            continue
        # Canonical form only, so one signature has exactly one spelling.
        if len(raw) == hashlib.sha256().digest_size and \
                base64.b64encode(raw).decode("ascii") == encoded:
            found.append(raw)
    return found


def verify(secrets: Sequence[str], headers: Mapping[str, str], body: bytes, *,
           now: datetime | float,
           tolerance_seconds: float = DEFAULT_TOLERANCE_SECONDS) -> VerifiedMessage:
    """Check a delivery against the raw body before anything parses it. Raises
    MalformedSignature (400), InvalidSignature (401), or ConfigurationError when the
    connection's own secrets are unusable (the hub's fault: the endpoint answers 503)."""
    if tolerance_seconds < 0:
        raise ValueError("tolerance_seconds cannot be negative")
    msg_id = _header(headers, ID_HEADER, MAX_ID_LENGTH)
    if not _ID.fullmatch(msg_id):
        raise MalformedSignature(f"the {ID_HEADER} header has characters it may not have")
    timestamp_text = _header(headers, TIMESTAMP_HEADER, MAX_TIMESTAMP_DIGITS)
    if not _TIMESTAMP.fullmatch(timestamp_text):
        raise MalformedSignature(f"the {TIMESTAMP_HEADER} header is not whole seconds")
    signatures = _v1_signatures(_header(headers, SIGNATURE_HEADER,
                                        MAX_SIGNATURE_HEADER_LENGTH))
    if not signatures:
        raise MalformedSignature(f"the {SIGNATURE_HEADER} header has no v1 signature")
    if not secrets:
        raise ConfigurationError("the connection has no signing secret to verify with",
                                 fix="Set the connection's inbound signing secret.")
    keys = [parse_secret(secret) for secret in secrets]
    timestamp = int(timestamp_text)
    current = _epoch(now)
    if timestamp < current - tolerance_seconds:
        raise InvalidSignature(f"the {TIMESTAMP_HEADER} is too old")
    if timestamp > current + tolerance_seconds:
        raise InvalidSignature(f"the {TIMESTAMP_HEADER} is in the future")
    for key in keys:
        expected = _digest(key, msg_id, timestamp_text, body)
        if any(hmac.compare_digest(expected, given) for given in signatures):
            return VerifiedMessage(msg_id=msg_id, timestamp=timestamp)
    raise InvalidSignature(f"the {SIGNATURE_HEADER} does not match the delivery")
