"""/api/v1/channel-reports: a channel's CSV payout report uploaded, reconciled per order,
read by status and reviewed; bad files rejected whole; roles and tenants kept apart."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.factories import error_paths, problem
from tests.services.test_reconciliation import make_connection, make_order

REPORT = ("\ufeff주문번호,상품명,정산금액,수수료\r\n"
          "N-1,사과 꾸러미,\"9,000\",\"1,000원\"\r\n"
          "N-2,배 꾸러미,\"18,000원\",\r\n"
          "N-404,감 꾸러미,5000,\r\n"
          "N-1,사과 꾸러미,\"9,000\",\"1,000원\"\r\n")
COLUMNS = "order_column=주문번호&amount_column=정산금액&fee_column=수수료"


def upload(api: Any, connection: int, body: str | bytes = REPORT, period: str = "2026-11",
           columns: str = COLUMNS, content_type: str = "text/csv; charset=utf-8") -> Any:
    data = body.encode() if isinstance(body, str) else body
    query = f"connection={connection}&{columns}" + (f"&period={period}" if period else "")
    return api.post(f"/api/v1/channel-reports/upload?{query}", data=data,
                    headers={"Content-Type": content_type})


@pytest.fixture
def channel(app: Flask, tenants: dict[str, int]) -> int:
    """A 10%-fee channel of hanbit with three November orders."""
    connection = make_connection(app, tenants["hanbit"])
    make_order(app, connection, "N-1", 10000)  # 9,000 expected: matched
    make_order(app, connection, "N-2", 20000)  # 18,000 expected: matched
    make_order(app, connection, "N-3", 30000)  # not in the report
    return connection


def test_a_korean_csv_is_reconciled_and_read_by_status(operator, channel):
    created = upload(operator, channel)
    assert created.status_code == 201, created.get_json()
    report = created.get_json()
    assert created.headers["Location"] == f"/api/v1/channel-reports/{report['id']}"
    assert (report["connection_id"], report["source"], report["period"]) == (
        channel, "csv", "2026-11")
    assert report["counts"] == {"matched": 2, "amount_mismatch": 0, "missing_in_hub": 1,
                                "missing_in_report": 1, "duplicate": 1}
    assert operator.get(f"/api/v1/channel-reports/{report['id']}").get_json() == report
    listed = operator.get(f"/api/v1/channel-reports?connection={channel}").get_json()
    assert [r["id"] for r in listed["data"]] == [report["id"]]

    base = f"/api/v1/channel-reports/{report['id']}/rows"
    first = operator.get(f"{base}?limit=3").get_json()
    rest = operator.get(f"{base}?limit=3&cursor={first['next_cursor']}").get_json()
    assert rest["next_cursor"] is None
    assert [(r["external_order_id"], r["status"], r["expected"], r["reported"])
            for r in first["data"] + rest["data"]] == [
        ("N-1", "matched", 9000, 9000), ("N-2", "matched", 18000, 18000),
        ("N-404", "missing_in_hub", None, 5000), ("N-1", "duplicate", 9000, 9000),
        ("N-3", "missing_in_report", 27000, None)]
    missing = operator.get(f"{base}?status=missing_in_hub").get_json()["data"]
    assert [(r["external_order_id"], r["order_id"]) for r in missing] == [("N-404", None)]
    assert operator.get(f"{base}?status=lost").status_code == 400


def test_a_refund_after_the_sale_is_an_amount_mismatch(app, operator, tenants):
    connection = make_connection(app, tenants["hanbit"])
    # 10,000 - 2,000 refunded - (a fee of 1,000, of which the refund takes back 200) = 7,200
    make_order(app, connection, "N-1", 10000, refunded=2000)
    report = upload(operator, connection, "주문번호,정산금액\nN-1,\"9,000원\"\n",
                    columns="order_column=주문번호&amount_column=정산금액").get_json()
    [row] = operator.get(f"/api/v1/channel-reports/{report['id']}/rows").get_json()["data"]
    assert (row["status"], row["expected"], row["reported"]) == ("amount_mismatch", 7200, 9000)


def test_the_same_file_uploaded_again_is_the_first_import(operator, channel):
    first = upload(operator, channel)
    again = upload(operator, channel, REPORT.removeprefix("\ufeff"))  # same rows, no BOM
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json() == first.get_json()
    assert len(operator.get("/api/v1/channel-reports").get_json()["data"]) == 1
    assert upload(operator, channel, period="2026-12").status_code == 201


def test_a_bad_file_is_rejected_whole_with_paths(operator, channel):
    missing = upload(operator, channel, columns="order_column=주문ID&amount_column=정산금액")
    assert error_paths(missing, 400) == ["order_column"]
    bad_rows = upload(operator, channel, "주문번호,정산금액\nN-1,9000\nN-2,구천원\nN-3,1.5\n",
                      columns="order_column=주문번호&amount_column=정산금액")
    assert error_paths(bad_rows, 400) == ["rows[1].amount", "rows[2].amount"]
    assert error_paths(upload(operator, channel, "주문번호,정산금액\n".encode("cp949")),
                       400) == ["body"]
    assert operator.get("/api/v1/channel-reports").get_json()["data"] == []
    assert error_paths(upload(operator, channel, period="2026-13")) == ["period"]
    assert error_paths(upload(operator, channel, columns="amount_column=정산금액")) == \
        ["order_column"]
    problem(upload(operator, channel, content_type="application/json"), 415)
    problem(upload(operator, 999999), 404)


def test_an_outcome_is_reviewed_with_a_note(operator, channel):
    report = upload(operator, channel).get_json()
    base = f"/api/v1/channel-reports/{report['id']}/rows"
    [row] = operator.get(f"{base}?status=missing_in_hub").get_json()["data"]
    assert row["reviewed_at"] is None
    reviewed = operator.post(f"{base}/{row['id']}/review", json={"note": "플랫폼 문의 완료"})
    assert reviewed.status_code == 200, reviewed.get_json()
    assert reviewed.get_json()["reviewed_at"] and \
        reviewed.get_json()["review_note"] == "플랫폼 문의 완료"
    assert operator.get(f"{base}?status=missing_in_hub").get_json()["data"] == \
        [reviewed.get_json()]
    assert error_paths(operator.post(f"{base}/{row['id']}/review", json={"note": "x" * 501})) \
        == ["note"]
    problem(operator.post(f"/api/v1/channel-reports/{report['id'] + 1}/rows/{row['id']}"
                          "/review", json={}), 404)


def test_viewers_read_and_other_tenants_see_nothing(app, operator, viewer, other_operator,
                                                    admin, tenants, channel):
    report = upload(operator, channel).get_json()
    base = f"/api/v1/channel-reports/{report['id']}"
    row_id = operator.get(f"{base}/rows").get_json()["data"][0]["id"]
    assert viewer.get(base).status_code == 200
    assert viewer.get(f"{base}/rows").status_code == 200
    problem(upload(viewer, channel, period="2026-12"), 403)
    problem(viewer.post(f"{base}/rows/{row_id}/review", json={}), 403)

    for path in (base, f"{base}/rows"):
        problem(other_operator.get(path), 404)
    problem(other_operator.post(f"{base}/rows/{row_id}/review", json={}), 404)
    problem(upload(other_operator, channel, period="2026-12"), 404)
    assert other_operator.get("/api/v1/channel-reports").get_json()["data"] == []

    assert admin.get(base).get_json() == report
    assert [r["id"] for r in admin.get("/api/v1/channel-reports?tenant=hanbit")
            .get_json()["data"]] == [report["id"]]
    assert admin.get("/api/v1/channel-reports?tenant=dasol").get_json()["data"] == []


def test_the_upload_is_documented_as_csv(operator):
    document = operator.get("/api/v1/openapi.json").get_json()
    upload_doc = document["paths"]["/api/v1/channel-reports/upload"]["post"]
    assert "text/csv" in upload_doc["requestBody"]["content"]
    names = {p["name"] for p in upload_doc["parameters"]}
    assert {"connection", "period", "order_column", "amount_column", "fee_column"} <= names
