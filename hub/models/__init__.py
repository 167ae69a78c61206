"""SQLAlchemy tables, one module per concept."""

from hub.models.audit import AuditEntry
from hub.models.auth import ApiToken
from hub.models.base import Base
from hub.models.box import Box, BoxComponent, BoxVersion
from hub.models.connection import Binding, Connection
from hub.models.idempotency import IdempotencyRecord
from hub.models.inbox import InboxEntry
from hub.models.item import Item
from hub.models.merchant import Merchant
from hub.models.order import Claim, Contract, Customer, Order, OrderLine
from hub.models.outbox import OutboxMessage
from hub.models.partner import CatalogChange, Offering, PartnerProduct
from hub.models.plan import Plan, PricingRule
from hub.models.round import Round, Voucher
from hub.models.settlement import (
    ChannelReport,
    Coupon,
    FundingEntry,
    LedgerEntry,
    ReconciliationRow,
    SettlementPeriod,
    Statement,
)
from hub.models.stock import StockLevel, StockLocation, StockMovement
from hub.models.sync import PushState, StreamCursor
from hub.models.tenant import Tenant

__all__ = [
    "ApiToken", "AuditEntry", "Base", "Binding", "Box", "BoxComponent", "BoxVersion",
    "CatalogChange", "ChannelReport", "Claim", "Connection", "Contract", "Coupon", "Customer",
    "FundingEntry", "IdempotencyRecord", "InboxEntry", "Item", "LedgerEntry", "Merchant",
    "Offering", "Order", "OrderLine", "OutboxMessage", "PartnerProduct", "Plan",
    "PricingRule", "PushState", "ReconciliationRow", "Round", "SettlementPeriod",
    "Statement", "StockLevel", "StockLocation", "StockMovement", "StreamCursor", "Tenant",
    "Voucher",
]
