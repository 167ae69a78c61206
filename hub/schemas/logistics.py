"""Pick lists and round marks on the wire: the JSON bodies, the pick-list CSV a logistics
centre prints, and the marks CSV a centre or carrier uploads (Korean headers accepted)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates_schema

from hub.models.round import ROUND_STATUSES
from hub.schemas.common import IdFilter, Text
from hub.services.logistics import MARKS, Centre, PickLists

BOM = "\ufeff"
MAX_MARK_ROWS = 5000
# Header (lower-cased, trimmed) -> column; English names and the Korean ones centres use.
MARK_COLUMNS = {"round_id": "round_id", "회차id": "round_id", "회차 id": "round_id",
                "status": "status", "상태": "status", "carrier": "carrier", "택배사": "carrier",
                "tracking_number": "tracking_number", "송장번호": "tracking_number",
                "운송장번호": "tracking_number", "at": "at", "일시": "at"}
STATUS_WORDS = {"shipped": "shipped", "출고": "shipped", "발송": "shipped",
                "배송중": "shipped", "delivered": "delivered", "배송완료": "delivered",
                "배달완료": "delivered"}


class RoundListArgs(Schema):
    date = fields.Date(metadata={"description": "delivery date (YYYY-MM-DD, tenant's calendar)"})
    status = fields.String(validate=validate.OneOf(ROUND_STATUSES))
    contract = IdFilter(metadata={"description": "the contract's id"})


class PickListArgs(Schema):
    date = fields.Date(metadata={"description": "delivery date (YYYY-MM-DD); default today "
                                                "on the tenant's calendar"})
    by = fields.String(load_default="centre", validate=validate.OneOf(("centre", "merchant")))
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv")),
                           metadata={"description": "csv: text/csv, UTF-8 with a BOM"})
    tenant = fields.String(validate=validate.Length(max=40),
                           metadata={"description": "tenant code (admin tokens only)"})


class ShipSchema(Schema):
    carrier = Text(60, required=True, metadata={"description": "e.g. CJ대한통운"})
    tracking_number = Text(100, required=True)
    shipped_at = fields.DateTime(metadata={
        "description": "ISO 8601; without an offset, the tenant's time zone; default now"})


class DeliverSchema(Schema):
    delivered_at = fields.DateTime(metadata={
        "description": "ISO 8601; without an offset, the tenant's time zone; default now"})


class MarkRowSchema(Schema):
    """One row of a marks CSV; empty cells count as absent."""

    round_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2**62))
    status = fields.String(required=True, validate=validate.OneOf(MARKS))
    carrier = Text(60)
    tracking_number = Text(100)
    at = fields.DateTime()

    @pre_load
    def _cells(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        cells = {key: value.strip() for key, value in data.items() if value and value.strip()}
        if "status" in cells:
            cells["status"] = STATUS_WORDS.get(cells["status"].lower(), cells["status"])
        return cells

    @validates_schema
    def _shipped_names_parcel(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("status") == "shipped":
            missing = {name: ["A shipped row needs it."] for name in
                       ("carrier", "tracking_number") if not data.get(name)}
            if missing:
                raise ValidationError(missing)


def read_marks_csv(body: bytes) -> tuple[list[tuple[int, dict[str, str]]], list[str]]:
    """(row number from 1, {column: cell}) for every data row, and the headers ignored.
    UTF-8 (BOM or not) or CP949, as Korean spreadsheets save it; ValidationError names
    what makes the file unreadable."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = body.decode("cp949")
        except UnicodeDecodeError:
            raise ValidationError({"body": ["Not UTF-8 or CP949 text."]}) from None
    if "\x00" in text:
        raise ValidationError({"body": ["NUL characters (\\u0000) are not allowed."]})
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            raise ValidationError({"body": ["The file is empty."]})
        names = [MARK_COLUMNS.get(cell.strip().lower()) for cell in header]
        missing = sorted({"round_id", "status"} - set(names))
        if missing:
            raise ValidationError({"columns": [f"No column {name!r} (or its Korean name)."
                                               for name in missing]})
        rows = []
        for number, cells in enumerate(reader, start=1):
            if not any(cell.strip() for cell in cells):
                continue
            if number > MAX_MARK_ROWS:
                raise ValidationError({"body": [f"At most {MAX_MARK_ROWS} rows per file."]})
            rows.append((number, {name: cell for name, cell in zip(names, cells, strict=False)
                                  if name is not None}))
    except csv.Error as error:
        raise ValidationError({"body": [f"Not readable as CSV: {error}."]}) from None
    return rows, [cell for cell, name in zip(header, names, strict=True) if name is None]


class CentreSchema(Schema):
    id = fields.Integer(allow_none=True, metadata={"description": "null: no centre assigned"})
    code = fields.String()
    name = fields.String()


class PickBoxSchema(Schema):
    box_id = fields.Integer()
    box_code = fields.String()
    title = fields.String()
    version = fields.Integer(metadata={"description": "the box version the orders were sold "
                                                      "with"})
    boxes = fields.Integer()


class PickItemSchema(Schema):
    item_id = fields.Integer()
    sku = fields.String()
    name = fields.String()
    unit = fields.String()
    merchant_id = fields.Integer()
    merchant_name = fields.String()
    quantity = fields.Integer(metadata={"description": "units: boxes x quantity per box"})


class CentrePickSchema(Schema):
    centre = fields.Nested(CentreSchema)
    boxes = fields.List(fields.Nested(PickBoxSchema))
    items = fields.List(fields.Nested(PickItemSchema))


class MerchantRefSchema(Schema):
    id = fields.Integer()
    name = fields.String()


class MerchantCentreSchema(Schema):
    centre = fields.Nested(CentreSchema)
    items = fields.List(fields.Nested(PickItemSchema))


class MerchantPickSchema(Schema):
    merchant = fields.Nested(MerchantRefSchema)
    centres = fields.List(fields.Nested(MerchantCentreSchema))


class PickListsSchema(Schema):
    date = fields.Date()
    by = fields.String(metadata={"enum": ["centre", "merchant"]})
    data = fields.Method("_groups", metadata={
        "description": "by=centre: [{centre, boxes, items}]; by=merchant: [{merchant, "
                       "centres: [{centre, items}]}]"})

    def _groups(self, body: dict[str, Any]) -> Any:
        schema = CentrePickSchema if body["by"] == "centre" else MerchantPickSchema
        return schema(many=True).dump(body["data"])


class RowErrorSchema(Schema):
    path = fields.String(metadata={"description": "e.g. rows[3].status"})
    message = fields.String()


class MarkResultSchema(Schema):
    row = fields.Integer(metadata={"description": "data row, from 1 (the header not counted)"})
    round_id = fields.Integer(allow_none=True)
    status = fields.String(allow_none=True)
    outcome = fields.String(metadata={"enum": ["applied", "unchanged", "error"]})
    errors = fields.List(fields.Nested(RowErrorSchema))


class MarksReportSchema(Schema):
    applied = fields.Integer()
    unchanged = fields.Integer()
    failed = fields.Integer()
    ignored_columns = fields.List(fields.String())
    rows = fields.List(fields.Nested(MarkResultSchema))


CENTRE_HEADER = ["배송일", "물류센터코드", "물류센터", "구분", "코드", "이름", "버전", "단위",
                 "공급사", "수량"]
MERCHANT_HEADER = ["배송일", "공급사", "물류센터코드", "물류센터", "SKU", "품목", "단위", "수량"]


def pick_list_csv(lists: PickLists, by: str) -> str:
    """The pick lists as CSV text with a BOM (spreadsheets then read the Korean right)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CENTRE_HEADER if by == "centre" else MERCHANT_HEADER)
    writer.writerows([_cell(value) for value in row] for row in _csv_rows(lists, by))
    return BOM + out.getvalue()


def _csv_rows(lists: PickLists, by: str) -> Iterator[list[Any]]:
    on = lists.on.isoformat()
    if by == "centre":
        for group in lists.by_centre():
            centre: Centre = group["centre"]
            for box in group["boxes"]:
                yield [on, centre.code, centre.name, "꾸러미", box.box_code, box.title,
                       box.version, "", "", box.boxes]
            for item in group["items"]:
                yield [on, centre.code, centre.name, "품목", item.sku, item.name, "",
                       item.unit, item.merchant_name, item.quantity]
        return
    for group in lists.by_merchant():
        for where in group["centres"]:
            for item in where["items"]:
                yield [on, group["merchant"]["name"], where["centre"].code,
                       where["centre"].name, item.sku, item.name, item.unit, item.quantity]


def _cell(value: Any) -> Any:
    """Text a spreadsheet would run as a formula is quoted with a leading apostrophe."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def pick_lists_body(lists: PickLists, by: str) -> dict[str, Any]:
    body: dict[str, Any] = {"date": lists.on, "by": by}
    if by == "centre":
        body["data"] = [{"centre": asdict(g["centre"]),
                            "boxes": [asdict(b) for b in g["boxes"]],
                            "items": [asdict(i) for i in g["items"]]}
                           for g in lists.by_centre()]
    else:
        body["data"] = [{"merchant": g["merchant"], "centres": [
            {"centre": asdict(c["centre"]), "items": [asdict(i) for i in c["items"]]}
            for c in g["centres"]]} for g in lists.by_merchant()]
    return body
