"""The real Saleor schema, built once per process, with the sandbox's scalars and rules.

The SDL in `shared/reference/saleor/schema.graphql` is executed as it is: only scalar
coercion, resolvers and the permission rules are attached. The permission rules are read
from the SDL's own field descriptions ("Requires one of the following permissions: ..."),
so every field the reference marks as protected is protected here too."""

from __future__ import annotations

import base64
import binascii
import json
import math
import os
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

from graphql import (
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    ValueNode,
    build_schema,
)
from graphql.language import FloatValueNode, IntValueNode, StringValueNode

SALEOR_VERSION = "3.23.28"
SCHEMA_VERSION = "3.23"
ANY_OF = ("Requires one of the following permissions:", "Requires of of the following permissions:")
ALL_OF = ("Requires the following permissions:",)
_PERMISSION_WORD = re.compile(r"\b[A-Z][A-Z_]{2,}\b")


def repo_root() -> Path:
    return Path(__file__).resolve().parents[3]


def reference_schema_path() -> Path:
    default = repo_root().parent / "shared" / "reference" / "saleor" / "schema.graphql"
    return Path(os.environ.get("GUDOK_SALEOR_SCHEMA", str(default)))


class PermissionDenied(Exception):
    """Raised like Saleor's PermissionDenied; shown as a top-level GraphQL error."""

    def __init__(self, permissions: tuple[str, ...] = (), *, path_level: bool = False) -> None:
        listed = ", ".join(permissions)
        if not permissions:
            message = "You do not have permission to perform this action"
        elif path_level:
            message = f"To access this path, you need one of the following permissions: {listed}"
        else:
            message = f"You need one of the following permissions: {listed}"
        super().__init__(message)
        self.permissions = permissions


@dataclass(frozen=True)
class Rule:
    permissions: tuple[str, ...]
    all_required: bool = False


@dataclass(frozen=True)
class SandboxSchema:
    schema: GraphQLSchema
    rules: dict[tuple[str, str], Rule]
    path: Path


# -- global ids ------------------------------------------------------------------------------

def to_global_id(type_name: str, pk: object) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def from_global_id(value: str) -> tuple[str, str] | None:
    """(type, pk) of a Saleor global id, or None when it is not one."""
    try:
        decoded = base64.b64decode(value.encode(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    type_name, sep, pk = decoded.partition(":")
    if not sep or not type_name or not pk:
        return None
    return type_name, pk


# -- scalars ---------------------------------------------------------------------------------

def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def parse_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return _utc(value)
    if not isinstance(value, str):
        raise ValueError("DateTime must be an ISO 8601 string")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    return _utc(datetime.fromisoformat(text))


def _serialize_datetime(value: Any) -> str:
    if isinstance(value, datetime):
        return _utc(value).isoformat()
    return str(value)


def _parse_date(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise ValueError("Date must be an ISO 8601 string")
    return date.fromisoformat(value)


def _parse_json_string(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError(f"the JSON object must be str, not {type(value).__name__}")
    return json.loads(value)


def _serialize_json_string(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _parse_decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError("Decimal must be a number")
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a valid decimal") from None
    if not result.is_finite():
        raise ValueError("Decimal must be finite")
    return result


def _parse_positive_decimal(value: Any) -> Decimal:
    result = _parse_decimal(value)
    if result < 0:
        raise ValueError("Value cannot be lower than 0.")
    return result


def _serialize_number(value: Any) -> float:
    number = float(value)
    if math.isnan(number):
        raise ValueError("NaN is not a number")
    return number


def _literal(parse: Any) -> Any:
    def parse_literal(node: ValueNode, _variables: Any = None) -> Any:
        if isinstance(node, StringValueNode | IntValueNode | FloatValueNode):
            return parse(node.value)
        raise GraphQLError("Invalid literal for this scalar", node)
    return parse_literal


def _set_scalar(schema: GraphQLSchema, name: str, serialize: Any, parse: Any) -> None:
    scalar = schema.type_map.get(name)
    if isinstance(scalar, GraphQLScalarType):
        scalar.serialize = serialize  # type: ignore[method-assign]
        scalar.parse_value = parse  # type: ignore[method-assign]
        scalar.parse_literal = _literal(parse)  # type: ignore[method-assign]


def _install_scalars(schema: GraphQLSchema) -> None:
    _set_scalar(schema, "DateTime", _serialize_datetime, parse_datetime)
    _set_scalar(schema, "Date", lambda v: v.isoformat() if isinstance(v, date) else str(v),
                _parse_date)
    _set_scalar(schema, "JSONString", _serialize_json_string, _parse_json_string)
    _set_scalar(schema, "Decimal", _serialize_number, _parse_decimal)
    _set_scalar(schema, "PositiveDecimal", _serialize_number, _parse_positive_decimal)
    _set_scalar(schema, "WeightScalar", _serialize_number, _parse_decimal)
    _set_scalar(schema, "UUID", str, str)


# -- permission rules from the SDL ----------------------------------------------------------

def _rule_from_description(description: str | None) -> Rule | None:
    if not description:
        return None
    for line in description.splitlines():
        line = line.strip()
        for prefixes, all_required in ((ANY_OF, False), (ALL_OF, True)):
            for prefix in prefixes:
                if line.startswith(prefix):
                    head = line[len(prefix):].split(".", 1)[0]
                    words = tuple(dict.fromkeys(_PERMISSION_WORD.findall(head)))
                    if words:
                        return Rule(words, all_required)
    return None


def permission_rules(schema: GraphQLSchema) -> dict[tuple[str, str], Rule]:
    rules: dict[tuple[str, str], Rule] = {}
    for type_name, type_ in schema.type_map.items():
        if type_name.startswith("__") or not isinstance(
                type_, GraphQLObjectType | GraphQLInterfaceType):
            continue
        for field_name, field in type_.fields.items():
            rule = _rule_from_description(getattr(field, "description", None))
            if rule is not None:
                rules[(type_name, field_name)] = rule
    # Saleor checks these inside the resolvers rather than in the description.
    rules[("Query", "order")] = Rule(("MANAGE_ORDERS",))
    return rules


@lru_cache(maxsize=4)
def _load(path: str) -> SandboxSchema:
    from connectors.saleor.sandbox.resolvers import install_resolvers

    schema = build_schema(Path(path).read_text(encoding="utf-8"))
    _install_scalars(schema)
    install_resolvers(schema)
    return SandboxSchema(schema=schema, rules=permission_rules(schema), path=Path(path))


def load_schema(path: Path | None = None) -> SandboxSchema:
    """The executable reference schema; built once per process and path."""
    return _load(str((path or reference_schema_path()).resolve()))
