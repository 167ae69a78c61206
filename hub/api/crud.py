"""List, create, read, update and delete routes, declared once for every catalog resource."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask.views import MethodView
from marshmallow import Schema
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from hub.api.auth import principal, scope, visible, write_tenant_id
from hub.api.common import Blueprint, audited, db, write
from hub.api.etag import check_if_match, etag_of
from hub.api.pagination import ListArgs, page, page_schema, paginate
from hub.api.problems import field_error
from hub.services.audit import snapshot


def _tenant_from_body(data: dict[str, Any]) -> int:
    return write_tenant_id(data.pop("tenant", None))


def _dump_row(row: Any) -> Any:
    return row


@dataclass
class Resource:
    """How one resource family is stored, checked and shown."""

    entity: str
    model: type[Any]
    schema: type[Schema]
    list_args: type[Schema]
    filters: Callable[[Select[Any], dict[str, Any]], Select[Any]]
    create: Callable[[Session, int, dict[str, Any]], Any]
    update: Callable[[Session, Any, dict[str, Any]], Any]
    delete: Callable[[Session, Any], None] | None = None
    update_schema: type[Schema] | None = None
    tenant_for_create: Callable[[dict[str, Any]], int] = _tenant_from_body
    dump: Callable[[Any], Any] = _dump_row
    admin_only: bool = False


def tenant_of_reference(model: type[Any], field: str) -> Callable[[dict[str, Any]], int]:
    """A new row's tenant is the tenant of the row it references (e.g. an item's merchant)."""

    def tenant_for_create(data: dict[str, Any]) -> int:
        p = principal()
        if not p.is_admin:
            assert p.tenant_id is not None
            return p.tenant_id
        referenced = db().get(model, data[field])
        if referenced is None:
            raise field_error(field, f"No {model.__tablename__} with id {data[field]}.")
        return int(referenced.tenant_id)

    return tenant_for_create


def register_crud(blp: Blueprint, res: Resource) -> None:
    schema = res.schema
    update_schema = res.update_schema or res.schema
    page_of = page_schema(schema, f"{schema.__name__.removesuffix('Schema')}Page")
    id_arg = f"{res.entity}_id"
    model = res.model

    def load(row_id: int) -> Any:
        if res.admin_only:
            return _admin_row(model, row_id)
        return visible(db().get(model, row_id))

    @blp.route("")
    class Collection(MethodView):
        @blp.arguments(res.list_args, location="query")
        @blp.response(200, page_of)
        def get(self, args: dict[str, Any]) -> Any:
            query = res.filters(select(model), args)
            if not res.admin_only:
                query = scope(query, model.tenant_id, args)
            rows, next_cursor = paginate(db(), query, model.id, args)
            return page([res.dump(r) for r in rows], next_cursor)

        @blp.arguments(schema)
        @blp.response(201, schema)
        def post(self, data: dict[str, Any]) -> Any:
            tenant_id = res.tenant_for_create(data)
            with write() as session:
                row = res.create(session, tenant_id, data)
                audited(session, "create", res.entity, row, None)
            return res.dump(row), 201, {"ETag": etag_of(row)}

    @blp.route(f"/<int:{id_arg}>")
    class Member(MethodView):
        @blp.response(200, schema)
        def get(self, **ids: int) -> Any:
            row = load(ids[id_arg])
            return res.dump(row), 200, {"ETag": etag_of(row)}

        @blp.arguments(update_schema(partial=True))
        @blp.response(200, schema)
        def patch(self, data: dict[str, Any], **ids: int) -> Any:
            row = load(ids[id_arg])
            check_if_match(row)
            data.pop("tenant", None)
            before = snapshot(row)
            with write() as session:
                row = res.update(session, row, data)
                audited(session, "update", res.entity, row, before)
            return res.dump(row), 200, {"ETag": etag_of(row)}

        if res.delete is not None:
            @blp.response(204)
            def delete(self, **ids: int) -> Any:
                row = load(ids[id_arg])
                check_if_match(row)
                before = snapshot(row)
                with write() as session:
                    audited(session, "delete", res.entity, row, before)
                    res.delete(session, row)  # type: ignore[misc]
                return None

    Collection.__name__ = f"{res.entity.title()}Collection"
    Member.__name__ = f"{res.entity.title()}Member"


def _admin_row(model: type[Any], row_id: int) -> Any:
    from hub.api.problems import not_found

    row = db().get(model, row_id)
    if row is None:
        raise not_found()
    return row


def with_filters(query: Select[Any], args: dict[str, Any],
                 equal: dict[str, Any], contains: dict[str, Any] | None = None) -> Select[Any]:
    for name, column in equal.items():
        if args.get(name) is not None:
            query = query.where(column == args[name])
    for name, column in (contains or {}).items():
        if args.get(name):
            escaped = args[name].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(column.ilike(f"%{escaped}%", escape="\\"))
    return query


__all__ = ["ListArgs", "Resource", "register_crud", "tenant_of_reference", "with_filters"]
