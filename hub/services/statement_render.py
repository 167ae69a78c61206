"""One merchant's settlement statement for one period, rendered as CSV and as A4 PDF.

Both take the statement as the plain dict the statement API serves, touch no database and
are deterministic: the same statement always renders to the same bytes.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pylopdf_fonts_ko
from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont, newTable
from fpdf import FPDF

from hub.services.business_number import format_business_number

KIND_LABELS: dict[str, str] = {
    "sales": "판매",
    "merchant_discount": "판매자 부담 할인",
    "operator_fee": "운영 수수료",
    "operator_fee_vat": "수수료 부가세",
    "channel_fee": "채널 수수료",
    "shipping_share": "배송비 분담",
    "refund": "환불",
    "channel_fee_return": "채널 수수료 환급",
    "carry_forward": "이월",
}
STATUS_LABELS = {"draft": "작성 중", "closed": "확정"}
TITLE = "정산 명세서"
SEOUL = ZoneInfo("Asia/Seoul")

LINE_COLUMNS = ("항목 키", "발생일", "구분", "구분 코드", "금액", "주문 ID", "주문번호", "채널",
                "회차 ID", "회차", "바우처 ID", "클레임 ID", "내역")
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind)


def krw(value: Any) -> int:
    """Amounts are whole won; a float or a string here is a bug upstream, not something to round."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"amount must be an integer number of won, got {value!r}")
    return value


def format_won(value: Any) -> str:
    return f"{krw(value):,}원"


def occurred_on(occurred_at: str) -> date:
    """The Seoul calendar day of a money event; a timestamp without offset is taken as UTC."""
    moment = datetime.fromisoformat(occurred_at)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(SEOUL).date()


def _text_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _id_cell(value: Any) -> str:
    return "" if value is None else str(value)


def _header_rows(statement: Mapping[str, Any]) -> list[list[str]]:
    tenant, merchant = statement["tenant"], statement["merchant"]
    return [
        [TITLE],
        ["운영처", _text_cell(tenant["name"]), _text_cell(tenant["code"])],
        ["판매자", _text_cell(merchant["name"]), _id_cell(merchant["id"])],
        ["사업자등록번호", format_business_number(str(merchant.get("business_number") or ""))],
        ["정산 기간", statement["period"], statement["starts_on"], statement["ends_before"]],
        ["상태", STATUS_LABELS.get(statement["status"], statement["status"]), statement["status"]],
        ["다이제스트", statement.get("digest") or ""],
        ["통화", statement.get("currency", "KRW")],
        ["지급액", str(krw(statement["payable"]))],
    ]


def render_statement_csv(statement: Mapping[str, Any]) -> bytes:
    """UTF-8 with a BOM so spreadsheet programs pick the encoding and show Hangul."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows(_header_rows(statement))
    writer.writerow([])
    writer.writerow(LINE_COLUMNS)
    for line in statement["lines"]:
        writer.writerow([
            _text_cell(line["entry_key"]),
            occurred_on(line["occurred_at"]).isoformat(),
            kind_label(line["kind"]),
            line["kind"],
            str(krw(line["amount"])),
            _id_cell(line.get("order_id")),
            _text_cell(line.get("order_number")),
            _text_cell(line.get("channel")),
            _id_cell(line.get("round_id")),
            _id_cell(line.get("round_number")),
            _id_cell(line.get("voucher_id")),
            _id_cell(line.get("claim_id")),
            _text_cell(line.get("label")),
        ])
    writer.writerow([])
    writer.writerow(["합계", "구분 코드", "금액"])
    for total in statement["totals"]:
        writer.writerow([kind_label(total["kind"]), total["kind"], str(krw(total["amount"]))])
    writer.writerow(["지급액", "", str(krw(statement["payable"]))])
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")


# Noto Sans KR from pylopdf-fonts-ko: a data-only PyPI wheel of the upstream files, no dependencies.
_FONT = "NotoSansKR"
_FIXED_CHARS = "".join(chr(c) for c in range(0x20, 0x7F)) + "…~–·원"


def _statement_font_bytes(text: str) -> bytes:
    """The glyphs of `text` redrawn as TrueType: embedded CFF CID fonts read back poorly (pypdf)."""
    font = TTFont(str(pylopdf_fonts_ko.sans_path()), recalcTimestamp=False)
    options = subset.Options()
    options.layout_features = []
    options.hinting = False
    options.notdef_outline = True
    options.drop_tables += ["VORG", "DSIG"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=text + _FIXED_CHARS)
    subsetter.subset(font)

    order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, max_err=1.0, reverse_direction=True))
        glyphs[name] = pen.glyph()
    font["loca"] = newTable("loca")
    font["glyf"] = glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = glyphs
    del font["CFF "]
    glyf.compile(font)
    hmtx = font["hmtx"]
    for name, glyph in glyphs.items():
        hmtx[name] = (hmtx[name][0], getattr(glyph, "xMin", 0))
    font["maxp"] = maxp = newTable("maxp")
    maxp.tableVersion = 0x00010000
    for field in ("maxZones", "maxTwilightPoints", "maxStorage", "maxFunctionDefs",
                  "maxInstructionDefs", "maxStackElements", "maxSizeOfInstructions",
                  "maxComponentElements"):
        setattr(maxp, field, 1 if field == "maxZones" else 0)
    maxp.compile(font)
    font["post"].formatType = 3.0
    font.sfntVersion = "\x00\x01\x00\x00"
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


# A4 portrait, millimetres. Columns of the line table: heading, width, alignment.
_MARGIN = 12.0
_ROW_H = 6.0
# Column heading, width in whole millimetres, alignment.
_LINE_TABLE = (("발생일", 22, "L"), ("구분", 30, "L"), ("주문번호", 26, "L"),
               ("채널", 24, "L"), ("내역", 56, "L"), ("금액", 28, "R"))
_INFO_LABELS = ("운영처", "판매자", "사업자등록번호", "정산 기간", "상태", "지급액", "다이제스트")
_TOTALS_HEADING = "구분별 합계"
_FIXED_TEXT = "".join((TITLE, _TOTALS_HEADING, *_INFO_LABELS, *KIND_LABELS.values(),
                       *STATUS_LABELS.values(), *(heading for heading, _, _ in _LINE_TABLE)))


class _StatementPDF(FPDF):
    footer_text = ""

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font(_FONT, size=7)
        self.cell(0, 4, f"{self.footer_text}  ·  {self.page_no()} / {{nb}}", align="C")


def _fit(pdf: FPDF, text: str, width_mm: int) -> str:
    """The text, cut with an ellipsis to fit a cell this many millimetres wide."""
    room = width_mm - 2 * pdf.c_margin
    if pdf.get_string_width(text) <= room:
        return text
    while text and pdf.get_string_width(text + "…") > room:
        text = text[:-1]
    return text + "…"


def _row(pdf: FPDF, cells: list[str], fill: bool = False) -> None:
    for (_, width, align), text in zip(_LINE_TABLE, cells, strict=True):
        pdf.cell(width, _ROW_H, _fit(pdf, text, width), border="B", align=align, fill=fill)
    pdf.ln(_ROW_H)


def _table_heading(pdf: FPDF) -> None:
    pdf.set_font(_FONT, size=8)
    pdf.set_fill_color(235, 238, 242)
    _row(pdf, [heading for heading, _, _ in _LINE_TABLE], fill=True)


def _period_text(statement: Mapping[str, Any]) -> str:
    last_day = date.fromisoformat(statement["ends_before"]) - timedelta(days=1)
    return f"{statement['period']} ({statement['starts_on']} ~ {last_day.isoformat()})"


def _info_block(pdf: FPDF, statement: Mapping[str, Any]) -> None:
    tenant, merchant = statement["tenant"], statement["merchant"]
    values = [
        f"{tenant['name']} ({tenant['code']})",
        f"{merchant['name']} (ID {merchant['id']})",
        format_business_number(str(merchant.get("business_number") or "")),
        _period_text(statement),
        STATUS_LABELS.get(statement["status"], statement["status"]),
        format_won(statement["payable"]),
        str(statement.get("digest") or ""),
    ]
    pdf.set_font(_FONT, size=9)
    for label, value in zip(_INFO_LABELS, values, strict=True):
        if not value:
            continue
        pdf.cell(32, 5.5, label)
        pdf.cell(0, 5.5, _fit(pdf, value, int(pdf.epw) - 32), new_x="LMARGIN", new_y="NEXT")


def _totals_block(pdf: FPDF, statement: Mapping[str, Any]) -> None:
    rows = [(kind_label(t["kind"]), format_won(t["amount"])) for t in statement["totals"]]
    if pdf.get_y() + _ROW_H * (len(rows) + 4) > pdf.h - pdf.b_margin:
        pdf.add_page()
    pdf.ln(4)
    pdf.set_font(_FONT, size=10)
    pdf.cell(0, 7, _TOTALS_HEADING, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(_FONT, size=9)
    for label, amount in rows:
        pdf.cell(60, _ROW_H, label, border="B")
        pdf.cell(40, _ROW_H, amount, border="B", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(_FONT, size=12)
    pdf.cell(60, 9, "지급액")
    pdf.cell(40, 9, format_won(statement["payable"]), align="R", new_x="LMARGIN", new_y="NEXT")


def render_statement_pdf(statement: Mapping[str, Any]) -> bytes:
    """A4 statement with the font subset embedded; long statements continue over pages."""
    merchant = statement["merchant"]
    pdf = _StatementPDF(orientation="P", unit="mm", format="A4")
    seoul_midnight = datetime.combine(date.fromisoformat(statement["ends_before"]), time(), SEOUL)
    pdf.set_creation_date(seoul_midnight)
    pdf.set_lang("ko")
    pdf.set_title(f"{TITLE} {merchant['name']} {statement['period']}")
    pdf.set_margins(_MARGIN, _MARGIN, _MARGIN)
    pdf.set_auto_page_break(False, margin=16)
    pdf.footer_text = f"{merchant['name']} · {statement['period']} {TITLE}"

    with tempfile.TemporaryDirectory() as folder:
        font_path = Path(folder) / f"{_FONT}.ttf"
        font_path.write_bytes(_statement_font_bytes(_FIXED_TEXT + repr(statement)))
        pdf.add_font(_FONT, fname=str(font_path))

        pdf.add_page()
        pdf.set_font(_FONT, size=18)
        pdf.cell(0, 12, TITLE, new_x="LMARGIN", new_y="NEXT")
        _info_block(pdf, statement)
        pdf.ln(4)
        _table_heading(pdf)
        bottom = pdf.h - pdf.b_margin
        for line in statement["lines"]:
            if pdf.get_y() + _ROW_H > bottom:
                pdf.add_page()
                _table_heading(pdf)
            _row(pdf, [
                occurred_on(line["occurred_at"]).isoformat(),
                kind_label(line["kind"]),
                str(line.get("order_number") or ""),
                str(line.get("channel") or ""),
                str(line.get("label") or ""),
                format_won(line["amount"]),
            ])
        _totals_block(pdf, statement)
        return bytes(pdf.output())
