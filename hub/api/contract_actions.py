"""Subscription changes: pause, resume, skip, cadence, cancel, renew, end; and a contract's
rounds. Each change answers the contract with its upcoming rounds and leaves an audit row."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from flask import request
from flask.views import MethodView
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from hub.api.auth import require_role, visible
from hub.api.common import Blueprint, audited, db, write
from hub.db import utcnow
from hub.models import Contract, Round, Tenant
from hub.schemas.round import (
    CadenceRequestSchema,
    CancelRequestSchema,
    ContractRoundsSchema,
    RoundSchema,
    SkipRequestSchema,
)
from hub.services import contract_lifecycle as lifecycle
from hub.services import contract_notices
from hub.services.audit import snapshot
from hub.services.periods import local_day

blp = Blueprint("contract_actions", __name__, url_prefix="/api/v1/contracts",
                 description="Subscription changes: pause, resume, skip, cadence, cancel, "
                             "renew, end; and each contract's rounds.")

Change = Callable[..., Contract]


@blp.before_request
def _contract_visible() -> None:
    """Another tenant's contract is a 404 whatever the body, before the body is read."""
    contract_id = (request.view_args or {}).get("contract_id")
    if contract_id is not None:
        visible(db().get(Contract, contract_id))


def contract_with_rounds(contract: Contract) -> dict[str, Any]:
    """The contract's columns and its rounds still to be shipped."""
    values = {column.key: getattr(contract, column.key)
              for column in inspect(contract).mapper.column_attrs}
    values["upcoming_rounds"] = lifecycle.upcoming_rounds(db(), contract.id)
    return values


def _change(contract_id: int, action: str, change: Change, **arguments: Any) -> Any:
    """Apply one change under the caller's tenant, audited and announced to the order's
    platform (hub/services/contract_notices.py), in one transaction."""
    require_role("operator")
    contract = visible(db().get(Contract, contract_id))
    now: datetime = utcnow()
    today: date = local_day(db().get_one(Tenant, contract.tenant_id), now)
    before = snapshot(contract)
    with write() as session:  # a change that names nothing possible: 400 with field paths
        skipped_on = _skipped_on(session, arguments) if action == "skip" else None
        contract = change(session, contract, today, now=now, **arguments)
        audited(session, action, "contract", contract, before)
        contract_notices.announce(session, contract, action, skipped_on=skipped_on, now=now)
    return contract_with_rounds(contract)


def _skipped_on(session: Session, arguments: dict[str, Any]) -> date | None:
    """The delivery date of the round a skip names (by date, or by round id)."""
    day: date | None = arguments.get("scheduled_on")
    if day is not None or arguments.get("round_id") is None:
        return day
    found = session.get(Round, arguments["round_id"])
    return None if found is None else found.scheduled_on


@blp.route("/<int:contract_id>/rounds")
class ContractRounds(MethodView):
    @blp.response(200, RoundSchema(many=True))
    def get(self, contract_id: int) -> Any:
        """Every round of the contract, skipped and cancelled ones included, by number."""
        contract = visible(db().get(Contract, contract_id))
        return list(db().scalars(select(Round).where(Round.contract_id == contract.id)
                                 .order_by(Round.number)))


@blp.route("/<int:contract_id>/pause")
class Pause(MethodView):
    @blp.response(200, ContractRoundsSchema)
    def post(self, contract_id: int) -> Any:
        """Pause deliveries: rounds before their cut-off are withdrawn."""
        return _change(contract_id, "pause", lifecycle.pause_contract)


@blp.route("/<int:contract_id>/resume")
class Resume(MethodView):
    @blp.response(200, ContractRoundsSchema)
    def post(self, contract_id: int) -> Any:
        """Deliver again from the first cadence date on or after today."""
        return _change(contract_id, "resume", lifecycle.resume_contract)


@blp.route("/<int:contract_id>/skip")
class Skip(MethodView):
    @blp.arguments(SkipRequestSchema)
    @blp.response(200, ContractRoundsSchema)
    def post(self, data: dict[str, Any], contract_id: int) -> Any:
        """Skip one round before its cut-off; one more round is added at the end."""
        return _change(contract_id, "skip", lifecycle.skip_round, **data)


@blp.route("/<int:contract_id>/cadence")
class Cadence(MethodView):
    @blp.arguments(CadenceRequestSchema)
    @blp.response(200, ContractRoundsSchema)
    def post(self, data: dict[str, Any], contract_id: int) -> Any:
        """Deliver at another cadence from the first round still before its cut-off."""
        return _change(contract_id, "cadence", lifecycle.change_cadence,
                       cadence=data["cadence"])


@blp.route("/<int:contract_id>/cancel")
class Cancel(MethodView):
    @blp.arguments(CancelRequestSchema)
    @blp.response(200, ContractRoundsSchema)
    def post(self, data: dict[str, Any], contract_id: int) -> Any:
        """Cancel from today: rounds before their cut-off are cancelled. The reason, when
        given, is kept on the contract as `cancel_reason`."""
        return _change(contract_id, "cancel", lifecycle.cancel_contract,
                       reason=data.get("reason"))


@blp.route("/<int:contract_id>/renew")
class Renew(MethodView):
    @blp.response(200, ContractRoundsSchema)
    def post(self, contract_id: int) -> Any:
        """Start another term after this one (an ended contract runs again)."""
        return _change(contract_id, "renew", lifecycle.renew_contract)


@blp.route("/<int:contract_id>/end")
class End(MethodView):
    @blp.response(200, ContractRoundsSchema)
    def post(self, contract_id: int) -> Any:
        """Take no further term: the contract ends after its last paid round."""
        return _change(contract_id, "end", lifecycle.end_contract)
