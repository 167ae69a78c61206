"""Reconciling a channel's payout report per order: each outcome with both amounts, periods
in the tenant's time zone, idempotent re-imports (also under a race), and bad rows."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, text

from hub.db import session_scope
from hub.models import ChannelReport, Connection, Order, ReconciliationRow
from hub.services.reconciliation import (
    expected_payout,
    import_or_find_report,
    import_report,
    parse_amount,
    period_window,
    read_csv_report,
)
from hub.services.validation import RecordInvalid

NOVEMBER = datetime(2026, 11, 10, 3, 0, tzinfo=UTC)
STATUS_RANK = {"unpaid": 0, "paid": 1, "fulfilled": 2, "cancelled": 3, "refunded": 4}


def make_connection(app: Flask, tenant_id: int, name: str = "다온 구독",
                    fee_rate_bp: int = 1000) -> int:
    with session_scope(app.extensions["gudok"].session_factory) as session:
        row = Connection(tenant_id=tenant_id, connector="partner", name=name, status="active",
                         config={}, fee_rate_bp=fee_rate_bp)
        session.add(row)
        session.flush()
        return row.id


def make_order(app: Flask, connection_id: int, external_id: str, total: int, *,
               status: str = "paid", placed_at: datetime = NOVEMBER, refunded: int = 0,
               channel_fee: int | None = None) -> int:
    with session_scope(app.extensions["gudok"].session_factory) as session:
        connection = session.get_one(Connection, connection_id)
        row = Order(tenant_id=connection.tenant_id, connection_id=connection_id,
                    external_id=external_id, status=status, status_rank=STATUS_RANK[status],
                    placed_at=placed_at, source_updated_at=placed_at, source_digest="0" * 64,
                    total=total, refunded=refunded, channel_fee=channel_fee)
        session.add(row)
        session.flush()
        return row.id


def run_import(app: Flask, connection_id: int, rows: list[dict[str, Any]],
               period: str | None = "2026-11", source: str = "pull") -> dict[str, Any]:
    with session_scope(app.extensions["gudok"].session_factory) as session:
        connection = session.get_one(Connection, connection_id)
        report = import_report(session, connection, rows, source=source, period=period)
        outcomes = session.scalars(select(ReconciliationRow).where(
            ReconciliationRow.report_id == report.id).order_by(ReconciliationRow.id))
        return {"id": report.id, "counts": dict(report.counts),
                "rows": [(r.external_order_id, r.status, r.expected, r.reported)
                         for r in outcomes]}


def row(order_id: str, amount: int, fee: int | None = None) -> dict[str, Any]:
    return {"order_id": order_id, "amount": amount, "fee": fee}


@pytest.fixture
def channel(app: Flask, tenants: dict[str, int]) -> int:
    return make_connection(app, tenants["hanbit"])


def test_every_outcome_keeps_both_amounts(app, tenants, channel):
    make_order(app, channel, "A", 10000)  # fee 10%: 9,000 expected
    # 20,000 - 5,000 refunded - (1,500 fee less 375 returned with the refund) = 13,875
    make_order(app, channel, "B", 20000, refunded=5000, channel_fee=1500)
    make_order(app, channel, "C", 30000, status="fulfilled")  # not in the report: 27,000
    make_order(app, channel, "R", 8000, status="refunded", refunded=8000)  # all back: 0
    make_order(app, channel, "X", 50000, status="cancelled")
    make_order(app, channel, "U", 50000, status="unpaid")
    other = make_connection(app, tenants["hanbit"], "다른 채널")
    make_order(app, other, "O", 10000)

    report = run_import(app, channel, [row("A", 9000), row("B", 13000), row("GHOST", 7000),
                                       row("A", 9000), row("O", 9000)])

    assert report["rows"] == [
        ("A", "matched", 9000, 9000),
        ("B", "amount_mismatch", 13875, 13000),
        ("GHOST", "missing_in_hub", None, 7000),
        ("A", "duplicate", 9000, 9000),
        ("O", "missing_in_hub", None, 9000),  # another connection's order
        ("C", "missing_in_report", 27000, None),
        ("R", "missing_in_report", 0, None),
    ]
    assert report["counts"] == {"matched": 1, "amount_mismatch": 1, "missing_in_hub": 2,
                                "missing_in_report": 2, "duplicate": 1}


def test_a_duplicate_with_another_amount_is_still_a_duplicate(app, channel):
    make_order(app, channel, "A", 10000)
    report = run_import(app, channel, [row("A", 8000), row("A", 9000)], period=None)
    assert report["rows"] == [("A", "amount_mismatch", 9000, 8000),
                              ("A", "duplicate", 9000, 9000)]


def test_expected_payout_uses_the_reported_fee_else_the_truncated_rate():
    connection = Connection(fee_rate_bp=333)
    assert expected_payout(Order(total=10001, refunded=0, channel_fee=None), connection) == \
        10001 - 333  # 333.03 truncated
    assert expected_payout(Order(total=10001, refunded=1, channel_fee=0), connection) == 10000
    # a fifth refunded: a fifth of the reported fee (90 of 450) comes back
    assert expected_payout(Order(total=10000, refunded=2000, channel_fee=450),
                           Connection(fee_rate_bp=0)) == 7640


def test_missing_in_report_is_limited_to_the_month_in_seoul(app, channel):
    make_order(app, channel, "NOV-FIRST", 1000,  # 2026-11-01 00:00 in Seoul
               placed_at=datetime(2026, 10, 31, 15, 0, tzinfo=UTC))
    make_order(app, channel, "OCT-LAST", 1000,  # 2026-10-31 23:59 in Seoul
               placed_at=datetime(2026, 10, 31, 14, 59, tzinfo=UTC))
    make_order(app, channel, "DEC-FIRST", 1000,  # 2026-12-01 00:30 in Seoul
               placed_at=datetime(2026, 11, 30, 15, 30, tzinfo=UTC))
    make_order(app, channel, "NOV-LAST", 1000,  # 2026-11-30 23:59 in Seoul
               placed_at=datetime(2026, 11, 30, 14, 59, tzinfo=UTC))

    report = run_import(app, channel, [])
    assert [r[0] for r in report["rows"]] == ["NOV-FIRST", "NOV-LAST"]
    december = run_import(app, channel, [], period="2026-12")
    assert [r[0] for r in december["rows"]] == ["DEC-FIRST"]
    assert run_import(app, channel, [], period=None)["rows"] == []


def test_missing_in_report_for_an_iso_week(app, channel):
    make_order(app, channel, "MON", 1000,  # Monday 2026-11-23 00:00 in Seoul
               placed_at=datetime(2026, 11, 22, 15, 0, tzinfo=UTC))
    make_order(app, channel, "NEXT-MON", 1000,  # Monday 2026-11-30 00:00 in Seoul
               placed_at=datetime(2026, 11, 29, 15, 0, tzinfo=UTC))
    assert [r[0] for r in run_import(app, channel, [], period="2026-W48")["rows"]] == ["MON"]
    assert period_window("2026-W48", "Asia/Seoul") == (
        datetime(2026, 11, 22, 15, 0, tzinfo=UTC), datetime(2026, 11, 29, 15, 0, tzinfo=UTC))


def test_the_same_report_imported_twice_is_the_first_import(app, channel):
    make_order(app, channel, "A", 10000)
    make_order(app, channel, "B", 10000)
    first = run_import(app, channel, [row("A", 9000), row("B", 9000, 1000)])
    again = run_import(app, channel, [row("B", 9000, 1000), row("A", 9000)], source="csv")
    assert again == first
    changed_fee = run_import(app, channel, [row("A", 9000), row("B", 9000, 900)])
    other_period = run_import(app, channel, [row("A", 9000), row("B", 9000, 1000)],
                              period="2026-12")
    assert len({first["id"], changed_fee["id"], other_period["id"]}) == 3
    with session_scope(app.extensions["gudok"].session_factory) as session:
        assert session.scalar(select(func.count()).select_from(ChannelReport)) == 3
        assert session.scalar(select(func.count()).select_from(ReconciliationRow)) == 6


def test_a_race_between_two_imports_of_one_report_makes_one_import(app, backend, channel):
    """The second import waits on the first one's unique key, then reads its report."""
    make_order(app, channel, "A", 10000)
    factory = app.extensions["gudok"].session_factory
    rows = [row("A", 9000), row("B", 100)]
    seen: dict[str, Any] = {}

    def second() -> None:
        with session_scope(factory) as session:
            report, created = import_or_find_report(
                session, session.get_one(Connection, channel), rows, source="csv",
                period="2026-11")
            seen.update(id=report.id, created=created)

    first_session = factory()
    try:
        report, created = import_or_find_report(
            first_session, first_session.get_one(Connection, channel), rows, source="pull",
            period="2026-11")
        assert created
        thread = threading.Thread(target=second)
        thread.start()
        _wait_until_blocked(app, backend)
        assert "id" not in seen  # still waiting for the first import to commit
        first_session.commit()
        thread.join(timeout=30)
    finally:
        first_session.close()
    assert seen == {"id": report.id, "created": False}
    with session_scope(factory) as session:
        assert session.scalar(select(func.count()).select_from(ChannelReport)) == 1
        assert session.scalar(select(func.count()).select_from(ReconciliationRow)) == 2


def _wait_until_blocked(app: Flask, backend: str) -> None:
    """On PostgreSQL, until another session waits on a lock; SQLite has no such view."""
    if backend != "postgresql":
        time.sleep(0.3)
        return
    engine = app.extensions["gudok"].engine
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with engine.connect() as connection:
            waiting = connection.scalar(text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database()"))
        if waiting:
            return
        time.sleep(0.02)
    raise AssertionError("the second import never waited on the first")


def test_bad_rows_reject_the_whole_report(app, channel):
    rows: list[dict[str, Any]] = [row("A", 9000), {"order_id": "B", "amount": "12,300"},
                                  {"order_id": "", "amount": 1, "fee": 1.5},
                                  {"order_id": "C", "amount": True}]
    with session_scope(app.extensions["gudok"].session_factory) as session:
        connection = session.get_one(Connection, channel)
        with pytest.raises(RecordInvalid) as raised:
            import_report(session, connection, rows, source="pull", period="2026-11")
        assert [e["path"] for e in raised.value.errors] == [
            "rows[1].amount", "rows[2].order_id", "rows[2].fee", "rows[3].amount"]
        with pytest.raises(RecordInvalid) as raised:
            import_report(session, connection, [], source="pull", period="2026-13")
        assert [e["path"] for e in raised.value.errors] == ["period"]
        assert session.scalar(select(func.count()).select_from(ChannelReport)) == 0


@pytest.mark.parametrize(("written", "won"), [
    ("12300", 12300), ("12,300", 12300), ("12,300원", 12300), (" 12,300 원 ", 12300),
    ("₩1,234,567", 1234567), ("-1,000", -1000), ("0", 0),
])
def test_amounts_as_channels_write_them(written, won):
    assert parse_amount(written) == won


@pytest.mark.parametrize("written", ["", "12.5", "1,23", "12,3000", "abc", "1e3", "--1",
                                     "1,000,00원"])
def test_what_is_not_an_amount(written):
    assert parse_amount(written) is None


def test_a_korean_csv_with_bom_maps_columns_by_header():
    data = ("\ufeff주문번호,상품명,정산금액,수수료\r\n"
            "N-1,사과 꾸러미,\"12,300\",\"1,230원\"\r\n"
            "\r\n"
            "N-2,배 꾸러미,9900원,\r\n").encode()
    assert read_csv_report(data, "주문번호", "정산금액", "수수료") == [
        {"order_id": "N-1", "amount": 12300, "fee": 1230},
        {"order_id": "N-2", "amount": 9900, "fee": None}]
    assert read_csv_report("주문번호,정산금액\nN-1,1\n".encode(), "주문번호", "정산금액") == \
        [{"order_id": "N-1", "amount": 1, "fee": None}]


def test_a_bad_csv_names_its_column_or_rows():
    with pytest.raises(RecordInvalid) as raised:
        read_csv_report("주문,정산금액\n1,1\n".encode(), "주문번호", "정산금액", "수수료")
    assert [e["path"] for e in raised.value.errors] == ["order_column", "fee_column"]
    with pytest.raises(RecordInvalid) as raised:
        read_csv_report("주문번호,정산금액\nN-1,1\nN-2,일만원\n,3\n".encode(),
                        "주문번호", "정산금액")
    assert [e["path"] for e in raised.value.errors] == [
        "rows[1].amount", "rows[2].order_id"]
    for data in ("주문번호".encode("cp949"), b"", b"a,b\n\x00,1\n"):
        with pytest.raises(RecordInvalid) as raised:
            read_csv_report(data, "a", "b")
        assert [e["path"] for e in raised.value.errors] == ["body"]
