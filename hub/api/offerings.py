"""Offerings: which boxes go to which platform (operator configuration)."""

from __future__ import annotations

from typing import Any

from flask import g
from flask.views import MethodView
from sqlalchemy import select

from hub.api.auth import principal, visible
from hub.api.common import Blueprint, db, invalid, write
from hub.models import Box, Connection, Offering
from hub.schemas.partner import OfferingsSchema
from hub.services import audit

blp = Blueprint("offerings", __name__, url_prefix="/api/v1/connections",
                description="Which boxes are offered to the platform of a connection.")


def _offered(connection_id: int) -> list[int]:
    return list(db().scalars(select(Offering.box_id).where(
        Offering.connection_id == connection_id).order_by(Offering.box_id)))


@blp.route("/<int:connection_id>/offerings")
class Offerings(MethodView):
    @blp.response(200, OfferingsSchema)
    def get(self, connection_id: int) -> Any:
        connection = visible(db().get(Connection, connection_id))
        return {"connection_id": connection.id, "box_ids": _offered(connection.id)}

    @blp.arguments(OfferingsSchema)
    @blp.response(200, OfferingsSchema)
    def put(self, data: dict[str, Any], connection_id: int) -> Any:
        """Replace the set of boxes offered on this connection."""
        connection = visible(db().get(Connection, connection_id))
        wanted: list[int] = list(dict.fromkeys(data["box_ids"]))
        found = set(db().scalars(select(Box.id).where(
            Box.id.in_(wanted), Box.tenant_id == connection.tenant_id))) if wanted else set()
        errors = [{"path": f"box_ids[{index}]", "message": f"No box with id {box_id} here."}
                  for index, box_id in enumerate(data["box_ids"]) if box_id not in found]
        if errors:
            raise invalid(errors)
        before = _offered(connection.id)
        with write() as session:
            for row in session.scalars(select(Offering).where(
                    Offering.connection_id == connection.id, Offering.box_id.not_in(wanted))):
                session.delete(row)
            for box_id in sorted(set(wanted) - set(before)):
                session.add(Offering(tenant_id=connection.tenant_id,
                                     connection_id=connection.id, box_id=box_id))
            session.flush()
            after = sorted(wanted)
            audit.record(session, actor=principal().actor, action="update",
                         entity_type="offering", entity_id=connection.id,
                         tenant_id=connection.tenant_id, before={"box_ids": before},
                         after={"box_ids": after}, request_id=g.get("request_id"))
        return {"connection_id": connection.id, "box_ids": after}
