"""A platform's own subscription products: submitted through the Partner API, reviewed by an
operator, and (once approved) listed in the mall as products that link out to the platform.

`listed` holds the content the mall shows. Approval copies the submission into it; a later
edit goes back to review while the mall keeps the approved content; rejection and withdrawal
clear it, and the mall drops the product (jobs/partner.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.db import utcnow
from hub.models import Binding, Connection, PartnerProduct
from hub.services import notifications
from hub.services.validation import Conflict

__all__ = ["CONTENT", "ENTITY", "content_of", "mall_links", "review", "submit", "withdraw"]

CONTENT = ("name", "description", "url", "image_url", "price", "cadence")
ENTITY = "partner_product"  # the binding entity of its product in the mall


def content_of(row: PartnerProduct) -> dict[str, Any]:
    return {name: getattr(row, name) for name in CONTENT}


def submit(session: Session, connection: Connection, external_id: str,
           data: dict[str, Any]) -> tuple[PartnerProduct, bool]:
    """Create or update the platform's product; (row, created). Sending the same content
    again changes nothing; changed content (or a withdrawn product sent again) goes back to
    review."""
    row = session.scalar(select(PartnerProduct).where(
        PartnerProduct.connection_id == connection.id,
        PartnerProduct.external_id == external_id).with_for_update())
    content = {name: data.get(name) for name in CONTENT}
    content["description"] = content["description"] or ""
    if row is None:
        row = PartnerProduct(tenant_id=connection.tenant_id, connection_id=connection.id,
                             external_id=external_id, status="pending", **content)
        session.add(row)
        session.flush()
        return row, True
    if content == content_of(row) and row.status != "withdrawn":
        return row, False
    for name, value in content.items():
        setattr(row, name, value)
    row.status = "pending"
    row.review_note = None
    session.flush()
    return row, False


def withdraw(session: Session, row: PartnerProduct) -> PartnerProduct:
    """The platform takes its product back: out of review and out of the mall."""
    if row.status != "withdrawn":
        row.status, row.listed = "withdrawn", None
        session.flush()
    return row


def review(session: Session, row: PartnerProduct, connection: Connection, *, approve: bool,
           note: str | None, actor: str, now: datetime | None = None) -> PartnerProduct:
    """An operator's decision; the platform is told through its notifications."""
    if row.status == "withdrawn":
        raise Conflict("The platform withdrew this product; it can be reviewed once it is "
                       "submitted again.")
    now = now or utcnow()
    row.status = "approved" if approve else "rejected"
    row.listed = content_of(row) if approve else None
    row.review_note, row.reviewed_by, row.reviewed_at = note, actor[:200], now
    session.flush()
    if connection.config.get("outbound_url"):
        notifications.enqueue(session, connection, "product.reviewed", {
            "product_id": row.external_id, "status": row.status, "note": note,
            "mall_listed": row.listed is not None}, now=now)
    return row


def mall_links(session: Session, row: PartnerProduct) -> list[dict[str, Any]]:
    """Where the mall lists the product (a binding per mall connection that pushed it)."""
    return [{"connection_id": b.connection_id, "external_id": b.external_id, "url": b.url}
            for b in session.scalars(select(Binding).where(
                Binding.tenant_id == row.tenant_id, Binding.entity_type == ENTITY,
                Binding.internal_id == row.id, Binding.status == "active")
                .order_by(Binding.connection_id))]
