"""Creating and changing merchants, items, boxes and plans under the catalog's rules.

Callers pass loaded, field-valid data; these functions check what crosses rows (references
within the tenant, fee models, terms) and keep box compositions versioned."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import func, select, true
from sqlalchemy.orm import Session

from hub.crypto import SecretBox
from hub.db import utcnow
from hub.models import Box, BoxComponent, BoxVersion, Item, Merchant, Plan, PricingRule
from hub.services.bindings import tombstone_bindings
from hub.services.validation import Conflict, DuplicateKey, RecordInvalid

_MERCHANT_FIELDS = ("name", "business_number", "tax_type", "representative", "contact_email",
                    "contact_phone", "payout_bank", "payout_account_holder", "fee_model",
                    "commission_rate_bp", "status")
_ITEM_FIELDS = ("merchant_id", "sku", "name", "unit", "list_price", "supply_price",
                "tax_category", "kind", "status", "description")
_BOX_FIELDS = ("code", "title", "description", "images", "category", "capacity_per_round",
               "status")
_PLAN_FIELDS = ("box_id", "code", "name", "cadence", "prepaid_rounds", "term_rounds",
                "round_price", "status")
_RULE_FIELDS = ("from_round", "kind", "percent_bp", "amount", "funder", "label")


F = TypeVar("F", bound=Callable[..., Any])


def no_autoflush(function: F) -> F:
    """Half-built rows must not be flushed by the look-ups that validate them."""

    @functools.wraps(function)
    def wrapper(session: Session, *args: Any, **kwargs: Any) -> Any:
        with session.no_autoflush:
            return function(session, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _assign(row: Any, data: dict[str, Any], names: tuple[str, ...]) -> None:
    for name in names:
        if name in data and getattr(row, name) != data[name]:
            setattr(row, name, data[name])


def _same_tenant(session: Session, model: type[Any], row_id: int, tenant_id: int,
                 path: str) -> Any:
    row = session.get(model, row_id)
    if row is None or row.tenant_id != tenant_id:
        raise RecordInvalid.at(path, f"No {model.__tablename__} with id {row_id} here.")
    return row


def reject_duplicate(session: Session, row: Any, column: Any, path: str) -> None:
    """The tenant's other row holding the same natural key, if any, is a field error."""
    model = type(row)
    with session.no_autoflush:
        other = session.scalar(select(model.id).where(
            model.tenant_id == row.tenant_id, column == getattr(row, column.key),
            model.id != row.id if row.id is not None else true()))
    if other is not None:
        raise DuplicateKey.at(path, f"{model.__tablename__.title()} {other} already has "
                                    f"this {path}.")


@no_autoflush
def apply_merchant(session: Session, secrets: SecretBox, tenant_id: int, data: dict[str, Any],
                   row: Merchant | None = None) -> Merchant:
    if row is None:
        row = Merchant(tenant_id=tenant_id, fee_model="commission", status="active")
        session.add(row)
    _assign(row, data, _MERCHANT_FIELDS)
    if "payout_account" in data:
        account = data["payout_account"]
        if account is None:
            row.payout_account_encrypted = None
            row.payout_account_last4 = None
        else:
            digits = account.replace("-", "")
            current = (secrets.decrypt(row.payout_account_encrypted)
                       if row.payout_account_encrypted else None)
            if current != account:
                row.payout_account_encrypted = secrets.encrypt(account)
                row.payout_account_last4 = digits[-4:]
    if row.fee_model == "commission" and row.commission_rate_bp is None:
        raise RecordInvalid.at("commission_rate_bp", "Required when fee_model is commission.")
    if row.fee_model == "supply_price" and row.commission_rate_bp is not None:
        raise RecordInvalid.at("commission_rate_bp", "Only for fee_model commission.")
    reject_duplicate(session, row, Merchant.business_number, "business_number")
    return row


@no_autoflush
def apply_item(session: Session, tenant_id: int, data: dict[str, Any],
               row: Item | None = None) -> Item:
    if row is None:
        row = Item(tenant_id=tenant_id, unit="1개", tax_category="taxable", kind="physical",
                   status="active")
        session.add(row)
    if "merchant_id" in data:
        _same_tenant(session, Merchant, data["merchant_id"], tenant_id, "merchant_id")
    _assign(row, data, _ITEM_FIELDS)
    merchant = session.get(Merchant, row.merchant_id)
    if merchant is not None and merchant.fee_model == "supply_price" and row.supply_price is None:
        raise RecordInvalid.at("supply_price", "Required: the merchant is paid a supply price.")
    if row.supply_price is not None and row.supply_price > row.list_price:
        raise RecordInvalid.at("supply_price", "Must not exceed list_price.")
    reject_duplicate(session, row, Item.sku, "sku")
    return row


def components_of(box: Box) -> list[dict[str, Any]]:
    version = box.current_version
    if version is None:
        return []
    return [{"item_id": c.item_id, "quantity": c.quantity, "weight": c.weight}
            for c in version.components]


@no_autoflush
def apply_box(session: Session, tenant_id: int, data: dict[str, Any],
              row: Box | None = None) -> Box:
    if row is None:
        row = Box(tenant_id=tenant_id, images=[], category="mixed", capacity_per_round=0,
                  status="draft")
        session.add(row)
    _assign(row, data, _BOX_FIELDS)
    reject_duplicate(session, row, Box.code, "code")
    if "components" in data:
        wanted = [{"item_id": c["item_id"], "quantity": c["quantity"], "weight": c["weight"]}
                  for c in data["components"]]
        for index, component in enumerate(wanted):
            _same_tenant(session, Item, component["item_id"], tenant_id,
                         f"components[{index}].item_id")
        if wanted != components_of(row):
            _new_version(session, row, wanted)
    if row.status == "active" and not components_of(row):
        raise RecordInvalid.at("components", "An active box needs at least one component.")
    return row


def _new_version(session: Session, box: Box, components: list[dict[str, Any]]) -> None:
    session.flush()
    number = (session.scalar(select(func.max(BoxVersion.number))
                             .where(BoxVersion.box_id == box.id)) or 0) + 1
    version = BoxVersion(box_id=box.id, number=number, components=[
        BoxComponent(position=i, **c) for i, c in enumerate(components)])
    session.add(version)
    session.flush()
    box.current_version = version
    box.updated_at = utcnow()  # a new composition is a new version of the box


@no_autoflush
def apply_plan(session: Session, tenant_id: int, data: dict[str, Any],
               row: Plan | None = None) -> Plan:
    if row is None:
        row = Plan(tenant_id=tenant_id, prepaid_rounds=1, status="active")
        session.add(row)
    if "box_id" in data:
        _same_tenant(session, Box, data["box_id"], tenant_id, "box_id")
    _assign(row, {k: v for k, v in data.items() if v is not None or k == "term_rounds"},
            _PLAN_FIELDS)
    if row.term_rounds is not None and row.term_rounds < row.prepaid_rounds:
        raise RecordInvalid.at("term_rounds", "Must be at least prepaid_rounds.")
    if "rules" in data:
        wanted = [{name: rule.get(name) for name in _RULE_FIELDS} for rule in data["rules"]]
        current = [{name: getattr(rule, name) for name in _RULE_FIELDS} for rule in row.rules]
        if wanted != current:
            row.rules = [PricingRule(position=i, **rule) for i, rule in enumerate(wanted)]
            row.updated_at = utcnow()  # rules belong to the plan: a change is a new version
    for index, rule in enumerate(row.rules):
        if rule.kind == "fixed" and rule.amount is not None and rule.amount > row.round_price:
            raise RecordInvalid.at(f"rules[{index}].amount", "Exceeds the round price.")
    reject_duplicate(session, row, Plan.code, "code")
    return row


def delete_merchant(session: Session, row: Merchant) -> None:
    if session.scalar(select(Item.id).where(Item.merchant_id == row.id).limit(1)):
        raise Conflict("The merchant still has items; delete or move them first.")
    tombstone_bindings(session, "merchant", row.id)
    session.delete(row)


def delete_item(session: Session, row: Item) -> None:
    if session.scalar(select(BoxComponent.id).where(BoxComponent.item_id == row.id).limit(1)):
        raise Conflict("The item is part of a box composition; set it inactive instead.")
    tombstone_bindings(session, "item", row.id)
    session.delete(row)


def delete_plan(session: Session, row: Plan) -> None:
    tombstone_bindings(session, "plan", row.id)
    session.delete(row)


def delete_box(session: Session, row: Box) -> None:
    if session.scalar(select(Plan.id).where(Plan.box_id == row.id).limit(1)):
        raise Conflict("The box has plans; retire it instead.")
    tombstone_bindings(session, "box", row.id)
    row.current_version = None
    session.flush()
    session.delete(row)
