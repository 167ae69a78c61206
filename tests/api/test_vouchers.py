"""The voucher API: list and read, redeem one code (again, expired, unknown, another
tenant's), and a redemption file with mixed rows."""

from __future__ import annotations

from typing import Any

from flask import Flask

from tests.factories import error_paths, problem
from tests.services.test_vouchers import issue, sold_round


def codes(app: Flask, operator: Any, **options: Any) -> tuple[dict[str, Any], list[str]]:
    sold = sold_round(app, operator, **options)
    return sold, [v["code"] for v in issue(app, sold["round"])]


def test_vouchers_are_listed_filtered_and_read(app: Flask, operator: Any,
                                               other_operator: Any) -> None:
    sold, issued = codes(app, operator)
    page = operator.get(f"/api/v1/vouchers?round={sold['round']}&limit=3").get_json()
    assert [v["code"] for v in page["data"]] == issued[:3] and page["next_cursor"]
    rest = operator.get(f"/api/v1/vouchers?round={sold['round']}&cursor="
                        f"{page['next_cursor']}").get_json()
    assert [v["code"] for v in rest["data"]] == issued[3:]
    by_merchant = operator.get(f"/api/v1/vouchers?merchant={sold['merchant']}&status=issued")
    assert len(by_merchant.get_json()["data"]) == 4
    one = operator.get(f"/api/v1/vouchers/{issued[0].lower()}").get_json()
    assert (one["code"], one["status"], one["valid_until"], one["place"]) == (
        issued[0], "issued", "2026-12-31", None)
    assert other_operator.get("/api/v1/vouchers").get_json()["data"] == []
    problem(other_operator.get(f"/api/v1/vouchers/{issued[0]}"), 404)
    assert error_paths(operator.get("/api/v1/vouchers?status=lost")) == ["status"]


def test_redeem_once_again_expired_unknown_and_foreign(app: Flask, operator: Any,
                                                       other_operator: Any,
                                                       viewer: Any) -> None:
    _sold, issued = codes(app, operator, boxes=1)
    url = f"/api/v1/vouchers/{issued[0]}/redeem"
    body = {"redeemed_at": "2026-12-05T12:00:00+09:00", "place": "한빛 전망대"}
    first = operator.post(url, json=body)
    assert first.status_code == 200, first.get_json()
    assert (first.get_json()["status"], first.get_json()["place"]) == ("redeemed", "한빛 전망대")
    again = operator.post(url, json=body)
    assert again.status_code == 200 and again.get_json() == first.get_json()
    assert operator.post(url, json={}).get_json() == first.get_json()
    problem(operator.post(url, json={"redeemed_at": "2026-12-06T12:00:00+09:00"}), 409)
    # Local time without an offset is the tenant's: 2027-01-01 00:10 in Seoul is too late.
    expired = problem(operator.post(f"/api/v1/vouchers/{issued[1]}/redeem",
                                    json={"redeemed_at": "2027-01-01T00:10:00"}), 409)
    assert expired["title"] == "Expired" and expired["errors"][0]["path"] == "redeemed_at"
    problem(operator.post("/api/v1/vouchers/GV-000000000000/redeem", json={}), 404)
    problem(other_operator.post(f"/api/v1/vouchers/{issued[1]}/redeem", json={}), 404)
    problem(viewer.post(f"/api/v1/vouchers/{issued[1]}/redeem", json={}), 403)
    assert error_paths(operator.post(f"/api/v1/vouchers/{issued[1]}/redeem",
                                     json={"place": ""})) == ["place"]
    assert operator.get(f"/api/v1/vouchers/{issued[1]}").get_json()["status"] == "issued"


def test_a_redemption_file_applies_valid_rows_and_reports_each(app: Flask, operator: Any,
                                                               other_operator: Any) -> None:
    _sold, issued = codes(app, operator, boxes=1, per_box=3)
    foreign = codes(app, other_operator, seed=9)[1][0]
    operator.post(f"/api/v1/vouchers/{issued[1]}/redeem",
                  json={"redeemed_at": "2026-12-03T10:00:00+09:00", "place": "카페"})
    text = ("\ufeff코드,사용일시,사용처\n"
            f"{issued[0]},2026-12-04 10:00,한빛 전망대\n"
            f"{issued[1]},2026-12-03 10:00,카페\n"
            "GV-000000000000,2026-12-04 10:00,어딘가\n"
            f"{issued[2]},어제,카페\n"
            f"{foreign},,\n"
            ",2026-12-04 10:00,\n")
    response = operator.post("/api/v1/vouchers/redemptions", data=text.encode(),
                             headers={"Content-Type": "text/csv; charset=utf-8"})
    assert response.status_code == 200, response.get_json()
    result = response.get_json()
    assert (result["redeemed"], result["unchanged"], result["failed"]) == (1, 1, 4)
    assert [r["result"] for r in result["rows"]] == [
        "redeemed", "unchanged", "error", "error", "error", "error"]
    paths = [[e["path"] for e in r["errors"]] for r in result["rows"]]
    assert paths == [[], [], ["rows[2].code"], ["rows[3].redeemed_at"], ["rows[4].code"],
                     ["rows[5].code"]]
    redeemed = operator.get(f"/api/v1/vouchers/{issued[0]}").get_json()
    assert (redeemed["status"], redeemed["place"]) == ("redeemed", "한빛 전망대")
    assert redeemed["redeemed_at"].startswith("2026-12-04T01:00")
    assert operator.get(f"/api/v1/vouchers/{issued[2]}").get_json()["status"] == "issued"
    english = operator.post("/api/v1/vouchers/redemptions",
                            data=f"code,place\n{issued[2]},박물관\n".encode(),
                            headers={"Content-Type": "text/csv"}).get_json()
    assert english["redeemed"] == 1
    problem(operator.post("/api/v1/vouchers/redemptions", json={"code": issued[2]}), 415)
    assert error_paths(operator.post("/api/v1/vouchers/redemptions", data=b"a,b\n1,2\n",
                                     headers={"Content-Type": "text/csv"})) == ["header"]
