"""Cursor pagination shared by every list: stable order by id, an opaque next cursor."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, TypeVar

from flask import current_app
from marshmallow import Schema, fields, validate
from sqlalchemy import Select
from sqlalchemy.orm import Session

from hub.api.problems import field_error
from hub.schemas.common import ID_MAX

T = TypeVar("T")


class ListArgs(Schema):
    """Query arguments every list accepts; resources add their filters."""

    cursor = fields.String(metadata={"description": "next_cursor of the previous page"})
    limit = fields.Integer(validate=validate.Range(min=1, max=500),
                           metadata={"description": "page size"})
    tenant = fields.String(validate=validate.Length(max=40),
                           metadata={"description": "tenant code (admin tokens only)"})


def encode_cursor(last_id: int) -> str:
    raw = json.dumps({"after": last_id}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        after = value["after"]
        if not isinstance(after, int) or isinstance(after, bool) \
                or not 0 <= after <= ID_MAX:  # a larger id would break the query
            raise ValueError
        return after
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeError):
        raise field_error("cursor", "Not a cursor this API returned.") from None


def paginate(session: Session, query: Select[Any], id_column: Any,
             args: dict[str, Any]) -> tuple[list[Any], str | None]:
    settings = current_app.extensions["gudok"].settings
    limit = min(args.get("limit") or settings.page_size_default, settings.page_size_max)
    if args.get("cursor"):
        query = query.where(id_column > decode_cursor(args["cursor"]))
    rows = list(session.scalars(query.order_by(id_column).limit(limit + 1)).unique())
    next_cursor = encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
    return rows[:limit], next_cursor


def page(data: list[Any], next_cursor: str | None) -> dict[str, Any]:
    return {"data": data, "next_cursor": next_cursor}


class PageSchema(Schema):
    next_cursor = fields.String(allow_none=True)


def page_schema(item_schema: type[Schema], name: str) -> type[Schema]:
    """A response schema {"data": [...], "next_cursor": ...} for a list of item_schema."""
    return type(name, (PageSchema,), {"data": fields.List(fields.Nested(item_schema))})
