"""/api/v1/rounds: listing, pick lists as JSON and CSV, ship and deliver marks with their
problems, and a marks CSV with good and bad rows."""

from __future__ import annotations

import csv
import io
from typing import Any

from hub.models import Contract, Round
from tests.factories import error_paths, problem
from tests.services.test_logistics import DAY, calls, sold, stored

__all__ = ["calls", "sold"]  # fixtures shared with the service tests


def test_rounds_are_listed_by_date_status_and_contract(operator, other_operator, sold):
    listed = operator.get(f"/api/v1/rounds?date={DAY.isoformat()}&limit=3")
    assert listed.status_code == 200, listed.get_json()
    page = listed.get_json()
    assert [r["id"] for r in page["data"]] == [sold["rounds"][k] for k in ("old", "new",
                                                                            "other")]
    rest = operator.get(f"/api/v1/rounds?date={DAY.isoformat()}&limit=3"
                        f"&cursor={page['next_cursor']}").get_json()
    assert [r["status"] for r in rest["data"]] == ["cancelled"] and not rest["next_cursor"]
    contract = sold["contracts"]["OLD"]
    assert [r["number"] for r in operator.get(
        f"/api/v1/rounds?contract={contract}").get_json()["data"]] == [1, 2]
    assert [r["id"] for r in operator.get("/api/v1/rounds?status=shipped").get_json()[
        "data"]] == [sold["rounds"]["new"]]
    assert other_operator.get("/api/v1/rounds").get_json()["data"] == []
    assert error_paths(operator.get("/api/v1/rounds?date=30-12-2026")) == ["date"]


def test_pick_lists_as_json_by_centre_and_by_merchant(operator, sold):
    body = operator.get(f"/api/v1/rounds/pick-lists?date={DAY.isoformat()}").get_json()
    assert body["by"] == "centre" and body["date"] == DAY.isoformat()
    centre = body["data"][0]
    assert centre["centre"]["code"] == "LC-1"
    assert [(b["box_code"], b["version"], b["boxes"]) for b in centre["boxes"]] == [
        ("BOX-1", 1, 2), ("BOX-1", 2, 1)]
    assert body["data"][1]["centre"] == {"id": None, "code": "unassigned", "name": "미지정"}
    merchants = operator.get(f"/api/v1/rounds/pick-lists?date={DAY.isoformat()}&by=merchant"
                             ).get_json()["data"]
    assert [(m["merchant"]["name"], m["centres"][0]["centre"]["code"],
             [i["quantity"] for i in m["centres"][0]["items"]]) for m in merchants] == [
        ("한빛농원 1", "LC-1", [5, 4]), ("한빛농원 2", "unassigned", [1, 2])]
    today = operator.get("/api/v1/rounds/pick-lists").get_json()  # today in Seoul
    assert today["data"] == [] and today["date"] >= "2026-11-29"
    assert error_paths(operator.get(
        f"/api/v1/rounds/pick-lists?date={DAY.isoformat()}&by=truck")) == ["by"]


def test_pick_lists_as_csv_start_with_a_bom(operator, admin, sold):
    response = operator.get(f"/api/v1/rounds/pick-lists?date={DAY.isoformat()}&format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:4] == ["배송일", "물류센터코드", "물류센터", "구분"]
    assert ["2026-12-30", "LC-1", "한빛 물류센터", "품목", "SKU-1-1", "사과 1kg", "", "1kg",
            "한빛농원 1", "5"] in rows
    by_merchant = operator.get(f"/api/v1/rounds/pick-lists?date={DAY.isoformat()}"
                               "&by=merchant&format=csv").get_data().decode("utf-8-sig")
    assert "한빛농원 2,unassigned,미지정,SKU-2-2" in by_merchant
    everyone = admin.get(f"/api/v1/rounds/pick-lists?date={DAY.isoformat()}").get_json()
    hanbit = admin.get(f"/api/v1/rounds/pick-lists?date={DAY.isoformat()}&tenant=hanbit")
    assert everyone["data"] == hanbit.get_json()["data"] != []
    assert admin.get(f"/api/v1/rounds/pick-lists?date={DAY.isoformat()}&tenant=dasol"
                     ).get_json()["data"] == []


def test_ship_then_deliver_with_idempotence_and_conflicts(app, operator, sold, calls):
    old = sold["rounds"]["old"]
    parcel = {"carrier": "CJ대한통운", "tracking_number": "6001",
              "shipped_at": "2026-11-29T09:00:00+09:00"}
    shipped = operator.post(f"/api/v1/rounds/{old}/ship", json=parcel)
    assert shipped.status_code == 200, shipped.get_json()
    body = shipped.get_json()
    assert (body["status"], body["carrier"], body["tracking_number"]) == (
        "shipped", "CJ대한통운", "6001")
    assert body["shipped_at"].startswith("2026-11-29T00:00:00")
    again = operator.post(f"/api/v1/rounds/{old}/ship", json=parcel)
    assert again.status_code == 200 and again.get_json() == body
    assert calls["tracking"] == [old]
    early = operator.post(f"/api/v1/rounds/{old}/deliver",
                          json={"delivered_at": "2026-11-28T09:00:00+09:00"})
    assert error_paths(early) == ["delivered_at"]
    for _ in range(2):
        delivered = operator.post(f"/api/v1/rounds/{old}/deliver", json={})
        assert delivered.status_code == 200 and delivered.get_json()["status"] == "delivered"
    assert stored(app, Contract, sold["contracts"]["OLD"]).rounds_delivered == 1
    assert calls["vouchers"] == [old]
    problem(operator.post(f"/api/v1/rounds/{old}/ship", json=parcel), 409)
    problem(operator.post(f"/api/v1/rounds/{sold['rounds']['gone']}/deliver", json={}), 409)
    assert sorted(error_paths(operator.post(f"/api/v1/rounds/{sold['rounds']['other']}/ship",
                                            json={}))) == ["carrier", "tracking_number"]


def test_marks_need_a_writer_of_the_tenant(app, viewer, mall, other_operator, sold):
    old = sold["rounds"]["old"]
    problem(viewer.post(f"/api/v1/rounds/{old}/deliver", json={}), 403)
    problem(mall.post(f"/api/v1/rounds/{old}/deliver", json={}), 403)
    problem(other_operator.post(f"/api/v1/rounds/{old}/deliver", json={}), 404)
    problem(other_operator.get(f"/api/v1/rounds/{old}"), 404)
    assert stored(app, Round, old).status == "scheduled"


MARKS = ("\ufeff회차ID,상태,택배사,송장번호,일시,받는분\r\n"
         "{old},shipped,CJ대한통운,7001,2026-11-29 09:00,김\r\n"
         "{old},배송완료,,,,\r\n"
         "{other},shipped,,7002,,\r\n"
         "{gone},delivered,,,,\r\n"
         "abc,delivered,,,,\r\n"
         "{new},delivered,,,2026-11-29T10:00:00+09:00,\r\n"
         "{foreign},delivered,,,,\r\n"
         "{new},delivered,,,,\r\n")


def test_a_marks_csv_applies_its_good_rows_and_reports_the_rest(app, operator, sold, calls):
    rounds = sold["rounds"]
    text = MARKS.format(foreign=999999, **rounds)
    response = operator.post("/api/v1/rounds/marks", data=text.encode("utf-8"),
                             headers={"Content-Type": "text/csv"})
    assert response.status_code == 200, response.get_json()
    report = response.get_json()
    assert (report["applied"], report["unchanged"], report["failed"]) == (3, 1, 4)
    assert report["ignored_columns"] == ["받는분"]
    assert [(r["row"], r["outcome"], [e["path"] for e in r["errors"]])
            for r in report["rows"]] == [
        (1, "applied", []), (2, "applied", []), (3, "error", ["rows[3].carrier"]),
        (4, "error", ["rows[4].status"]), (5, "error", ["rows[5].round_id"]),
        (6, "applied", []), (7, "error", ["rows[7].round_id"]), (8, "unchanged", [])]
    assert stored(app, Round, rounds["old"]).status == "delivered"
    assert stored(app, Round, rounds["other"]).status == "scheduled"
    assert sorted(calls["vouchers"]) == sorted([rounds["old"], rounds["new"]])


def test_an_unreadable_marks_file_is_a_problem_not_a_500(operator, viewer, sold):
    def post(body: bytes, content_type: str = "text/csv") -> Any:
        return operator.post("/api/v1/rounds/marks", data=body,
                             headers={"Content-Type": content_type})

    assert error_paths(post(b"carrier,at\r\nCJ,\r\n")) == ["columns", "columns"]
    assert error_paths(post(b"")) == ["body"]
    assert error_paths(post(b"\xff\xfe\x00\x00")) == ["body"]
    problem(post(b"round_id,status\r\n1,shipped\r\n", "application/json"), 415)
    cp949 = "회차ID,상태\r\n999999,배송완료\r\n".encode("cp949")
    assert post(cp949).get_json()["rows"][0]["errors"][0]["path"] == "rows[1].round_id"
    problem(viewer.post("/api/v1/rounds/marks", data=b"round_id,status\r\n",
                        headers={"Content-Type": "text/csv"}), 403)
