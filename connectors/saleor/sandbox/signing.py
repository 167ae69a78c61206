"""Webhook signatures as Saleor makes them, and the JWKS that verifies them.

Saleor signs a webhook body with `jwt.api_jws.encode(body, key, "RS256",
headers={"kid": kid}, is_payload_detached=True)`: a JWS in compact serialization whose
payload segment is empty and whose protected header says `"b64": false` (RFC 7797), so
the signing input is `BASE64URL(header) + "." + raw body`. The header produced here is,
with sorted keys, `{"alg":"RS256","b64":false,"crit":["b64"],"kid":...,"typ":"JWT"}`,
byte for byte what the installed PyJWT writes (older PyJWT releases left "crit" out; so
does the sandbox when built with `jws_crit=False`). With a webhook secret (the legacy
scheme) the signature is the hex HMAC-SHA256 of the body instead."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _int_b64(value: int) -> str:
    return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


class SigningKey:
    """An RSA key with its JWK and RFC 7638 thumbprint as `kid`."""

    def __init__(self, private_key: rsa.RSAPrivateKey | None = None) -> None:
        self.private_key = private_key or rsa.generate_private_key(public_exponent=65537,
                                                                   key_size=2048)
        numbers = self.private_key.public_key().public_numbers()
        self.e, self.n = _int_b64(numbers.e), _int_b64(numbers.n)
        canonical = json.dumps({"e": self.e, "kty": "RSA", "n": self.n},
                               separators=(",", ":"), sort_keys=True)
        self.kid = b64url(hashlib.sha256(canonical.encode()).digest())

    def jwk(self) -> dict[str, str]:
        return {"kty": "RSA", "alg": "RS256", "use": "sig", "kid": self.kid, "n": self.n,
                "e": self.e}

    def sign_detached(self, body: bytes, kid: str | None = None, crit: bool = True) -> str:
        header: dict[str, Any] = {"alg": "RS256", "b64": False, "kid": kid or self.kid,
                                  "typ": "JWT"}
        if crit:
            header["crit"] = ["b64"]
        encoded_header = b64url(json.dumps(header, separators=(",", ":"),
                                           sort_keys=True).encode())
        signature = self.private_key.sign(encoded_header.encode() + b"." + body,
                                          padding.PKCS1v15(), hashes.SHA256())
        return f"{encoded_header}..{b64url(signature)}"


class KeyRing:
    """The sandbox's signing keys: the current one and those still published after rotation."""

    def __init__(self, crit: bool = True) -> None:
        self.crit = crit  # False: the header older PyJWT releases wrote (no "crit")
        self.current = SigningKey()
        self.published: list[SigningKey] = [self.current]
        self._stranger: SigningKey | None = None

    def jwks(self) -> dict[str, Any]:
        return {"keys": [key.jwk() for key in self.published]}

    def rotate(self, keep_old: bool = True) -> SigningKey:
        self.current = SigningKey()
        self.published = [self.current, *self.published] if keep_old else [self.current]
        return self.current

    def sign(self, body: bytes) -> str:
        return self.current.sign_detached(body, crit=self.crit)

    def sign_with_wrong_key(self, body: bytes, unknown_kid: bool = False) -> str:
        """Signed by a key the JWKS does not hold, claiming the current kid (or a new one)."""
        if self._stranger is None:
            self._stranger = SigningKey()
        kid = "unknown-" + secrets.token_hex(8) if unknown_kid else self.current.kid
        return self._stranger.sign_detached(body, kid=kid, crit=self.crit)


def hmac_signature(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def tamper(signature: str) -> str:
    """The same signature with one bit of the signature bytes flipped."""
    if ".." in signature:
        header, _, sig = signature.partition("..")
        raw = bytearray(b64url_decode(sig))
        raw[len(raw) // 2] ^= 0x01
        return f"{header}..{b64url(bytes(raw))}"
    flipped = "0" if signature[0] != "0" else "1"
    return flipped + signature[1:]
