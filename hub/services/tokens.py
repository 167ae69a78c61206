"""API tokens: random secrets shown once, kept only as SHA-256 digests."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.db import utcnow
from hub.models import ApiToken, Connection, Tenant
from hub.models.auth import ROLES

TOKEN_PREFIX = "gdk_"


class TokenError(ValueError):
    pass


@dataclass(frozen=True)
class Principal:
    """Who is calling: a token's role and tenant (None for admin)."""

    token_id: int | None
    role: str
    tenant_id: int | None
    label: str
    connection_id: int | None = None  # a partner token's platform connection

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def actor(self) -> str:
        return f"token:{self.token_id}" if self.token_id is not None else self.label


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(session: Session, role: str, tenant_code: str | None,
                 label: str | None = None,
                 connection_id: int | None = None) -> tuple[ApiToken, str]:
    """Make a token; the plaintext is returned once and never stored. A partner token is
    bound to one partner connection of its tenant and speaks for that platform."""
    if role not in ROLES:
        raise TokenError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    tenant_id = None
    if role == "admin":
        if tenant_code:
            raise TokenError("an admin token reaches every tenant; give no --tenant")
    else:
        if not tenant_code:
            raise TokenError(f"a {role} token needs --tenant CODE")
        tenant = session.scalar(select(Tenant).where(Tenant.code == tenant_code))
        if tenant is None:
            raise TokenError(f"no tenant with code {tenant_code!r}")
        tenant_id = tenant.id
    if role == "partner":
        if connection_id is None:
            raise TokenError("a partner token needs --connection ID (a partner connection)")
        connection = session.get(Connection, connection_id)
        if connection is None or connection.tenant_id != tenant_id \
                or connection.connector != "partner":
            raise TokenError(f"no partner connection {connection_id} in tenant {tenant_code!r}")
    elif connection_id is not None:
        raise TokenError("only a partner token is bound to a connection")
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(tenant_id=tenant_id, role=role, label=label, token_hash=digest(plaintext),
                   prefix=plaintext[:10], connection_id=connection_id)
    session.add(row)
    session.flush()
    return row, plaintext


def authenticate(session: Session, plaintext: str) -> Principal | None:
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(plaintext)))
    if row is None or row.revoked_at is not None:
        return None
    return Principal(row.id, row.role, row.tenant_id, row.label or row.prefix,
                     row.connection_id)


def revoke_token(session: Session, token_id: int) -> bool:
    row = session.get(ApiToken, token_id)
    if row is None:
        return False
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    return True
