"""Statements through the API: the contract's fields, CSV and PDF of the same statement, runs,
periods, the public-fund report, and who may see what."""

from __future__ import annotations

import io

from pypdf import PdfReader

from hub.db import session_scope
from tests.factories import error_paths
from tests.services.settlement_world import add_order, build_world, deliver, kst, refund


def month_of_money(app, tenant_id):
    with session_scope(app.extensions["gudok"].session_factory) as session:
        world = build_world(session, tenant_id)
        add_order(session, world, "M1", world.mall, kst(2026, 6, 1), 104000)
        add_order(session, world, "P2", world.platform, kst(2026, 6, 2), 100000, coupon=True)
        deliver(session, world, "M1", 1, kst(2026, 6, 8))
        row = deliver(session, world, "P2", 1, kst(2026, 6, 9))
        refund(session, world, "P2", 1000, kst(2026, 6, 20), world.items[0])
        return {"merchants": [m.id for m in world.merchants], "round": row.id,
                "order": world.orders["P2"].id}


def test_statements_of_a_period_run_close_and_download(app, operator, viewer, tenants):
    money = month_of_money(app, tenants["hanbit"])
    first = money["merchants"][0]
    run = operator.post("/api/v1/statements/runs", json={"period": "2026-06"})
    assert run.status_code == 202, run.get_json()
    assert run.get_json()["posted"]["post_rounds"] == 2
    listed = viewer.get("/api/v1/statements?period=2026-06").get_json()["data"]
    assert {s["merchant_id"] for s in listed} == set(money["merchants"])
    mine = next(s for s in listed if s["merchant_id"] == first)
    assert mine["status"] == "draft" and mine["period"] == "2026-06"
    assert mine["payable"] == sum(t["amount"] for t in mine["totals"])
    kinds = {line["kind"] for line in mine["lines"]}
    assert {"sales", "merchant_discount", "operator_fee", "operator_fee_vat", "channel_fee",
            "shipping_share", "refund", "channel_fee_return"} <= kinds
    sale = next(line for line in mine["lines"] if line["round_id"] == money["round"])
    assert sale["order_id"] == money["order"] and sale["entry_key"].startswith("round:")
    refunded = next(line for line in mine["lines"] if line["kind"] == "refund")
    assert refunded["claim_id"] and refunded["amount"] == -1000

    closed = operator.post("/api/v1/statements/runs", json={"period": "2026-06", "close": True})
    assert closed.get_json()["closed"] is True and closed.get_json()["digest"]
    frozen = operator.get(f"/api/v1/statements?period=2026-06&merchant={first}")
    statement = frozen.get_json()["data"][0]
    assert statement["status"] == "closed" and statement["digest"]
    periods = operator.get("/api/v1/statements/periods").get_json()["data"]
    assert any(p["key"] == "2026-06" and p["status"] == "closed" for p in periods)

    as_csv = operator.get(f"/api/v1/statements/{first}?period=2026-06&format=csv")
    assert as_csv.status_code == 200 and as_csv.data.startswith(b"\xef\xbb\xbf")
    assert "판매" in as_csv.data.decode("utf-8-sig")
    assert as_csv.data == operator.get(
        f"/api/v1/statements/{first}?period=2026-06&format=csv").data
    as_pdf = operator.get(f"/api/v1/statements/{first}?period=2026-06&format=pdf")
    assert as_pdf.mimetype == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(as_pdf.data)).pages)
    assert "정산 명세서" in text and "한빛농원" in text
    assert f"{statement['payable']:,}" in text


def test_public_fund_report_counts_every_municipality_won(app, operator, tenants):
    month_of_money(app, tenants["hanbit"])
    operator.post("/api/v1/statements/runs", json={"period": "2026-06"})
    report = operator.get("/api/v1/statements/public-funds?month=2026-06").get_json()
    # M1 round 1: subsidy 1,500. P2 round 1: coupon 1,000 and subsidy 1,500.
    assert report["totals"]["by_kind"] == {"coupon": 1000, "shipping_subsidy": 3000}
    assert report["totals"]["total"] == 4000
    assert sum(row["amount"] for row in report["rows"]) == 4000
    assert {row["box_code"] for row in report["rows"]} == {"W-BOX"}
    # The plan's 10% is the merchants'; no operator- or channel-funded discount that month.
    assert operator.get("/api/v1/statements/public-funds?month=2026-06&funder=operator")\
        .get_json()["totals"]["total"] == 0
    as_csv = operator.get("/api/v1/statements/public-funds?month=2026-06&format=csv")
    assert as_csv.data.startswith(b"\xef\xbb\xbf") and "총계" in as_csv.data.decode("utf-8-sig")


def test_bad_periods_and_other_tenants_are_refused(app, operator, other_operator, viewer,
                                                   tenants):
    money = month_of_money(app, tenants["hanbit"])
    assert "period" in error_paths(operator.get("/api/v1/statements?period=2026-13"), 400)
    assert "period" in error_paths(operator.get("/api/v1/statements?period=2026-W48"), 400)
    assert "period" in error_paths(operator.post("/api/v1/statements/runs",
                                                 json={"period": "June"}), 400)
    first = money["merchants"][0]
    assert other_operator.get(f"/api/v1/statements/{first}?period=2026-06").status_code == 404
    assert other_operator.get("/api/v1/statements?period=2026-06").get_json()["data"] == []
    assert viewer.post("/api/v1/statements/runs", json={"period": "2026-06"}).status_code == 403
