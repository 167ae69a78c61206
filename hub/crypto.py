"""Secrets at rest: Fernet with several keys, the first encrypts and any decrypts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class SecretError(Exception):
    """A stored secret cannot be decrypted with any configured key."""


class SecretBox:
    def __init__(self, keys: tuple[str, ...] | list[str]) -> None:
        if not keys:
            raise ValueError("at least one key is needed")
        self._fernet = MultiFernet([Fernet(key.encode("ascii")) for key in keys])

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise SecretError("secret cannot be decrypted with the configured keys") from None

    def encrypt_json(self, value: dict[str, Any]) -> str:
        return self.encrypt(json.dumps(value, ensure_ascii=False, sort_keys=True))

    def decrypt_json(self, token: str) -> dict[str, Any]:
        value = json.loads(self.decrypt(token))
        if not isinstance(value, dict):
            raise SecretError("stored secret is not an object")
        return value

    def rotate(self, token: str) -> str:
        """Re-encrypt with the first key."""
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except InvalidToken:
            raise SecretError("secret cannot be decrypted with the configured keys") from None


def local_key(var_path: Path) -> str:
    """The demo's own key, generated once under var/ so its data stays readable across runs."""
    path = var_path / "secret.key"
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    var_path.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key().decode("ascii")
    path.write_text(key + "\n", encoding="ascii")
    path.chmod(0o600)
    return key


def mask(value: str | None) -> str | None:
    """What an API shows in place of a secret: that it is set, and nothing of it."""
    return None if not value else "********"
