"""Bearer-token authentication and the role and tenant rules every route follows."""

from __future__ import annotations

from typing import Any

from flask import Flask, g, request
from sqlalchemy import select

from hub.api.problems import ApiProblem, not_found
from hub.models import Tenant
from hub.services.tokens import Principal, authenticate

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PUBLIC_PATHS = frozenset({"/api/v1/openapi.json", "/api/v1/docs"})
# Writes a mall token may make: pushing its catalog.
MALL_WRITES = frozenset({"/api/v1/catalog/push"})
# The Partner API: only partner tokens call it, and they call nothing else.
PARTNER_PREFIX = "/api/v1/partner/"


def install_auth(app: Flask) -> None:
    @app.before_request
    def _authenticate() -> None:
        path = request.path
        if not path.startswith("/api/v1/") or path in PUBLIC_PATHS \
                or path.startswith("/api/v1/docs"):
            return
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _unauthorized("Send an API token as 'Authorization: Bearer <token>'.")
        principal = authenticate(app.extensions["gudok"].session(), token.strip())
        if principal is None:
            raise _unauthorized("The token is unknown or revoked.")
        g.principal = principal
        if (principal.role == "partner") != path.startswith(PARTNER_PREFIX):
            raise ApiProblem(403, "Forbidden", "A partner token may call only /api/v1/partner/, "
                             "and only a partner token may call it.")
        if request.method not in READ_METHODS:
            if principal.role == "viewer":
                raise ApiProblem(403, "Forbidden", "A viewer token can only read.")
            if principal.role == "mall" and path not in MALL_WRITES:
                raise ApiProblem(403, "Forbidden",
                                 "A mall token can only push its catalog and read.")


def _unauthorized(detail: str) -> ApiProblem:
    return ApiProblem(401, "Unauthorized", detail,
                      headers={"WWW-Authenticate": 'Bearer realm="gudok"'})


def principal() -> Principal:
    return g.principal  # type: ignore[no-any-return]


def require_admin() -> None:
    if not principal().is_admin:
        raise ApiProblem(403, "Forbidden", "Only an admin token may do this.")


def require_role(*roles: str) -> None:
    if principal().role not in roles and not principal().is_admin:
        raise ApiProblem(403, "Forbidden", f"Needs one of the roles: {', '.join(roles)}.")


def visible(row: Any) -> Any:
    """The row if the caller's tenant may see it; otherwise 404, never 403 (no existence leak)."""
    p = principal()
    if row is None or (not p.is_admin and row.tenant_id != p.tenant_id):
        raise not_found()
    return row


def scope(query: Any, tenant_column: Any, args: dict[str, Any] | None = None) -> Any:
    """Restrict a list query to the caller's tenant; admins may filter by ?tenant=CODE."""
    p = principal()
    if not p.is_admin:
        return query.where(tenant_column == p.tenant_id)
    code = (args or {}).get("tenant")
    if code:
        tenant_id = g.db.scalar(select(Tenant.id).where(Tenant.code == code))
        return query.where(tenant_column == (tenant_id if tenant_id is not None else -1))
    return query


def write_tenant_id(code: str | None) -> int:
    """The tenant a new row belongs to: the token's own, or the one an admin names."""
    p = principal()
    if not p.is_admin:
        if code is not None:
            own = g.db.scalar(select(Tenant.code).where(Tenant.id == p.tenant_id))
            if code != own:
                raise ApiProblem(400, "Invalid request", "One or more fields are invalid.",
                                 errors=[{"path": "tenant",
                                          "message": "Not a tenant this token can write to."}])
        assert p.tenant_id is not None
        return p.tenant_id
    if not code:
        raise ApiProblem(400, "Invalid request", "One or more fields are invalid.",
                         errors=[{"path": "tenant",
                                  "message": "An admin token must name the tenant (its code)."}])
    tenant_id = g.db.scalar(select(Tenant.id).where(Tenant.code == code))
    if tenant_id is None:
        raise ApiProblem(400, "Invalid request", "One or more fields are invalid.",
                         errors=[{"path": "tenant", "message": f"No tenant with code {code!r}."}])
    return int(tenant_id)
