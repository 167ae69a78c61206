"""A private subscription platform that integrates through the hub's Partner API, and sends
its order, claim and listing events as Standard Webhooks.

Its own event log (`events_url`) is the safety net behind those webhooks: the same envelopes,
each with its webhook id, read oldest first after the id of the last event read."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

from connectors.base import Connector, InboundDelivery, Page, SyncContext
from connectors.http import json_body
from connectors.partner import fulfilment as shipping
from connectors.partner import signing
from connectors.partner.config import PartnerConfigSchema
from hub.errors import ConfigurationError, RecordError
from mappings.partner.events import canonical_events

EVENTS_PAGE_SIZE = 100
MAX_PAGES_PER_CALL = 20  # then hand back a cursor, so one call cannot run for ever
RECORD_ERRORS_KEY = "record_errors"
_EVENT_ID = re.compile(r"[\x21-\x7e]{1,256}")  # what a webhook-id may be (signing.py)


class PartnerConnector(Connector):
    key = "partner"
    display_name = "Partner platform (Partner API)"
    capabilities: ClassVar[frozenset[str]] = frozenset({
        "orders.webhook", "orders.pull", "fulfilment.push", "settlement.pull"})
    config_schema = PartnerConfigSchema

    def verify_webhook(self, ctx: SyncContext, headers: Mapping[str, str],
                       body: bytes) -> InboundDelivery:
        """Standard Webhooks: checked on the raw bytes before anything parses them."""
        signing.check_body(body)
        secrets = [s for s in (ctx.config.get("inbound_secret"),
                               ctx.config.get("inbound_secret_previous")) if s]
        if not secrets:
            raise ConfigurationError(
                "the connection has no inbound secret to verify the platform's webhooks",
                fix="Set config.inbound_secret (whsec_...) and share it with the platform.")
        message = signing.verify(secrets, headers, body, now=ctx.clock(),
                                 tolerance_seconds=int(ctx.config.get("tolerance_seconds")
                                                       or signing.DEFAULT_TOLERANCE_SECONDS))
        try:
            event = str(json.loads(body).get("type", ""))[:100]
        except (ValueError, AttributeError):
            event = ""
        # The webhook-id is the platform's own delivery id: the inbox's dedupe key.
        return InboundDelivery(message.msg_id, event or "unknown", body, ctx.clock())

    def parse_webhook(self, ctx: SyncContext, delivery: InboundDelivery) -> list[dict[str, Any]]:
        try:
            envelope = json.loads(delivery.body)
        except ValueError:
            raise RecordError("the body is not JSON", record=delivery.delivery_key) from None
        return canonical_events(envelope)

    def pull_orders(self, ctx: SyncContext, cursor: str | None, until: datetime) -> Page:
        """The events after `cursor` (the id of the last event read) up to `until`, as
        canonical events each with `delivery_key`, the webhook id the inbox de-duplicates on,
        so an event read here and also received as a webhook counts once."""
        url = ctx.config.get("events_url")
        if not url:
            raise ConfigurationError(
                "the connection has no events_url to read the platform's event log from",
                fix="Set config.events_url (and events_token) to the platform's event log, "
                    "or do not schedule orders.pull for this connection.")
        headers = {"Accept": "application/json"}
        if ctx.config.get("events_token"):
            headers["Authorization"] = f"Bearer {ctx.config['events_token']}"
        until = until if until.tzinfo is not None else until.replace(tzinfo=UTC)
        records: list[dict[str, Any]] = []
        position = cursor
        for _page in range(MAX_PAGES_PER_CALL):
            params: dict[str, Any] = {"limit": EVENTS_PAGE_SIZE}
            if position:
                params["after"] = position
            answer = json_body(ctx.http.request("GET", str(url), params=params,
                                                headers=headers))
            entries, next_cursor = _events_page(answer)
            last_id: str | None = None
            for entry in entries:
                occurred = _occurred_at(entry)
                if occurred is not None and occurred > until:
                    # Left for the next read: the cursor stays before it.
                    return Page(records, last_id or position, False)
                event_id = _event_records(ctx, entry, records)
                last_id = event_id or last_id
            if entries:
                position = next_cursor or last_id or position
            if len(entries) < EVENTS_PAGE_SIZE:
                return Page(records, position, False)
        return Page(records, position, True)

    def send_notification(self, ctx: SyncContext, webhook_id: str, body: bytes,
                          now: datetime) -> int:
        """POST one notification's bytes to the platform, signed for this try under its own
        webhook-id (the platform's dedupe key, so resending is safe); returns the status.
        Anything but 2xx is raised, classified by the transport."""
        url, secret = ctx.config.get("outbound_url"), ctx.config.get("outbound_secret")
        if not url or not secret:
            raise ConfigurationError(
                "the connection has no outbound_url or outbound_secret for notifications",
                fix="Set config.outbound_url to the platform's notification endpoint and "
                    "config.outbound_secret (whsec_...) shared with the platform.")
        headers = signing.headers_for(str(secret), webhook_id, body, now)
        headers["Content-Type"] = "application/json"
        response = ctx.http.request("POST", str(url), data=body, headers=headers,
                                    idempotent=True)
        return int(response.status_code)

    def push_fulfilment(self, ctx: SyncContext, fulfilment: dict[str, Any]) -> None:
        """Tell the platform a round shipped, with its tracking number: a signed
        `order.fulfilled` notification whose webhook-id makes resending it harmless."""
        webhook_id, body = shipping.fulfilment_notification(fulfilment, ctx.clock())
        self.send_notification(ctx, webhook_id, body, ctx.clock())

    def pull_settlements(self, ctx: SyncContext, cursor: str | None,
                         until: datetime) -> Page:
        """The platform's settlement report of orders placed from `cursor` to `until`."""
        return shipping.pull_settlements(ctx, cursor, until)


def _events_page(answer: Any) -> tuple[list[Any], str | None]:
    if not isinstance(answer, dict) or not isinstance(answer.get("data"), list):
        raise RecordError("the platform's event log did not answer {data: [...]}")
    next_cursor = answer.get("next_cursor")
    return answer["data"], next_cursor if isinstance(next_cursor, str) and next_cursor else None


def _occurred_at(entry: Any) -> datetime | None:
    value = entry.get("timestamp") if isinstance(entry, Mapping) else None
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _event_records(ctx: SyncContext, entry: Any, records: list[dict[str, Any]]) -> str | None:
    """Append one log entry's canonical events; returns its id (None if it has none). An
    entry that does not fit is skipped and noted, and the cursor moves past it."""
    event_id = entry.get("id") if isinstance(entry, Mapping) else None
    if not isinstance(event_id, str) or not _EVENT_ID.fullmatch(event_id):
        _note_record_error(ctx, None, RecordError("a logged event has no usable id"))
        return None
    try:
        events = canonical_events(entry)
    except RecordError as error:
        _note_record_error(ctx, event_id, error)
        return event_id
    records.extend({**event, "delivery_key": event_id} for event in events)
    return event_id


def _note_record_error(ctx: SyncContext, event_id: str | None, error: RecordError) -> None:
    """A record the batch skipped: the job counts these and shows them to the operator."""
    ctx.extra.setdefault(RECORD_ERRORS_KEY, []).append(
        {"external_id": event_id, "message": error.message})
    ctx.log.warning("skipped partner event %s: %s", event_id, error.message)


__all__ = ["PartnerConfigSchema", "PartnerConnector"]
