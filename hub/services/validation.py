"""Domain errors the services raise; the API turns them into problem+json."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class RecordInvalid(ValueError):
    """The record breaks a rule; each error names its field path."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{e['path']}: {e['message']}" for e in errors))
        self.errors = errors

    @classmethod
    def at(cls, path: str, message: str) -> RecordInvalid:
        return cls([{"path": path, "message": message}])


class DuplicateKey(RecordInvalid):
    """Another row of the tenant holds this natural key (perhaps committed a moment ago)."""


class Conflict(Exception):
    """The write cannot happen in the current state (e.g. the row is still referenced)."""


def field_paths(messages: Any, prefix: str = "") -> list[dict[str, str]]:
    """Flatten marshmallow's nested messages into [{"path": "components[2].weight", ...}]."""
    found: list[dict[str, str]] = []
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            if key == "_schema":
                path = prefix
            elif isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
                path = f"{prefix}[{key}]"
            else:
                path = f"{prefix}.{key}" if prefix else str(key)
            found.extend(field_paths(value, path))
    elif isinstance(messages, list | tuple):
        if all(isinstance(m, str) for m in messages):
            found.extend({"path": prefix, "message": m} for m in messages)
        else:
            for message in messages:
                found.extend(field_paths(message, prefix))
    else:
        found.append({"path": prefix, "message": str(messages)})
    return found
