"""What the hub tells a partner platform after an order ships, and what it reads back about
money: shipped rounds go out as signed `order.fulfilled` notifications (one webhook-id per
order, round and tracking number, so resending is safe), and the platform's settlement
report is read from `settlements_url` page by page."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from connectors.base import Page, SyncContext
from connectors.http import json_body
from hub.errors import ConfigurationError, RecordError

__all__ = ["fulfilment_notification", "pull_settlements"]

SETTLEMENT_PAGE_SIZE = 200
MAX_PAGES_PER_CALL = 50
RECORD_ERRORS_KEY = "record_errors"


def fulfilment_notification(fulfilment: Mapping[str, Any],
                            now: datetime) -> tuple[str, bytes]:
    """The webhook-id and envelope bytes of one shipped round."""
    order_id = fulfilment.get("order_external_id")
    tracking = fulfilment.get("tracking_number")
    if not isinstance(order_id, str) or not order_id or not tracking:
        raise RecordError("a fulfilment needs the platform's order id and a tracking number",
                          record=str(order_id))
    key = f"{order_id}|{fulfilment.get('round_id')}|{tracking}"
    webhook_id = "msg_ful_" + hashlib.sha256(key.encode()).hexdigest()[:32]
    data = {"order_id": order_id, "round": fulfilment.get("round_number"),
            "carrier": fulfilment.get("carrier"), "tracking_number": str(tracking),
            "shipped_at": fulfilment.get("shipped_at"),
            "lines": [{"line_id": line.get("external_line_id"),
                       "quantity": line.get("quantity")}
                      for line in fulfilment.get("lines") or [] if isinstance(line, Mapping)]}
    timestamp = now.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    body = json.dumps({"type": "order.fulfilled", "timestamp": timestamp, "data": data},
                      ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return webhook_id, body.encode("utf-8")


def pull_settlements(ctx: SyncContext, cursor: str | None, until: datetime) -> Page:
    """The platform's settlement lines of orders placed from `cursor` (an ISO instant, or
    "<instant>|<page token>" to resume) up to `until`, as {order_id, gross, fee, payout,
    placed_at}. The returned cursor is `until` once everything up to it is read."""
    url = ctx.config.get("settlements_url")
    if not url:
        raise ConfigurationError(
            "the connection has no settlements_url to read the platform's settlement report",
            fix="Set config.settlements_url (and events_token) to the platform's settlement "
                "report endpoint.")
    if not cursor:
        raise RecordError("a settlement read needs the instant its period starts")
    start, _, token = cursor.partition("|")
    until = until if until.tzinfo is not None else until.replace(tzinfo=UTC)
    headers = {"Accept": "application/json"}
    if ctx.config.get("events_token"):
        headers["Authorization"] = f"Bearer {ctx.config['events_token']}"
    records: list[dict[str, Any]] = []
    for _page in range(MAX_PAGES_PER_CALL):
        params: dict[str, Any] = {"from": start, "to": until.isoformat(),
                                  "limit": SETTLEMENT_PAGE_SIZE}
        if token:
            params["cursor"] = token
        answer = json_body(ctx.http.request("GET", str(url), params=params, headers=headers))
        if not isinstance(answer, dict) or not isinstance(answer.get("data"), list):
            raise RecordError("the platform's settlement report did not answer {data: [...]}")
        for entry in answer["data"]:
            record = _settlement_line(ctx, entry)
            if record is not None:
                records.append(record)
        following = answer.get("next_cursor")
        token = following if isinstance(following, str) else ""
        if not token:
            return Page(records, until.isoformat(), False)
    return Page(records, f"{start}|{token}", True)


def _settlement_line(ctx: SyncContext, entry: Any) -> dict[str, Any] | None:
    """One report line in the hub's terms; a line that does not fit is skipped and noted."""
    order_id = entry.get("order_id") if isinstance(entry, Mapping) else None
    amounts = {name: entry.get(name) if isinstance(entry, Mapping) else None
               for name in ("gross", "fee", "payout")}
    whole = all(isinstance(v, int) and not isinstance(v, bool)
                for name, v in amounts.items() if name != "fee" or v is not None)
    if not isinstance(order_id, str) or not order_id or not whole:
        ctx.extra.setdefault(RECORD_ERRORS_KEY, []).append(
            {"external_id": order_id if isinstance(order_id, str) else None,
             "message": "a settlement line without an order id or whole-won amounts"})
        ctx.log.warning("skipped a settlement line of order %s", order_id)
        return None
    return {"order_id": order_id, **amounts, "placed_at": entry.get("placed_at")}
