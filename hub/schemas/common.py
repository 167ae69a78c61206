"""Fields and base schemas the API's schemas share."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from hub.services.business_number import (
    BusinessNumberError,
    format_business_number,
    normalize_business_number,
)

CODE = validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
                       error="Letters, digits, '.', '_' and '-' only, at most 64.")
# Row ids are 64-bit; a larger number names no row and must not reach the database.
ID_MAX = 2**63 - 1
# Amounts are stored in INTEGER columns (32-bit on PostgreSQL).
KRW_MAX = 2**31 - 1


def Krw(**kwargs: Any) -> fields.Integer:  # noqa: N802 - reads like a field class
    """An amount in whole won: an integer, never negative, that fits the 32-bit columns."""
    return fields.Integer(strict=True, validate=validate.Range(min=0, max=KRW_MAX), **kwargs)


def Count(minimum: int = 0, **kwargs: Any) -> fields.Integer:  # noqa: N802
    return fields.Integer(strict=True, validate=validate.Range(min=minimum, max=1_000_000_000),
                          **kwargs)


def Ref(**kwargs: Any) -> fields.Integer:  # noqa: N802
    """The id of another row of the same tenant."""
    return fields.Integer(strict=True, validate=validate.Range(min=1, max=2**62), **kwargs)


def IdFilter(**kwargs: Any) -> fields.Integer:  # noqa: N802
    """A row id given as a query-string filter."""
    return fields.Integer(validate=validate.Range(min=1, max=ID_MAX), **kwargs)


def Text(max_length: int, **kwargs: Any) -> fields.String:  # noqa: N802
    return fields.String(validate=validate.Length(min=1, max=max_length), **kwargs)


class BusinessNumber(fields.String):
    """Loads NNN-NN-NNNNN or ten digits with a valid check digit; dumps NNN-NN-NNNNN."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return normalize_business_number(text)
        except BusinessNumberError as error:
            raise ValidationError(str(error)) from None

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else format_business_number(value)


class RowSchema(Schema):
    """Read-only fields every stored row shows."""

    id = fields.Integer(dump_only=True)
    tenant_id = fields.Integer(dump_only=True)
    version = fields.Integer(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class TenantField(Schema):
    tenant = fields.String(load_only=True, validate=validate.Length(min=1, max=40),
                           metadata={"description": "Tenant code; admin tokens only."})
