"""Orders: placed and moved along from Python (the mall's shoppers), fulfilled over GraphQL."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from connectors.saleor.sandbox import catalog
from connectors.saleor.sandbox.context import (
    Context,
    MutationErrors,
    error,
    fail,
    node_or_error,
)
from connectors.saleor.sandbox.mutations import mutation
from connectors.saleor.sandbox.schema import from_global_id
from connectors.saleor.sandbox.store import Rec, Store, money, taxed

STATUS_DISPLAY = {"UNCONFIRMED": "Unconfirmed", "UNFULFILLED": "Unfulfilled",
                  "PARTIALLY_FULFILLED": "Partially fulfilled", "FULFILLED": "Fulfilled",
                  "CANCELED": "Canceled", "DRAFT": "Draft", "EXPIRED": "Expired",
                  "RETURNED": "Returned", "PARTIALLY_RETURNED": "Partially returned"}


class OrderError(ValueError):
    """A Python-side order operation the mall would refuse."""


def find_order(store: Store, order_id: str) -> Rec:
    decoded = from_global_id(order_id)
    order = store.get("Order", decoded[1]) if decoded and decoded[0] == "Order" else None
    if order is None:
        raise OrderError(f"no order {order_id}")
    return order


def refresh(order: Rec) -> None:
    """Recomputes the money and status fields that follow from lines and payments."""
    currency = order["channel"]["currencyCode"]
    total = sum((line["_unit"] * line["quantity"] for line in order["lines"]), Decimal(0))
    charged, refunded = order["_charged"], order["_refunded"]
    net_charged = charged - refunded
    for key in ("total", "subtotal", "undiscountedTotal"):
        order[key] = taxed(total, currency)
    order["shippingPrice"] = taxed(0, currency)
    order["undiscountedShippingPrice"] = money(0, currency)
    order["totalCharged"] = order["totalCaptured"] = money(net_charged, currency)
    order["totalRefunded"] = money(refunded, currency)
    for key in ("totalAuthorized", "totalCanceled", "totalGrantedRefund", "totalRefundPending",
                "totalAuthorizePending", "totalChargePending", "totalCancelPending",
                "totalRemainingGrant"):
        order[key] = money(0, currency)
    order["totalBalance"] = money(net_charged - total, currency)
    if refunded > 0:
        payment = "FULLY_REFUNDED" if refunded >= charged else "PARTIALLY_REFUNDED"
    elif charged <= 0:
        payment = "NOT_CHARGED"
    else:
        payment = "FULLY_CHARGED" if charged >= total else "PARTIALLY_CHARGED"
    order["paymentStatus"] = payment
    order["paymentStatusDisplay"] = payment.replace("_", " ").capitalize()
    order["isPaid"] = net_charged >= total and (charged > 0 or total == 0)
    if net_charged <= 0:
        order["chargeStatus"] = "NONE"
    else:
        order["chargeStatus"] = ("PARTIAL" if net_charged < total else
                                 "FULL" if net_charged == total else "OVERCHARGED")
    order["authorizeStatus"] = "FULL" if net_charged >= total else "NONE"
    order["statusDisplay"] = STATUS_DISPLAY.get(order["status"], order["status"])


def _allocate(line: Rec, variant: Rec, channel: Rec) -> None:
    needed = line["quantity"]
    allocations: list[tuple[Rec, int]] = []
    order_of = {w["pk"]: i for i, w in enumerate(channel["warehouses"])}
    stocks = sorted(variant["stocks"], key=lambda s: order_of.get(s["warehouse"]["pk"], 99))
    for stock in stocks:
        free = stock["quantity"] - stock["quantityAllocated"]
        take = min(max(free, 0), needed)
        if take:
            allocations.append((stock, take))
            needed -= take
    for stock, take in allocations:
        stock["quantityAllocated"] += take
    line["_allocations"] = allocations


def _deallocate(line: Rec, warehouse: Rec | None = None, quantity: int | None = None) -> None:
    remaining = quantity
    for index, (stock, held) in enumerate(line["_allocations"]):
        if warehouse is not None and stock["warehouse"] is not warehouse:
            continue
        release = held if remaining is None else min(held, remaining)
        stock["quantityAllocated"] = max(stock["quantityAllocated"] - release, 0)
        line["_allocations"][index] = (stock, held - release)
        if remaining is not None:
            remaining -= release
            if remaining <= 0:
                break


def _checked_lines(store: Store, lines: list[tuple[str, int]], channel: Rec,
                   check_stock: bool) -> list[tuple[Rec, int, Decimal]]:
    """Every line resolved and priced, and the stock there, before anything is created."""
    if not lines:
        raise OrderError("an order needs at least one line")
    checked: list[tuple[Rec, int, Decimal]] = []
    wanted: dict[str, int] = {}
    for variant_id, quantity in lines:
        decoded = from_global_id(variant_id)
        variant = store.get("ProductVariant", decoded[1]) if decoded else None
        if variant is None or quantity <= 0:
            raise OrderError(f"bad order line {variant_id!r} x {quantity}")
        listing = catalog.variant_listing_in(variant, channel)
        if listing is None or listing["_price"] is None:
            raise OrderError(f"variant {variant_id} has no price in {channel['slug']}")
        wanted[variant["pk"]] = wanted.get(variant["pk"], 0) + quantity
        free = sum(max(s["quantity"] - s["quantityAllocated"], 0) for s in variant["stocks"])
        if check_stock and variant["trackInventory"] and wanted[variant["pk"]] > free:
            raise OrderError(f"insufficient stock for {variant['sku'] or variant_id}")
        checked.append((variant, quantity, Decimal(str(listing["_price"]))))
    return checked


def place_order(store: Store, lines: list[tuple[str, int]], *, channel_slug: str,
                email: str, paid: bool, address: dict[str, Any] | None,
                metadata: dict[str, str] | None, note: str, check_stock: bool,
                status: str) -> Rec:
    channel = store.by_slug("Channel", channel_slug)
    if channel is None:
        raise OrderError(f"no channel {channel_slug}")
    checked = _checked_lines(store, lines, channel, check_stock)
    store.order_numbers += 1
    shipping = store.address(**(address or {"firstName": "길동", "lastName": "홍",
                                            "streetAddress1": "세종대로 110", "city": "서울",
                                            "postalCode": "04524", "phone": "+82212345678"}))
    order = store.new(
        "Order", number=str(store.order_numbers), _number=store.order_numbers, status=status,
        origin="CHECKOUT", original=None, channel=channel, userEmail=email, user=None,
        customerNote=note, token=str(uuid.uuid4()), trackingClientId="", lines=[],
        fulfillments=[], shippingAddress=shipping, billingAddress=shipping,
        shippingMethodName="Standard delivery", collectionPointName=None,
        shippingTaxRate=0.0, languageCode="ko", languageCodeEnum="KO", displayGrossPrices=True,
        taxExemption=False, isShippingRequired=True, weight={"unit": "KG", "value": 0.0},
        events=[], discounts=[], giftCards=[], invoices=[], transactions=[], payments=[],
        grantedRefunds=[], actions=[], errors=[], externalReference=None, canFinalize=True,
        shippingMethods=[], availableCollectionPoints=[], voucherCode=None,
        shippingTaxClassMetadata=[], shippingTaxClassPrivateMetadata=[],
        _charged=Decimal(0), _refunded=Decimal(0))
    currency = channel["currencyCode"]
    for variant, quantity, unit in checked:
        line = store.new(
            "OrderLine", order=order, variant=variant, productVariantId=variant["id"],
            productName=variant["product"]["name"], variantName=variant["name"],
            translatedProductName=variant["product"]["name"],
            translatedVariantName=variant["name"], productSku=variant["sku"],
            quantity=quantity, quantityFulfilled=0, isShippingRequired=True, taxRate=0.0,
            _unit=unit, unitPrice=taxed(unit, currency),
            undiscountedUnitPrice=taxed(unit, currency),
            unitDiscount=money(0, currency), unitDiscountValue=0, unitDiscountType=None,
            totalPrice=taxed(unit * quantity, currency),
            undiscountedTotalPrice=taxed(unit * quantity, currency), isPriceOverridden=False,
            isGift=False, discounts=[], taxClassMetadata=[], taxClassPrivateMetadata=[])
        order["lines"].append(line)
        _allocate(line, variant, channel)
    order["_metadata"].update(metadata or {})
    if paid:
        order["_charged"] = sum((ln["_unit"] * ln["quantity"] for ln in order["lines"]),
                                Decimal(0))
    channel["hasOrders"] = True
    refresh(order)
    store.emit("ORDER_CREATED", None, order=order)
    if paid:
        store.emit("ORDER_PAID", None, order=order)
        store.emit("ORDER_FULLY_PAID", None, order=order)
    return order


def mark_paid(store: Store, order: Rec) -> None:
    order["_charged"] = sum((ln["_unit"] * ln["quantity"] for ln in order["lines"]), Decimal(0))
    refresh(order)
    store.touch(order)
    for event in ("ORDER_PAID", "ORDER_FULLY_PAID", "ORDER_UPDATED"):
        store.emit(event, None, order=order)


def set_status(store: Store, order: Rec, status: str) -> None:
    before = order["status"]
    order["status"] = status
    if status == "CANCELED":
        for line in order["lines"]:
            _deallocate(line)
    refresh(order)
    store.touch(order)
    if before == "UNCONFIRMED" and status == "UNFULFILLED":
        store.emit("ORDER_CONFIRMED", None, order=order)
    if status == "CANCELED":
        store.emit("ORDER_CANCELLED", None, order=order)
    if status == "FULFILLED":
        store.emit("ORDER_FULFILLED", None, order=order)
    store.emit("ORDER_UPDATED", None, order=order)


def cancel(store: Store, order: Rec) -> None:
    if order["status"] == "CANCELED" or any(
            f["status"] != "CANCELED" for f in order["fulfillments"]):
        raise OrderError("This order can't be canceled.")
    set_status(store, order, "CANCELED")


def refund(store: Store, order: Rec, amount: Decimal | None) -> None:
    charged = order["_charged"]
    available = charged - order["_refunded"]
    amount = available if amount is None else Decimal(str(amount))
    if amount <= 0 or amount > available:
        raise OrderError(f"cannot refund {amount}: {available} left to refund")
    order["_refunded"] += amount
    refresh(order)
    store.touch(order)
    store.emit("ORDER_REFUNDED", None, order=order)
    if order["_refunded"] >= charged:
        store.emit("ORDER_FULLY_REFUNDED", None, order=order)
    store.emit("ORDER_UPDATED", None, order=order)


def _plan_fulfilment(c: Context, order: Rec, data: dict[str, Any]) -> list[tuple[Rec, Rec, int]]:
    plan: list[tuple[Rec, Rec, int]] = []
    errors: list[Rec] = []
    seen: set[str] = set()
    for entry in data["lines"]:
        line = node_or_error(c.store, entry.get("orderLineId"), ("OrderLine",), "orderLineId")
        if line["order"] is not order:
            raise fail("orderLineId", "INVALID", "Order line doesn't belong to this order.",
                       orderLines=[line["id"]])
        if line["pk"] in seen:
            raise fail("orderLineId", "DUPLICATED_INPUT_ITEM", "Duplicated order line ID.",
                       orderLines=[line["id"]])
        seen.add(line["pk"])
        wanted = sum(s["quantity"] for s in entry["stocks"])
        remaining = line["quantity"] - line["quantityFulfilled"]
        if wanted > remaining:
            errors.append(error("orderLineId", "FULFILL_ORDER_LINE",
                                f"Only {remaining} items remaining to fulfill: "
                                f"{line['productSku']}.", orderLines=[line["id"]]))
        for stock_input in entry["stocks"]:
            warehouse = node_or_error(c.store, stock_input["warehouse"], ("Warehouse",),
                                      "warehouse")
            quantity = stock_input["quantity"]
            if quantity < 0:
                errors.append(error("quantity", "INVALID_QUANTITY",
                                    "The quantity should be higher than zero.",
                                    orderLines=[line["id"]]))
            variant = line["variant"] if c.store.exists(line["variant"]) else None
            stock = catalog.stock_in(variant, warehouse) if variant else None
            if (quantity > 0 and variant is not None and variant["trackInventory"]
                    and not data.get("allowStockToBeExceeded")
                    and (stock is None or stock["quantity"] < quantity)):
                errors.append(error("stocks", "INSUFFICIENT_STOCK",
                                    f"Insufficient product stock: {line['productSku']}",
                                    orderLines=[line["id"]], warehouse=warehouse["id"]))
            if quantity > 0:
                plan.append((line, warehouse, quantity))
    if errors:
        raise MutationErrors(errors)
    if not plan:
        raise fail("lines", "ZERO_QUANTITY", "Total quantity must be larger than 0.")
    return plan


@mutation("errors", {"order": None, "event": None})
def order_note_add(c: Context, input: dict[str, Any], order: str | None = None) -> Rec:
    """A note in the order's history (as staff or an app add one)."""
    record = node_or_error(c.store, order, ("Order",), "order")
    message = str(input.get("message") or "").strip()
    if not message:
        raise fail("message", "REQUIRED", "Message can't be empty.")
    event = c.store.new("OrderEvent", type="NOTE_ADDED", message=message,
                        date=c.store.now().isoformat(), app=c.app, user=None)
    record["events"].append(event)
    c.store.touch(record)
    c.store.emit("ORDER_UPDATED", c.app, order=record)
    return {"order": record, "event": event}


@mutation("orderErrors", {"order": None, "fulfillments": None})
def order_fulfill(c: Context, input: dict[str, Any], order: str | None = None) -> Rec:
    record = node_or_error(c.store, order, ("Order",), "order")
    if record["status"] in ("DRAFT", "UNCONFIRMED", "CANCELED", "EXPIRED"):
        raise fail("order", "INVALID",
                   f"Cannot fulfill an order with status {record['status']}.")
    if not record["isPaid"] and not c.store.shop["fulfillmentAllowUnpaid"]:
        raise fail("order", "CANNOT_FULFILL_UNPAID_ORDER", "Cannot fulfill unpaid order.")
    plan = _plan_fulfilment(c, record, input)
    fulfillment = c.store.new(
        "Fulfillment", order=record, fulfillmentOrder=len(record["fulfillments"]) + 1,
        status="FULFILLED", trackingNumber=input.get("trackingNumber") or "", lines=[],
        warehouse=plan[0][1], statusDisplay="Fulfilled")
    for line, warehouse, quantity in plan:
        fulfillment["lines"].append(c.store.new("FulfillmentLine", quantity=quantity,
                                                orderLine=line))
        line["quantityFulfilled"] += quantity
        variant = line["variant"] if c.store.exists(line["variant"]) else None
        if variant is not None and variant["trackInventory"]:
            stock = catalog.stock_in(variant, warehouse)
            if stock is None:
                stock, _ = catalog.set_stock(c.store, variant, warehouse, 0)
            stock["quantity"] -= quantity
            _deallocate(line, warehouse, quantity)
    record["fulfillments"].append(fulfillment)
    done = all(ln["quantityFulfilled"] >= ln["quantity"] for ln in record["lines"])
    record["status"] = "FULFILLED" if done else "PARTIALLY_FULFILLED"
    refresh(record)
    c.store.touch(record)
    c.store.emit("FULFILLMENT_CREATED", c.app, fulfillment=fulfillment, order=record,
                 notifyCustomer=input.get("notifyCustomer", True) is not False)
    if done:
        c.store.emit("ORDER_FULFILLED", c.app, order=record)
    c.store.emit("ORDER_UPDATED", c.app, order=record)
    return {"order": record, "fulfillments": [fulfillment]}
