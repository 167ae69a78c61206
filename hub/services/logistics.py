"""Logistics of delivery rounds (회차): what each logistics centre packs and each merchant
brings on a delivery date, and the shipped and delivered marks that move a round on.

A round goes scheduled -> shipped -> delivered; delivering a scheduled round implies it was
shipped. The same mark again changes nothing; a mark behind the round's status, or on a
skipped or cancelled round, is a Conflict. Every mark is decided on the round's row locked
FOR UPDATE (on SQLite the transaction is the only writer), so a contract counts a round
delivered once however many callers mark it at the same moment."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from hub.db import utcnow
from hub.models import (
    Box,
    BoxComponent,
    BoxVersion,
    Contract,
    Item,
    Merchant,
    OrderLine,
    Round,
    StockLocation,
    Tenant,
)
from hub.models.order import ORDER_STATUSES
from hub.services.order_state import OrderRecord
from hub.services.validation import Conflict, RecordInvalid

PICKED_STATUSES = ("scheduled", "shipped")  # rounds still packed for their date
MARKS = ("shipped", "delivered")
_STEP = {"scheduled": 0, "shipped": 1, "delivered": 2}
_FULFILLED_RANK = ORDER_STATUSES.index("fulfilled")
# A mark may be dated ahead of the server's clock by this much (time zones, clock skew).
FUTURE_SLACK = timedelta(days=1)


@dataclass(frozen=True)
class Centre:
    """A logistics centre packing boxes; `id` None is the centre not assigned yet."""

    id: int | None
    code: str
    name: str


UNASSIGNED = Centre(None, "unassigned", "미지정")


@dataclass(frozen=True)
class PickBox:
    box_id: int
    box_code: str
    title: str
    version: int  # the box version the orders were sold with
    boxes: int


@dataclass(frozen=True)
class PickItem:
    item_id: int
    sku: str
    name: str
    unit: str
    merchant_id: int
    merchant_name: str
    quantity: int


@dataclass
class PickLists:
    """Everything packed on one delivery date, per centre; `by_merchant` regroups it."""

    on: date
    boxes: dict[Centre, list[PickBox]]
    items: dict[Centre, list[PickItem]]

    def centres(self) -> list[Centre]:
        found = set(self.boxes) | set(self.items)
        return sorted(found, key=lambda c: (c.id is None, c.code, c.id or 0))

    def by_centre(self) -> list[dict[str, Any]]:
        return [{"centre": centre, "boxes": self.boxes.get(centre, []),
                 "items": self.items.get(centre, [])} for centre in self.centres()]

    def by_merchant(self) -> list[dict[str, Any]]:
        """Per merchant, the items it must bring to each centre."""
        merchants: dict[tuple[str, int], dict[Centre, list[PickItem]]] = defaultdict(dict)
        for centre in self.centres():
            for item in self.items.get(centre, []):
                merchants[(item.merchant_name, item.merchant_id)].setdefault(
                    centre, []).append(item)
        return [{"merchant": {"id": merchant_id, "name": name},
                 "centres": [{"centre": centre, "items": items}
                             for centre, items in centres.items()]}
                for (name, merchant_id), centres in sorted(merchants.items())]


def pick_lists(session: Session, tenant_id: int | None, on: date) -> PickLists:
    """Boxes and items of the tenant's rounds delivered on `on` (scheduled or shipped): each
    round's boxes times the components of the box version its order line was sold with.
    `tenant_id` None takes every tenant's (an admin's overview)."""
    version_id = func.coalesce(OrderLine.box_version_id, Box.current_version_id)
    rounds = (select().select_from(Round)
              .join(Contract, Contract.id == Round.contract_id)
              .join(OrderLine, OrderLine.id == Contract.order_line_id)
              .join(Box, Box.id == Contract.box_id)
              .join(BoxVersion, BoxVersion.id == version_id)
              .outerjoin(StockLocation, StockLocation.id == Box.packed_at_id)
              .where(Round.scheduled_on == on, Round.status.in_(PICKED_STATUSES)))
    if tenant_id is not None:
        rounds = rounds.where(Round.tenant_id == tenant_id)
    centre = (StockLocation.id, StockLocation.code, StockLocation.name)
    box_columns = (Box.id, Box.code, Box.title, BoxVersion.number)
    boxes: dict[Centre, list[PickBox]] = defaultdict(list)
    for row in session.execute(rounds.add_columns(*centre, *box_columns,
                                                  func.sum(Round.quantity))
                               .group_by(*centre, *box_columns)
                               .order_by(Box.code, BoxVersion.number)):
        boxes[_centre(row[:3])].append(PickBox(
            box_id=row[3], box_code=row[4], title=row[5], version=row[6], boxes=int(row[7])))
    item_columns = (Item.id, Item.sku, Item.name, Item.unit, Merchant.id, Merchant.name)
    items: dict[Centre, list[PickItem]] = defaultdict(list)
    for row in session.execute(
            rounds.join(BoxComponent, BoxComponent.box_version_id == BoxVersion.id)
            .join(Item, Item.id == BoxComponent.item_id)
            .join(Merchant, Merchant.id == Item.merchant_id)
            .add_columns(*centre, *item_columns,
                         func.sum(Round.quantity * BoxComponent.quantity))
            .group_by(*centre, *item_columns).order_by(Merchant.name, Item.sku)):
        items[_centre(row[:3])].append(PickItem(
            item_id=row[3], sku=row[4], name=row[5], unit=row[6], merchant_id=row[7],
            merchant_name=row[8], quantity=int(row[9])))
    return PickLists(on, dict(boxes), dict(items))


def _centre(row: Any) -> Centre:
    location_id, code, name = row
    return UNASSIGNED if location_id is None else Centre(int(location_id), code, name)


def mark_round(session: Session, round_: Round, status: str, *, carrier: str | None = None,
               tracking_number: str | None = None, at: datetime | None = None,
               at_field: str = "at", push_tracking: bool = True,
               now: datetime | None = None) -> str:
    """Mark a round shipped or delivered: "applied", or "unchanged" when it already was.

    `at` without an offset is in the tenant's time zone; errors about it name `at_field`.
    A shipped round marked shipped again with another carrier or tracking number takes
    them (a correction). Delivering counts the round on its contract and issues its
    vouchers; a new tracking number is queued for the channel unless `push_tracking` is
    False (the channel reported it itself). `now` is the clock marks are checked against
    (a mark may not be dated more than a day ahead of it)."""
    if status not in MARKS:
        raise RecordInvalid.at("status", f"Must be one of: {', '.join(MARKS)}.")
    round_ = lock_round(session, round_.id)
    if round_.status not in _STEP:
        raise Conflict(f"Round {round_.id} is {round_.status}: only a scheduled or shipped "
                       "round can be marked.")
    if _STEP[status] < _STEP[round_.status]:
        raise Conflict(f"Round {round_.id} is already {round_.status}; it cannot go back to "
                       f"{status}.")
    when = _moment(session, round_, at, at_field, now)
    if status == "shipped":
        return _ship(session, round_, carrier, tracking_number, when, push_tracking)
    if round_.status == "delivered":
        return "unchanged"
    if round_.shipped_at is not None and when < round_.shipped_at:
        raise RecordInvalid.at(at_field, "A round cannot be delivered before it was shipped "
                                         f"({round_.shipped_at.isoformat()}).")
    round_.status, round_.delivered_at = "delivered", when
    round_.shipped_at = round_.shipped_at or when
    session.execute(update(Contract).where(Contract.id == round_.contract_id)
                    .values(rounds_delivered=Contract.rounds_delivered + 1))
    session.flush()
    from hub.services import vouchers
    from hub.services.rounds import close_if_finished

    vouchers.issue_for_round(session, round_)
    contract = session.get_one(Contract, round_.contract_id, populate_existing=True)
    close_if_finished(session, contract)  # its last round: the contract has ended
    return "applied"


def _ship(session: Session, round_: Round, carrier: str | None, tracking_number: str | None,
          when: datetime, push_tracking: bool) -> str:
    carrier = carrier if carrier is not None else round_.carrier
    tracking = tracking_number if tracking_number is not None else round_.tracking_number
    new_tracking = tracking != round_.tracking_number
    if round_.status == "shipped" and carrier == round_.carrier and not new_tracking:
        return "unchanged"
    if round_.status == "scheduled":
        round_.status, round_.shipped_at = "shipped", when
    round_.carrier, round_.tracking_number = carrier, tracking
    if new_tracking:
        round_.tracking_pushed_at = None  # the channel has not seen this number yet
    session.flush()
    if new_tracking and tracking and push_tracking:
        from hub.services import tracking as tracking_push

        tracking_push.queue_tracking_push(session, round_)
    return "applied"


def lock_round(session: Session, round_id: int) -> Round:
    """The round as stored now, locked until the transaction ends."""
    return session.execute(select(Round).where(Round.id == round_id).with_for_update()
                           .execution_options(populate_existing=True)).scalar_one()


def today(session: Session, tenant_id: int | None) -> date:
    """Today on the tenant's calendar (Seoul's for an admin's overview of every tenant)."""
    zone = session.scalar(select(Tenant.time_zone).where(Tenant.id == tenant_id)) \
        if tenant_id is not None else None
    return utcnow().astimezone(ZoneInfo(zone or "Asia/Seoul")).date()


def _moment(session: Session, round_: Round, at: datetime | None, field: str,
            now: datetime | None = None) -> datetime:
    now = now or utcnow()
    if at is None:
        return now
    if at.tzinfo is None:
        zone = session.scalar(select(Tenant.time_zone).where(Tenant.id == round_.tenant_id))
        at = at.replace(tzinfo=ZoneInfo(zone or "Asia/Seoul"))
    at = at.astimezone(UTC)
    if at > now + FUTURE_SLACK:
        raise RecordInvalid.at(field, "A mark cannot be dated more than a day ahead.")
    return at


def ship_reported_fulfilment(session: Session, zone: ZoneInfo, order: OrderRecord,
                             event: Mapping[str, Any], occurred_at: datetime,
                             rank_before: int) -> bool:
    """A channel reported the order fulfilled: when the order has just become fulfilled,
    ship the earliest scheduled round, due by the event's date + 1 day, of each of its
    active contracts, with the tracking number the event carries. A later report with a
    tracking number fills it into the latest round so due that was shipped without one. The
    channel knows its own number, so nothing is queued back to it. True if a round changed."""
    data: Mapping[str, Any] = event.get("data") or {}
    tracking = data.get("tracking_number") if event.get("kind") == "fulfilment.created" \
        else None
    newly = rank_before < _FULFILLED_RANK and order.status == "fulfilled"
    contracts = sorted({line.contract.id for line in order.lines if line.contract is not None
                        and line.contract.id is not None and line.contract.status == "active"})
    if not contracts or not (newly or tracking):
        return False
    due = occurred_at.astimezone(zone).date() + timedelta(days=1)
    query = select(Round).where(Round.contract_id.in_(contracts), Round.scheduled_on <= due)
    if newly:
        query = query.where(Round.status == "scheduled").order_by(Round.scheduled_on,
                                                                  Round.number)
    else:
        query = query.where(Round.status == "shipped", Round.tracking_number.is_(None)
                            ).order_by(Round.scheduled_on.desc(), Round.number.desc())
    chosen: dict[int, Round] = {}
    for round_ in session.scalars(query.with_for_update()):
        chosen.setdefault(round_.contract_id, round_)
    at = min(occurred_at, utcnow())
    outcomes = [mark_round(session, round_, "shipped", tracking_number=tracking, at=at,
                           push_tracking=False) for _id, round_ in sorted(chosen.items())]
    return "applied" in outcomes
