"""Settlement periods: weekly ("2026-W48", ISO weeks) or monthly ("2026-11") per tenant, in
the tenant's time zone. A money event lands in the period of its local date, or, when that
period is closed, in the first open period after it: a closed period never changes."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.models import SettlementPeriod, Tenant

_MONTH = re.compile(r"^([1-9]\d{3})-(0[1-9]|1[0-2])$")
_WEEK = re.compile(r"^([1-9]\d{3})-W(0[1-9]|[1-4]\d|5[0-3])$")


def period_key(day: date, cycle: str) -> str:
    if cycle == "weekly":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{day.year}-{day.month:02d}"


def valid_key(key: str, cycle: str | None = None) -> bool:
    """A well-formed period key (of the given cycle, if any) that names a real period."""
    if (cycle in (None, "monthly")) and _MONTH.match(key):
        return True
    match = _WEEK.match(key) if cycle in (None, "weekly") else None
    if match is None:
        return False
    try:
        date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
    except ValueError:
        return False
    return True


def period_bounds(key: str) -> tuple[date, date]:
    """First day and the day after the last."""
    month = _MONTH.match(key)
    if month:
        year, number = int(month.group(1)), int(month.group(2))
        start = date(year, number, 1)
        end = date(year + 1, 1, 1) if number == 12 else date(year, number + 1, 1)
        return start, end
    week = _WEEK.match(key)
    if week is None:
        raise ValueError(f"not a period: {key!r}")
    start = date.fromisocalendar(int(week.group(1)), int(week.group(2)), 1)
    return start, start + timedelta(days=7)


def period_window(key: str, time_zone: str) -> tuple[datetime, datetime]:
    """The instants (UTC) a period starts and ends at, midnight to midnight in the zone."""
    first, after_last = period_bounds(key)
    zone = ZoneInfo(time_zone)
    return (datetime.combine(first, time(0), zone).astimezone(UTC),
            datetime.combine(after_last, time(0), zone).astimezone(UTC))


def next_key(key: str) -> str:
    _, end = period_bounds(key)
    return period_key(end, "weekly" if "W" in key else "monthly")


def local_day(tenant: Tenant, moment: datetime) -> date:
    return moment.astimezone(ZoneInfo(tenant.time_zone)).date()


def period_row(session: Session, tenant: Tenant, key: str) -> SettlementPeriod:
    """The period's row, made (open) on first use."""
    row = session.scalar(select(SettlementPeriod).where(
        SettlementPeriod.tenant_id == tenant.id, SettlementPeriod.key == key))
    if row is None:
        starts_on, ends_before = period_bounds(key)
        row = SettlementPeriod(tenant_id=tenant.id, key=key, starts_on=starts_on,
                               ends_before=ends_before, status="open")
        with session.begin_nested():
            session.add(row)
        session.flush()
    return row


class PeriodLanding:
    """Which open period a money event lands in; remembers closed keys for one run."""

    def __init__(self, session: Session, tenant: Tenant) -> None:
        self.session = session
        self.tenant = tenant
        self.closed = set(session.scalars(select(SettlementPeriod.key).where(
            SettlementPeriod.tenant_id == tenant.id, SettlementPeriod.status == "closed")))
        self._landing: dict[str, str] = {}

    def for_moment(self, moment: datetime) -> str:
        return self.for_key(period_key(local_day(self.tenant, moment),
                                       self.tenant.settlement_cycle))

    def for_key(self, key: str) -> str:
        landing = self._landing.get(key)
        if landing is None:
            landing = key
            while landing in self.closed:
                landing = next_key(landing)
            self._landing[key] = landing
        return landing

