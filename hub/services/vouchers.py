"""Tourism vouchers (관광 바우처): the codes a delivered round issues for the voucher items
of its box version, their redemption and their expiry. Money is not posted here: settlement
reads vouchers that are redeemed or expired and not yet posted."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.db import utcnow
from hub.models import Tenant
from hub.models.box import BoxComponent
from hub.models.item import Item
from hub.models.order import Contract, OrderLine
from hub.models.round import Round, Voucher
from hub.services.periods import local_day
from hub.services.validation import Conflict

__all__ = ["CODE_PREFIX", "DEFAULT_VALID_DAYS", "Redemption", "VoucherExpired",
           "expire_vouchers", "issue_for_round", "new_code", "normalise_code", "redeem",
           "tenant_today"]

CODE_PREFIX = "GV-"
CODE_LENGTH = 12
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # no I, L, O, U: nothing to misread
DEFAULT_VALID_DAYS = 90
MAX_CODE_TRIES = 8
# What a person may type for a Crockford digit: lower case, and I/L for 1, O for 0.
_TYPED = str.maketrans({"I": "1", "L": "1", "O": "0"})


class VoucherExpired(Conflict):
    """Redeeming a voucher past its last valid day (or already expired)."""


@dataclass(frozen=True)
class Redemption:
    voucher: Voucher
    changed: bool  # False: the same redemption was recorded before


def new_code() -> str:
    """An unpredictable, human-typable code: "GV-" and 12 Crockford base32 characters."""
    return CODE_PREFIX + "".join(secrets.choice(CROCKFORD) for _ in range(CODE_LENGTH))


def normalise_code(typed: str) -> str:
    """The stored form of a code as a person typed it (case, dashes, spaces, I/L/O)."""
    raw = typed.strip().upper().replace(" ", "")
    body = raw[len(CODE_PREFIX):] if raw.startswith(CODE_PREFIX) else raw.replace("-", "")
    return CODE_PREFIX + body.replace("-", "").translate(_TYPED)


def tenant_zone(session: Session, tenant_id: int) -> ZoneInfo:
    name = session.scalar(select(Tenant.time_zone).where(Tenant.id == tenant_id))
    return ZoneInfo(name or "Asia/Seoul")


def tenant_today(session: Session, tenant_id: int, now: datetime | None = None) -> date:
    return local_day(session.get_one(Tenant, tenant_id), now or utcnow())


def issue_for_round(session: Session, round_: Round) -> list[Voucher]:
    """Issue round.quantity x component.quantity codes for each voucher item of the box
    version the round's order line was sold with. Units already issued are kept, so calling
    it again issues nothing new; returns every voucher of the round."""
    contract = session.get_one(Contract, round_.contract_id)
    line = session.get_one(OrderLine, contract.order_line_id)
    if line.box_version_id is not None:
        components = session.execute(
            select(BoxComponent.quantity, Item)
            .join(Item, Item.id == BoxComponent.item_id)
            .where(BoxComponent.box_version_id == line.box_version_id, Item.kind == "voucher")
            .order_by(Item.id)).all()
        delivered = round_.delivered_at
        zone = tenant_zone(session, round_.tenant_id)
        delivered_on = delivered.astimezone(zone).date() if delivered else round_.scheduled_on
        issued = {(item_id, unit) for item_id, unit in session.execute(
            select(Voucher.item_id, Voucher.unit).where(Voucher.round_id == round_.id))}
        for per_box, item in components:
            valid_until = delivered_on + timedelta(
                days=item.voucher_valid_days or DEFAULT_VALID_DAYS)
            for unit in range(1, round_.quantity * per_box + 1):
                if (item.id, unit) not in issued:
                    _issue_one(session, round_, item, unit, valid_until)
    return list(session.scalars(select(Voucher).where(Voucher.round_id == round_.id)
                                .order_by(Voucher.item_id, Voucher.unit)))


def _issue_one(session: Session, round_: Round, item: Item, unit: int,
               valid_until: date) -> None:
    """Insert one unit; the database's unique keys decide duplicates. A unit someone else
    issued meanwhile is left as is; a code collision is retried with a new code."""
    for _ in range(MAX_CODE_TRIES):
        try:
            with session.begin_nested():
                session.add(Voucher(tenant_id=round_.tenant_id, round_id=round_.id,
                                    item_id=item.id, merchant_id=item.merchant_id, unit=unit,
                                    code=new_code(), valid_until=valid_until, status="issued"))
            return
        except IntegrityError:
            taken = session.scalar(select(Voucher.id).where(
                Voucher.round_id == round_.id, Voucher.item_id == item.id,
                Voucher.unit == unit))
            if taken is not None:
                return
    raise RuntimeError("no unused voucher code found; the code space is exhausted")


def redeem(session: Session, voucher: Voucher, *, redeemed_at: datetime | None = None,
           place: str | None = None, now: datetime | None = None) -> Redemption:
    """issued -> redeemed. Redeeming a redeemed voucher again with the same (or no) time
    and place changes nothing; a different redemption is a Conflict; a voucher past its
    last valid day (tenant's time zone) is VoucherExpired."""
    at = (redeemed_at or now or utcnow()).astimezone(UTC)
    if voucher.status == "redeemed":
        same = (redeemed_at is None or voucher.redeemed_at == at) and \
            (place is None or voucher.redeemed_by == place)
        if same:
            return Redemption(voucher, changed=False)
        raise Conflict(f"voucher {voucher.code} was already redeemed at "
                       f"{voucher.redeemed_at:%Y-%m-%d %H:%M} UTC")
    used_on = at.astimezone(tenant_zone(session, voucher.tenant_id)).date()
    if voucher.status == "expired" or used_on > voucher.valid_until:
        raise VoucherExpired(f"voucher {voucher.code} expired after {voucher.valid_until}")
    voucher.status, voucher.redeemed_at, voucher.redeemed_by = "redeemed", at, place
    session.flush()
    return Redemption(voucher, changed=True)


def expire_vouchers(session: Session, tenant_id: int, today: date,
                    now: datetime | None = None) -> int:
    """Mark the tenant's issued vouchers whose last valid day is before `today` (tenant's
    calendar) expired; returns how many. Running it again changes nothing."""
    result = session.execute(
        update(Voucher)
        .where(Voucher.tenant_id == tenant_id, Voucher.status == "issued",
               Voucher.valid_until < today)
        .values(status="expired", expired_at=now or utcnow())
        .execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)
