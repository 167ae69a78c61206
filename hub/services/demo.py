"""Loads config/demo/: a fictional municipality at the programme's scale, idempotently."""

from __future__ import annotations

import tomllib
from collections import Counter
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.crypto import SecretBox
from hub.models import Box, BoxComponent, Item, Merchant, Plan, StockLevel, StockLocation, Tenant
from hub.services import catalog, stock
from hub.services.business_number import normalize_business_number

ACTOR = "cli:demo"


@dataclass
class DemoSummary:
    tenant: str = ""
    changes: Counter[str] = field(default_factory=Counter)
    counts: dict[str, Any] = field(default_factory=dict)


def read_demo_files() -> dict[str, Any]:
    folder = resources.files("config").joinpath("demo")
    data: dict[str, Any] = {}
    for name in ("municipality", "merchants", "items", "boxes"):
        data[name] = tomllib.loads(folder.joinpath(f"{name}.toml").read_text(encoding="utf-8"))
    return data


def _count(summary: DemoSummary, kind: str, before: int | None, after: int | None) -> None:
    if before is None:
        summary.changes[f"{kind} created"] += 1
    elif before != after:
        summary.changes[f"{kind} updated"] += 1


def load_demo(session: Session, secrets: SecretBox) -> DemoSummary:
    """Create or bring up to date everything the demo files describe; a re-run changes nothing."""
    data = read_demo_files()
    summary = DemoSummary()
    spec = data["municipality"]["tenant"]
    tenant = session.scalar(select(Tenant).where(Tenant.code == spec["code"]))
    if tenant is None:
        tenant = Tenant(**spec)
        session.add(tenant)
        session.flush()
        summary.changes["tenant created"] += 1
    summary.tenant = f"{tenant.name} ({tenant.code})"

    locations: dict[str, StockLocation] = {}
    for spec in data["municipality"]["locations"]:
        location = session.scalar(select(StockLocation).where(
            StockLocation.tenant_id == tenant.id, StockLocation.code == spec["code"]))
        if location is None:
            location = StockLocation(tenant_id=tenant.id, **spec)
            session.add(location)
            summary.changes["locations created"] += 1
        locations[spec["code"]] = location
    session.flush()

    for spec in data["merchants"]["merchants"]:
        number = normalize_business_number(spec["business_number"])
        merchant = session.scalar(select(Merchant).where(
            Merchant.tenant_id == tenant.id, Merchant.business_number == number))
        before = merchant.version if merchant is not None else None
        fields = {**spec, "business_number": number}
        fields.setdefault("commission_rate_bp", None)
        merchant = catalog.apply_merchant(session, secrets, tenant.id, fields, merchant)
        session.flush()
        _count(summary, "merchants", before, merchant.version)

    merchant_ids = dict(session.execute(select(Merchant.business_number, Merchant.id).where(
        Merchant.tenant_id == tenant.id)).all())
    for spec in data["items"]["items"]:
        fields = dict(spec)
        on_hand = fields.pop("stock", {})
        fields["merchant_id"] = merchant_ids[normalize_business_number(fields.pop("merchant"))]
        fields.setdefault("supply_price", None)
        item = session.scalar(select(Item).where(Item.tenant_id == tenant.id,
                                                 Item.sku == fields["sku"]))
        before = item.version if item is not None else None
        item = catalog.apply_item(session, tenant.id, fields, item)
        session.flush()
        _count(summary, "items", before, item.version)
        for code, quantity in on_hand.items():
            level = session.scalar(select(StockLevel).where(
                StockLevel.item_id == item.id, StockLevel.location_id == locations[code].id))
            if level is None or level.on_hand != quantity:
                stock.set_stock(session, tenant.id, item.id, locations[code].id, quantity,
                                "demo stock count", ACTOR)

    item_ids = dict(session.execute(select(Item.sku, Item.id).where(
        Item.tenant_id == tenant.id)).all())
    for spec in data["boxes"]["boxes"]:
        fields = {k: v for k, v in spec.items() if k != "plans"}
        fields["components"] = [{"item_id": item_ids[c["sku"]], "quantity": c["quantity"],
                                 "weight": c["weight"]} for c in spec["components"]]
        box = session.scalar(select(Box).where(Box.tenant_id == tenant.id,
                                               Box.code == fields["code"]))
        before = box.version if box is not None else None
        box = catalog.apply_box(session, tenant.id, fields, box)
        session.flush()
        _count(summary, "boxes", before, box.version)
        for plan_spec in spec.get("plans", []):
            fields = {**plan_spec, "box_id": box.id}
            fields.setdefault("term_rounds", None)
            fields["rules"] = [{"percent_bp": None, "amount": None, "label": None, **rule}
                               for rule in plan_spec.get("rules", [])]
            plan = session.scalar(select(Plan).where(Plan.tenant_id == tenant.id,
                                                     Plan.code == fields["code"]))
            before = plan.version if plan is not None else None
            plan = catalog.apply_plan(session, tenant.id, fields, plan)
            session.flush()
            _count(summary, "plans", before, plan.version)

    summary.counts = tenant_counts(session, tenant.id)
    return summary


def tenant_counts(session: Session, tenant_id: int) -> dict[str, Any]:
    def scalar(query: Any) -> int:
        return int(session.scalar(query) or 0)

    voucher_boxes = scalar(
        select(func.count(func.distinct(Box.id)))
        .join(BoxComponent, BoxComponent.box_version_id == Box.current_version_id)
        .join(Item, Item.id == BoxComponent.item_id)
        .where(Box.tenant_id == tenant_id, Item.kind == "voucher"))
    tax_types = dict(session.execute(select(Merchant.tax_type, func.count()).where(
        Merchant.tenant_id == tenant_id).group_by(Merchant.tax_type)).all())
    statuses = dict(session.execute(select(Box.status, func.count()).where(
        Box.tenant_id == tenant_id).group_by(Box.status)).all())
    return {
        "merchants": scalar(select(func.count()).select_from(Merchant)
                            .where(Merchant.tenant_id == tenant_id)),
        "merchants_by_tax_type": tax_types,
        "items": scalar(select(func.count()).select_from(Item).where(Item.tenant_id == tenant_id)),
        "vouchers": scalar(select(func.count()).select_from(Item).where(
            Item.tenant_id == tenant_id, Item.kind == "voucher")),
        "exempt_items": scalar(select(func.count()).select_from(Item).where(
            Item.tenant_id == tenant_id, Item.tax_category == "exempt")),
        "boxes": scalar(select(func.count()).select_from(Box).where(Box.tenant_id == tenant_id)),
        "boxes_by_status": statuses,
        "boxes_with_vouchers": voucher_boxes,
        "plans": scalar(select(func.count()).select_from(Plan).where(Plan.tenant_id == tenant_id)),
        "locations": scalar(select(func.count()).select_from(StockLocation).where(
            StockLocation.tenant_id == tenant_id)),
        "units_on_hand": scalar(select(func.sum(StockLevel.on_hand)).where(
            StockLevel.tenant_id == tenant_id)),
    }
