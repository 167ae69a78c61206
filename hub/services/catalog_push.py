"""A mall's catalog push: items, boxes and plans keyed by its own codes, one transaction each."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from marshmallow import Schema, ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from hub.models import Box, Item, Merchant, Plan
from hub.schemas.catalog import PushBoxSchema, PushItemSchema, PushPlanSchema
from hub.services import audit, catalog
from hub.services.validation import DuplicateKey, RecordInvalid, field_paths

STATUSES = ("created", "updated", "unchanged", "rejected")
RACE_ATTEMPTS = 3  # a record another push is writing at the same moment is applied again


@dataclass
class PushOutcome:
    results: list[dict[str, Any]] = field(default_factory=list)

    def add(self, kind: str, key: str | None, status: str, row_id: int | None = None,
            errors: list[dict[str, str]] | None = None) -> None:
        result: dict[str, Any] = {"type": kind, "key": key, "status": status, "id": row_id}
        if errors:
            result["errors"] = errors
        self.results.append(result)

    def as_dict(self) -> dict[str, Any]:
        summary = {status: 0 for status in STATUSES}
        for result in self.results:
            summary[result["status"]] += 1
        return {"results": self.results, "summary": summary}


def push_catalog(session: Session, tenant_id: int, body: dict[str, Any], actor: str,
                 request_id: str | None = None) -> PushOutcome:
    """Upsert items, then boxes, then plans; a rejected record does not stop the others."""
    outcome = PushOutcome()
    steps: list[tuple[str, str, type[Schema], str, Callable[..., Any]]] = [
        ("items", "item", PushItemSchema, "sku", _upsert_item),
        ("boxes", "box", PushBoxSchema, "code", _upsert_box),
        ("plans", "plan", PushPlanSchema, "code", _upsert_plan),
    ]
    for list_name, kind, schema, key_name, upsert in steps:
        for index, raw in enumerate(body.get(list_name) or []):
            prefix = f"{list_name}[{index}]"
            key = raw.get(key_name) if isinstance(raw, dict) else None
            key = key if isinstance(key, str) else None
            try:
                data = schema().load(raw)
            except ValidationError as error:
                outcome.add(kind, key, "rejected", errors=field_paths(error.messages, prefix))
                continue
            for attempt in range(1, RACE_ATTEMPTS + 1):
                try:
                    status, row_id = _apply_record(session, tenant_id, kind, dict(data),
                                                   upsert, actor, request_id)
                    outcome.add(kind, key, status, row_id)
                    break
                except (IntegrityError, StaleDataError, DuplicateKey):
                    # A concurrent push wrote the same record first: apply ours over it.
                    session.rollback()
                    if attempt == RACE_ATTEMPTS:
                        outcome.add(kind, key, "rejected", errors=[{
                            "path": prefix, "message": "Changed concurrently; push it again."}])
                except RecordInvalid as error:
                    session.rollback()
                    outcome.add(kind, key, "rejected", errors=[
                        {"path": f"{prefix}.{e['path']}" if e["path"] else prefix,
                         "message": e["message"]} for e in error.errors])
                    break
    return outcome


def _apply_record(session: Session, tenant_id: int, kind: str, data: dict[str, Any],
                  upsert: Callable[..., Any], actor: str, request_id: str | None
                  ) -> tuple[str, int]:
    """Upsert one record and commit it with its audit row; returns (status, id)."""
    row, before = upsert(session, tenant_id, data)
    session.flush()
    after = audit.snapshot(row)
    if before is None:
        status = "created"
    elif before["version"] != after["version"]:
        status = "updated"
    else:
        status = "unchanged"
    if status != "unchanged":
        audit.record(session, actor=actor, action=f"push.{status}", entity_type=kind,
                     entity_id=row.id, tenant_id=tenant_id, before=before, after=after,
                     request_id=request_id)
    session.commit()
    return status, int(row.id)


def _existing(session: Session, model: type[Any], tenant_id: int, column: Any,
              value: str) -> Any:
    return session.scalar(select(model).where(model.tenant_id == tenant_id, column == value)
                          .with_for_update(of=model))


def _upsert_item(session: Session, tenant_id: int, data: dict[str, Any]
                 ) -> tuple[Item, dict[str, Any] | None]:
    number = data.pop("merchant_business_number")
    merchant_id = session.scalar(select(Merchant.id).where(
        Merchant.tenant_id == tenant_id, Merchant.business_number == number))
    if merchant_id is None:
        raise RecordInvalid.at("merchant_business_number", "No merchant with this number here.")
    data["merchant_id"] = merchant_id
    row = _existing(session, Item, tenant_id, Item.sku, data["sku"])
    before = audit.snapshot(row) if row is not None else None
    return catalog.apply_item(session, tenant_id, data, row), before


def _upsert_box(session: Session, tenant_id: int, data: dict[str, Any]
                ) -> tuple[Box, dict[str, Any] | None]:
    if "components" in data:
        skus = [c["sku"] for c in data["components"]]
        ids = dict(session.execute(select(Item.sku, Item.id).where(
            Item.tenant_id == tenant_id, Item.sku.in_(skus))).all())
        components = []
        for index, component in enumerate(data["components"]):
            if component["sku"] not in ids:
                raise RecordInvalid.at(f"components[{index}].sku", "No item with this SKU here.")
            components.append({"item_id": ids[component["sku"]],
                               "quantity": component["quantity"],
                               "weight": component["weight"]})
        if len({c["item_id"] for c in components}) != len(components):
            raise RecordInvalid.at("components", "An item appears more than once.")
        data["components"] = components
    row = _existing(session, Box, tenant_id, Box.code, data["code"])
    before = audit.snapshot(row) if row is not None else None
    return catalog.apply_box(session, tenant_id, data, row), before


def _upsert_plan(session: Session, tenant_id: int, data: dict[str, Any]
                 ) -> tuple[Plan, dict[str, Any] | None]:
    box_id = session.scalar(select(Box.id).where(Box.tenant_id == tenant_id,
                                                 Box.code == data.pop("box_code")))
    if box_id is None:
        raise RecordInvalid.at("box_code", "No box with this code here.")
    data["box_id"] = box_id
    row = _existing(session, Plan, tenant_id, Plan.code, data["code"])
    before = audit.snapshot(row) if row is not None else None
    return catalog.apply_plan(session, tenant_id, data, row), before
