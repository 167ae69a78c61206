"""Tourism vouchers issued by delivered rounds, and their redemption: one code at a time, or
a merchant's redemption file (CSV, Korean or English headers) with a result per row."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import request
from flask.views import MethodView
from sqlalchemy import select

from hub.api.auth import principal, scope, visible
from hub.api.common import Blueprint, audited, db, write
from hub.api.crud import with_filters
from hub.api.pagination import page, page_schema, paginate
from hub.api.problems import ApiProblem, not_found
from hub.models import Tenant
from hub.models.round import Voucher
from hub.schemas.voucher import RedeemSchema, RedemptionFileSchema, VoucherArgs, VoucherSchema
from hub.services import audit
from hub.services.validation import Conflict
from hub.services.vouchers import VoucherExpired, normalise_code, redeem

blp = Blueprint("vouchers", __name__, url_prefix="/api/v1/vouchers",
                description="Tourism vouchers issued by delivered rounds, and their redemption.")

VoucherPage = page_schema(VoucherSchema, "VoucherPage")
# Header names a redemption file may use, by the field they fill.
HEADERS = {"code": "code", "코드": "code", "바우처코드": "code", "redeemed_at": "redeemed_at",
           "사용일시": "redeemed_at", "place": "place", "사용처": "place"}
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_ROWS = 10000


def _voucher(code: str) -> Voucher:
    """The caller's voucher by code as typed; another tenant's is as unknown as no voucher."""
    row = db().scalar(select(Voucher).where(Voucher.code == normalise_code(code)))
    if row is None:
        raise not_found("voucher")
    return visible(row)  # type: ignore[no-any-return]


def _aware(session: Any, tenant_id: int, moment: datetime | None) -> datetime | None:
    """A time without an offset is the tenant's local time."""
    if moment is None or moment.tzinfo is not None:
        return moment
    zone = session.scalar(select(Tenant.time_zone).where(Tenant.id == tenant_id))
    return moment.replace(tzinfo=ZoneInfo(zone or "Asia/Seoul"))


def _expired(error: VoucherExpired, path: str = "redeemed_at") -> ApiProblem:
    return ApiProblem(409, "Expired", str(error), errors=[{"path": path, "message": str(error)}])


@blp.route("")
class Vouchers(MethodView):
    @blp.arguments(VoucherArgs, location="query")
    @blp.response(200, VoucherPage)
    def get(self, args: dict[str, Any]) -> Any:
        """Vouchers, oldest first; filter by status, merchant or round."""
        query = with_filters(select(Voucher), args, {
            "status": Voucher.status, "merchant": Voucher.merchant_id,
            "round": Voucher.round_id})
        rows, next_cursor = paginate(db(), scope(query, Voucher.tenant_id, args), Voucher.id,
                                     args)
        return page(rows, next_cursor)


@blp.route("/<string:code>")
class VoucherMember(MethodView):
    @blp.response(200, VoucherSchema)
    def get(self, code: str) -> Any:
        return _voucher(code)


@blp.route("/<string:code>/redeem")
class VoucherRedeem(MethodView):
    @blp.arguments(RedeemSchema)
    @blp.response(200, VoucherSchema)
    def post(self, data: dict[str, Any], code: str) -> Any:
        """issued -> redeemed. The same redemption again answers 200 unchanged; after the
        last valid day it is 409 Expired."""
        with write() as session:
            voucher = _voucher(code)
            before = audit.snapshot(voucher)
            at = _aware(session, voucher.tenant_id, data.get("redeemed_at"))
            try:
                outcome = redeem(session, voucher, redeemed_at=at, place=data.get("place"))
            except VoucherExpired as error:
                raise _expired(error) from None
            if outcome.changed:
                audited(session, "redeem", "voucher", voucher, before)
        return voucher


@blp.route("/redemptions")
class RedemptionFile(MethodView):
    @blp.response(200, RedemptionFileSchema)
    def post(self) -> Any:
        """A redemption file (text/csv; UTF-8, a BOM allowed): columns code/코드,
        redeemed_at/사용일시, place/사용처. Valid rows are applied; each row's result is
        redeemed, unchanged or error with rows[N].field paths."""
        rows = _read_csv()
        results: list[dict[str, Any]] = []
        with write() as session:
            for number, row in enumerate(rows):
                results.append(_apply_row(session, number, row))
        counts = {name: sum(1 for r in results if r["result"] == name)
                  for name in ("redeemed", "unchanged")}
        return {**counts, "failed": sum(1 for r in results if r["result"] == "error"),
                "rows": results}


def _read_csv() -> list[dict[str, str]]:
    if request.mimetype not in ("text/csv", "application/csv"):
        raise ApiProblem(415, "Unsupported Media Type",
                         "Send the redemption file as text/csv.")
    raw = request.get_data(cache=False)
    if len(raw) > MAX_FILE_BYTES:
        raise ApiProblem(413, "Content Too Large", "The file is larger than 2 MB.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ApiProblem(400, "Invalid request", "The file is not UTF-8 text.",
                         errors=[{"path": "file", "message": "Save the file as UTF-8."}]) \
            from None
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    fields = [HEADERS.get(name.strip().lower().replace(" ", "")) for name in header or []]
    if "code" not in fields:
        raise ApiProblem(400, "Invalid request", "The file has no code column.",
                         errors=[{"path": "header", "message":
                                  "The first line names the columns: code (코드), redeemed_at "
                                  "(사용일시), place (사용처)."}])
    rows: list[dict[str, str]] = []
    for values in reader:
        if not any(value.strip() for value in values):
            continue
        if len(rows) >= MAX_ROWS:
            raise ApiProblem(413, "Content Too Large", f"At most {MAX_ROWS} rows a file.")
        rows.append({name: value.strip() for name, value in zip(fields, values, strict=False)
                     if name is not None})
    return rows


def _apply_row(session: Any, number: int, row: dict[str, str]) -> dict[str, Any]:
    """One row in its own savepoint: an error leaves the other rows applied."""
    path = f"rows[{number}]"
    code = row.get("code") or None
    result: dict[str, Any] = {"row": number, "code": code, "result": "error", "errors": []}
    errors: list[dict[str, str]] = result["errors"]
    if not code or "\x00" in code:
        errors.append({"path": f"{path}.code", "message": "A voucher code is required."})
        return result
    voucher = session.scalar(select(Voucher).where(Voucher.code == normalise_code(code)))
    p = principal()
    if voucher is None or (not p.is_admin and voucher.tenant_id != p.tenant_id):
        errors.append({"path": f"{path}.code", "message": "No such voucher."})
        return result
    result["code"] = voucher.code
    at: datetime | None = None
    if row.get("redeemed_at"):
        try:
            at = _aware(session, voucher.tenant_id,
                        datetime.fromisoformat(row["redeemed_at"].replace("/", "-")))
        except ValueError:
            errors.append({"path": f"{path}.redeemed_at",
                           "message": "Not a date and time (YYYY-MM-DD HH:MM)."})
    place = row.get("place") or None
    if place is not None and (len(place) > 200 or "\x00" in place):
        errors.append({"path": f"{path}.place", "message": "At most 200 characters."})
    if errors:
        return result
    before = audit.snapshot(voucher)
    try:
        with session.begin_nested():
            outcome = redeem(session, voucher, redeemed_at=at, place=place)
    except VoucherExpired as error:
        errors.append({"path": f"{path}.redeemed_at", "message": str(error)})
        return result
    except Conflict as error:
        errors.append({"path": f"{path}.code", "message": str(error)})
        return result
    if outcome.changed:
        audited(session, "redeem", "voucher", voucher, before)
    result["result"] = "redeemed" if outcome.changed else "unchanged"
    return result
