from __future__ import annotations

import csv
import io
import logging
import time
from collections import Counter
from typing import Any

import pytest
from pypdf import PdfReader

from hub.services.statement_render import (
    KIND_LABELS,
    render_statement_csv,
    render_statement_pdf,
)

AMOUNTS = {"sales": 40000, "merchant_discount": -2000, "operator_fee": -4000,
           "operator_fee_vat": -400, "channel_fee": -1200, "refund": -40000}


def make_statement(line_count: int = 6, status: str = "closed") -> dict[str, Any]:
    kinds = list(AMOUNTS)
    lines = []
    for i in range(line_count):
        kind = kinds[i % len(kinds)]
        lines.append({
            "entry_key": f"round:{17 + i}:{kind}:3", "kind": kind, "amount": AMOUNTS[kind],
            # 16:30 UTC is already the next day in Seoul.
            "occurred_at": "2026-11-05T16:30:00+00:00",
            "order_id": 5 + i, "order_number": f"M-{1001 + i}", "channel": "한빛몰",
            "round_id": 17 + i, "round_number": 2, "voucher_id": None,
            "claim_id": 9 if kind == "refund" else None, "label": "제주 감귤 꾸러미 2회차",
        })
    totals = Counter[str]()
    for line in lines:
        totals[line["kind"]] += line["amount"]
    return {
        "tenant": {"code": "hanbit", "name": "한빛시 구독몰"},
        "merchant": {"id": 3, "name": "한빛농원", "business_number": "1234567890"},
        "period": "2026-11", "starts_on": "2026-11-01", "ends_before": "2026-12-01",
        "status": status, "digest": "sha256:0f1e" if status == "closed" else None,
        "currency": "KRW", "payable": sum(totals.values()),
        "totals": [{"kind": kind, "amount": amount} for kind, amount in totals.items()],
        "lines": lines,
    }


def csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_csv_opens_in_a_spreadsheet_with_korean_and_a_formatted_header():
    data = render_statement_csv(make_statement())
    assert data.startswith(b"\xef\xbb\xbf")
    rows = csv_rows(data)
    header = {row[0]: row[1:] for row in rows[:9] if row}
    assert header["운영처"] == ["한빛시 구독몰", "hanbit"]
    assert header["판매자"] == ["한빛농원", "3"]
    assert header["사업자등록번호"] == ["123-45-67890"]
    assert header["정산 기간"][0] == "2026-11"
    assert header["상태"] == ["확정", "closed"]
    assert header["지급액"] == ["-7600"]


def test_csv_lines_carry_seoul_dates_korean_kinds_and_sums_that_agree():
    statement = make_statement(12)
    rows = csv_rows(render_statement_csv(statement))
    start = rows.index(["항목 키", "발생일", "구분", "구분 코드", "금액", "주문 ID", "주문번호",
                        "채널", "회차 ID", "회차", "바우처 ID", "클레임 ID", "내역"]) + 1
    lines = rows[start:start + 12]
    assert lines[0] == ["round:17:sales:3", "2026-11-06", "판매", "sales", "40000", "5", "M-1001",
                        "한빛몰", "17", "2", "", "", "제주 감귤 꾸러미 2회차"]
    assert all(KIND_LABELS[line[3]] == line[2] for line in lines)
    assert next(line for line in lines if line[3] == "refund")[11] == "9"

    by_kind = Counter[str]()
    for line in lines:
        by_kind[line[3]] += int(line[4])
    totals_at = rows.index(["합계", "구분 코드", "금액"]) + 1
    totals = {row[1]: int(row[2]) for row in rows[totals_at:] if row[0] != "지급액"}
    assert totals == dict(by_kind)
    assert rows[-1] == ["지급액", "", str(sum(totals.values()))]
    assert rows[-1][2] == str(statement["payable"])


def test_csv_is_byte_identical_and_defuses_spreadsheet_formulas():
    statement = make_statement()
    statement["lines"][0]["label"] = "=HYPERLINK(\"http://x\")"
    assert render_statement_csv(statement) == render_statement_csv(statement)
    rows = csv_rows(render_statement_csv(statement))
    assert [c for row in rows for c in row if "HYPERLINK" in c] == ["'=HYPERLINK(\"http://x\")"]


def test_a_fractional_amount_is_refused_rather_than_rounded():
    statement = make_statement()
    statement["lines"][0]["amount"] = 40000.5
    with pytest.raises(TypeError, match="integer number of won"):
        render_statement_csv(statement)


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_pdf_reads_back_in_korean_with_labels_and_the_formatted_payable(caplog):
    statement = make_statement()
    with caplog.at_level(logging.WARNING, logger="fpdf"):
        data = render_statement_pdf(statement)
    assert not [r for r in caplog.records if "missing" in r.getMessage()]
    assert data.startswith(b"%PDF-")
    text = pdf_text(data)
    assert "정산 명세서" in text
    assert "한빛농원" in text
    assert "123-45-67890" in text
    for kind in AMOUNTS:
        assert KIND_LABELS[kind] in text
    assert statement["payable"] == -7600
    assert "-7,600원" in text
    assert "40,000원" in text
    assert "2026-11-01 ~ 2026-11-30" in text


def test_pdf_embeds_its_korean_font():
    reader = PdfReader(io.BytesIO(render_statement_pdf(make_statement())))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    descriptors = [
        descendant.get_object()["/FontDescriptor"].get_object()
        for font in fonts.values()
        for descendant in font.get_object().get("/DescendantFonts", [])
    ]
    assert descriptors
    assert all("/FontFile2" in d or "/FontFile3" in d for d in descriptors)


def test_pdf_is_byte_identical_across_renders():
    statement = make_statement(status="draft")
    first = render_statement_pdf(statement)
    time.sleep(1.1)
    assert render_statement_pdf(statement) == first
    assert "작성 중" in pdf_text(first)


def test_five_thousand_lines_paginate_in_reasonable_time():
    statement = make_statement(5000)
    started = time.perf_counter()
    data = render_statement_pdf(statement)
    elapsed = time.perf_counter() - started
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) > 50
    assert elapsed < 30
    assert len(data) < 2_000_000
    last_page = reader.pages[-1].extract_text()
    assert "M-6000" in last_page
    assert f"{statement['payable']:,}원" in last_page
    assert "발생일" in reader.pages[1].extract_text()
