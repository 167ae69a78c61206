"""The sandbox mall's state: plain dicts keyed like the GraphQL fields they answer.

Every record carries `__typename`, `pk` and `id` (Saleor's global id), so the default
field resolver of graphql-core reads most fields straight from it and interfaces resolve
by `__typename`. Relations are direct references to other records."""

from __future__ import annotations

import re
import threading
import unicodedata
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from connectors.saleor.sandbox.schema import SALEOR_VERSION, SCHEMA_VERSION, to_global_id

Rec = dict[str, Any]
Emitter = Callable[..., None]
CURRENCY_DIGITS = {"KRW": 0, "JPY": 0, "VND": 0, "CLP": 0}
UUID_TYPES = frozenset({"Order", "OrderLine"})


def currency_digits(currency: str) -> int:
    return CURRENCY_DIGITS.get(currency.upper(), 2)


def quantize(amount: Decimal | float | int, currency: str) -> Decimal:
    exponent = Decimal(1).scaleb(-currency_digits(currency))
    return Decimal(str(amount)).quantize(exponent, rounding=ROUND_HALF_UP)


def money(amount: Decimal | float | int, currency: str) -> Rec:
    digits = currency_digits(currency)
    value = quantize(amount, currency)
    return {"__typename": "Money", "currency": currency, "amount": float(value),
            "fractionDigits": digits, "fractionalAmount": int(value.scaleb(digits))}


def taxed(amount: Decimal | float | int, currency: str) -> Rec:
    return {"__typename": "TaxedMoney", "currency": currency, "gross": money(amount, currency),
            "net": money(amount, currency), "tax": money(0, currency)}


def slugify(value: str) -> str:
    """Django's slugify with unicode kept (Saleor's SlugField allows unicode)."""
    text = unicodedata.normalize("NFKC", value).lower()
    text = re.sub(r"[^\w\s-]", "", text)
    return re.sub(r"[-\s_]+", "-", text).strip("-_")


class Store:
    """All records of one sandbox mall. Hold `lock` while reading or changing them."""

    def __init__(self, shop_name: str = "Gudok municipal mall (sandbox)",
                 clock: Callable[[], datetime] | None = None) -> None:
        self.lock = threading.RLock()
        self.tables: dict[str, dict[str, Rec]] = {}
        self._seq: dict[str, int] = {}
        self._clock = clock or (lambda: datetime.now(UTC))
        self._last_time = datetime.min.replace(tzinfo=UTC)
        self.order_numbers = 0
        self.emit: Emitter = lambda *args, **kwargs: None
        self.shop: Rec = {
            "__typename": "Shop", "id": to_global_id("Shop", 1), "name": shop_name,
            "description": "Local Saleor-like sandbox", "version": SALEOR_VERSION,
            "schemaVersion": SCHEMA_VERSION, "domain": {"host": "127.0.0.1", "sslEnabled": False,
                                                       "url": "http://127.0.0.1/"},
            "defaultCountry": {"code": "KR", "country": "South Korea", "vat": None},
            "channelCurrencies": ["KRW"], "fulfillmentAutoApprove": True,
            "fulfillmentAllowUnpaid": True, "trackInventoryByDefault": True,
            "availablePaymentGateways": [], "availableExternalAuthentications": [],
            "countries": [], "languages": [], "phonePrefixes": ["+82"], "announcements": [],
            "availableTaxApps": [], "includeTaxesInPrices": True, "displayGrossPrices": True,
            "chargeTaxesOnShipping": True, "preserveAllAddressFields": False,
            "allowStorefrontTraffic": True, "useLegacyShippingZoneStockAvailability": False,
            "_metadata": {}, "_privateMetadata": {},
        }
        self.seed()

    # -- time and identity --------------------------------------------------------------

    def now(self) -> datetime:
        """The clock, made strictly increasing so updatedAt orders every change."""
        current = self._clock()
        if current <= self._last_time:
            current = self._last_time + timedelta(microseconds=1)
        self._last_time = current
        return current

    def new(self, type_name: str, **fields: Any) -> Rec:
        if type_name in UUID_TYPES:
            pk: str = str(uuid.uuid4())
        else:
            self._seq[type_name] = self._seq.get(type_name, 0) + 1
            pk = str(self._seq[type_name])
        now = self.now()
        record: Rec = {"__typename": type_name, "pk": pk, "id": to_global_id(type_name, pk),
                       "created": now, "updatedAt": now, "_metadata": {},
                       "_privateMetadata": {}}
        record.update(fields)
        self.tables.setdefault(type_name, {})[pk] = record
        return record

    def all(self, type_name: str) -> list[Rec]:
        return list(self.tables.get(type_name, {}).values())

    def get(self, type_name: str, pk: str) -> Rec | None:
        return self.tables.get(type_name, {}).get(pk)

    def delete(self, record: Rec) -> None:
        self.tables.get(record["__typename"], {}).pop(record["pk"], None)

    def exists(self, record: Rec | None) -> bool:
        return record is not None and self.get(record["__typename"], record["pk"]) is record

    def touch(self, record: Rec) -> None:
        record["updatedAt"] = self.now()

    def unique_slug(self, type_name: str, base: str, exclude: Rec | None = None) -> str:
        root = slugify(base) or type_name.lower()
        taken = {r["slug"] for r in self.all(type_name) if r is not exclude}
        slug, n = root, 1
        while slug in taken:
            n += 1
            slug = f"{root}-{n}"
        return slug

    def by_slug(self, type_name: str, slug: str) -> Rec | None:
        return next((r for r in self.all(type_name) if r.get("slug") == slug), None)

    # -- seed ------------------------------------------------------------------------------

    def address(self, **fields: Any) -> Rec:
        values: Rec = {"firstName": "", "lastName": "", "companyName": "",
                       "streetAddress1": "", "streetAddress2": "", "city": "", "cityArea": "",
                       "postalCode": "", "countryArea": "", "phone": "",
                       "isDefaultShippingAddress": None, "isDefaultBillingAddress": None}
        values.update(fields)
        code = values.pop("country", "KR")
        values["country"] = {"code": code, "country": "South Korea" if code == "KR" else code,
                             "vat": None}
        return self.new("Address", **values)

    def add_channel(self, slug: str, name: str, currency: str = "KRW") -> Rec:
        channel = self.new("Channel", slug=slug, name=name, currencyCode=currency,
                           isActive=True, hasOrders=False,
                           defaultCountry={"code": "KR", "country": "South Korea", "vat": None},
                           warehouses=list(self.all("Warehouse")),
                           stockSettings={"allocationStrategy": "PRIORITIZE_SORTING_ORDER"},
                           orderSettings={"automaticallyConfirmAllNewOrders": True,
                                          "automaticallyFulfillNonShippableGiftCard": True,
                                          "allowUnpaidOrders": False,
                                          "markAsPaidStrategy": "PAYMENT_FLOW"})
        if currency not in self.shop["channelCurrencies"]:
            self.shop["channelCurrencies"].append(currency)
        return channel

    def add_warehouse(self, name: str, slug: str, city: str) -> Rec:
        warehouse = self.new(
            "Warehouse", name=name, slug=slug, email=f"{slug}@sandbox.invalid",
            isPrivate=True, companyName=name, clickAndCollectOption="DISABLED",
            externalReference=None,
            address=self.address(companyName=name, streetAddress1="1 Sandbox-ro",
                                 city=city, postalCode="00000"))
        for channel in self.all("Channel"):
            channel["warehouses"].append(warehouse)
        return warehouse

    def seed(self) -> None:
        self.add_warehouse("Seoul Central Warehouse", "seoul-central", "Seoul")
        self.add_warehouse("Jeju Fresh Warehouse", "jeju-fresh", "Jeju")
        self.add_channel("default-channel", "Default Channel", "KRW")
        self.new("Category", name="Subscription boxes", slug="subscription-boxes",
                 description=None, level=0, parent=None, seoTitle=None, seoDescription=None)

    @property
    def default_channel(self) -> Rec:
        channel = self.by_slug("Channel", "default-channel")
        return channel if channel is not None else self.all("Channel")[0]
