"""The demo's private platforms: two sandbox subscription platforms beside the sandbox mall.

Each gets a partner connection with its own secrets and token and a set of offered boxes. It
reads its feed, lists the boxes and reports its links; the mall's products then carry those
links. The hub notifies both platforms of a change; one platform's own product is approved and
listed in the mall; and the platforms' customers subscribe and cancel by signed webhooks."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from sqlalchemy import func, select, update

from connectors.partner.sandbox import PartnerSandbox
from connectors.saleor.sandbox import SaleorSandbox
from hub.db import session_scope, utcnow
from hub.demo_month import MonthDemo, run_month_demo
from hub.demo_sync import SyncDemo, hub_availability, run_sync_demo
from hub.models import ApiToken, Box, Connection, InboxEntry, Offering, PartnerProduct, Tenant
from hub.services import partner_products
from hub.services.connections import apply_connection
from hub.services.tokens import create_token
from jobs.catalog import push_catalog
from jobs.notifications import deliver_due
from jobs.partner import LinkOutReport, notify_catalog_changes, push_link_outs

# (connection name, platform name, which active boxes it is offered: every n-th)
PLATFORMS = (("오늘의꾸러미 (sandbox platform)", "오늘의꾸러미", 1),
             ("로컬구독 (sandbox platform)", "로컬구독", 2))
OWN_PRODUCT: dict[str, Any] = {
    "external_id": "JEJU-TANGERINE-W", "name": "제주 감귤 정기배송 (플랫폼 자체 상품)",
    "description": "매주 제철 감귤 3kg을 산지에서 바로 보내 드립니다.", "price": 19_900,
    "cadence": "weekly"}
PRODUCTS = """
query DemoProducts($first: Int!, $after: String) {
  products(first: $first, after: $after) {
    edges { node { id name metadata { key value } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


@dataclass
class PlatformDemo:
    name: str
    connection_id: int
    offered: int
    fed: int = 0
    links_reported: int = 0
    notifications: int = 0
    orders: int = 0
    cancelled: int = 0
    webhooks_in_inbox: int = 0
    ordered: list[str] = field(default_factory=list)  # box codes its customers ordered


@dataclass
class PartnersDemo:
    platforms: list[PlatformDemo] = field(default_factory=list)
    mall_products_linking_both: int = 0
    link_outs: LinkOutReport = field(default_factory=LinkOutReport)
    link_out_url: str | None = None
    sync: SyncDemo | None = None
    month: MonthDemo | None = None


def _whsec() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _platform_connection(app: Flask, tenant_id: int, name: str, platform: str,
                         every: int) -> tuple[int, int, str, str, str]:
    """The platform's connection with fresh secrets and token (the sandbox is new each run),
    and its offerings; (connection id, offered, token, inbound secret, outbound secret)."""
    state = app.extensions["gudok"]
    inbound, outbound = _whsec(), _whsec()
    with session_scope(state.session_factory) as session:
        row = session.scalar(select(Connection).where(Connection.tenant_id == tenant_id,
                                                      Connection.name == name))
        row = apply_connection(session, state.secrets, tenant_id, {
            "connector": "partner", "name": name, "status": "active",
            "config": {"platform_name": platform, "inbound_secret": inbound,
                       "outbound_secret": outbound, "outbound_url": None}}, row)
        session.flush()
        session.execute(update(ApiToken).where(ApiToken.connection_id == row.id,
                                               ApiToken.revoked_at.is_(None))
                        .values(revoked_at=utcnow()))
        tenant_code = session.get_one(Tenant, tenant_id).code
        _token_row, token = create_token(session, "partner", tenant_code,
                                         f"demo {platform}", row.id)
        active = list(session.scalars(select(Box.id).where(
            Box.tenant_id == tenant_id, Box.status == "active").order_by(Box.id)))
        wanted = set(active[::every])
        have = set(session.scalars(select(Offering.box_id).where(
            Offering.connection_id == row.id)))
        for box_id in sorted(wanted - have):
            session.add(Offering(tenant_id=tenant_id, connection_id=row.id, box_id=box_id))
        for offering in session.scalars(select(Offering).where(
                Offering.connection_id == row.id, Offering.box_id.not_in(wanted))):
            session.delete(offering)
        return row.id, len(wanted), token, inbound, outbound


def _point_at(app: Flask, connection_id: int, outbound_url: str) -> None:
    state = app.extensions["gudok"]
    with session_scope(state.session_factory) as session:
        row = session.get_one(Connection, connection_id)
        apply_connection(session, state.secrets, row.tenant_id, {
            "connector": "partner", "name": row.name, "status": "active",
            "config": {**row.config, "outbound_url": outbound_url}}, row)


@contextmanager
def platforms(app: Flask, tenant_code: str,
              hub_url: str) -> Iterator[list[tuple[PlatformDemo, PartnerSandbox]]]:
    state = app.extensions["gudok"]
    with session_scope(state.session_factory) as session:
        tenant = session.scalar(select(Tenant).where(Tenant.code == tenant_code))
        if tenant is None:
            raise LookupError(f"no tenant {tenant_code!r}: load the demo first")
        tenant_id = tenant.id
    with ExitStack() as stack:
        running = []
        for name, platform, every in PLATFORMS:
            connection_id, offered, token, inbound, outbound = _platform_connection(
                app, tenant_id, name, platform, every)
            sandbox = stack.enter_context(PartnerSandbox(
                platform, hub_url=hub_url, connection_id=connection_id, api_token=token,
                inbound_secret=inbound, outbound_secret=outbound))
            _point_at(app, connection_id, sandbox.notifications_url)
            running.append((PlatformDemo(platform, connection_id, offered), sandbox))
        yield running


def run_partner_demo(app: Flask, tenant_code: str, hub_url: str, mall: SaleorSandbox,
                     mall_connection_id: int) -> PartnersDemo:
    result = PartnersDemo()
    with platforms(app, tenant_code, hub_url) as running:
        for demo, sandbox in running:
            demo.fed = len(sandbox.read_feed())
            sandbox.list_boxes()
            demo.links_reported = sandbox.report_links()
        with app.app_context():
            push_catalog(mall_connection_id)  # the mall's products now carry the links
            for demo, _sandbox in running:
                notify_catalog_changes(demo.connection_id)
                deliver_due(demo.connection_id)
        mall.drain()
        result.mall_products_linking_both = _linking_all(mall, [d.name for d, _ in running])
        first, first_sandbox = running[0]
        result.link_out_url = _list_own_product(app, first_sandbox, mall_connection_id, result)
        with app.app_context():
            deliver_due(first.connection_id)  # the product.reviewed notice
        watched = _watched_box(app, running)
        hub_before = hub_availability(app, watched)
        for demo, sandbox in running:
            before = _inbox(app, demo.connection_id)
            _subscribe(sandbox, demo)
            demo.webhooks_in_inbox = _inbox(app, demo.connection_id) - before
        result.sync = run_sync_demo(app, mall, mall_connection_id, running, watched,
                                    hub_before)
        result.month = run_month_demo(app, running)
        for demo, sandbox in running:
            demo.notifications = len(sandbox.notifications)
        result.platforms = [demo for demo, _ in running]
    return result


def _watched_box(app: Flask, running: list[tuple[PlatformDemo, PartnerSandbox]]) -> str:
    """The box of the last platform's second order (the first is cancelled again): every
    channel carries it, and the mall's own shopper did not order it."""
    _demo, sandbox = running[-1]
    fed = [entry for entry in sandbox.boxes.values() if entry.get("plans")]
    return str(fed[1]["code"])


def _list_own_product(app: Flask, sandbox: PartnerSandbox, mall_connection_id: int,
                      result: PartnersDemo) -> str | None:
    """The platform submits its own product, an operator approves it, the mall lists it."""
    answer = sandbox.submit_product(OWN_PRODUCT["external_id"], OWN_PRODUCT["name"],
                                    OWN_PRODUCT["description"], OWN_PRODUCT["price"],
                                    OWN_PRODUCT["cadence"])
    state = app.extensions["gudok"]
    with session_scope(state.session_factory) as session:
        row = session.scalar(select(PartnerProduct).where(
            PartnerProduct.connection_id == sandbox.connection_id,
            PartnerProduct.external_id == OWN_PRODUCT["external_id"]))
        if row is None:
            raise RuntimeError(f"the platform's product did not arrive: {answer}")
        if row.listed is None or row.status != "approved":
            partner_products.review(session, row, session.get_one(Connection,
                                                                  row.connection_id),
                                    approve=True, note="데모 승인", actor="demo:operator")
    with app.app_context():
        result.link_outs = push_link_outs(mall_connection_id)
    with session_scope(state.session_factory) as session:
        row = session.get_one(PartnerProduct, row.id)
        links = partner_products.mall_links(session, row)
    return str(links[0]["url"]) if links else None


def _subscribe(sandbox: PartnerSandbox, demo: PlatformDemo) -> None:
    """Two customers subscribe to the first boxes the platform lists; one cancels."""
    fed = [entry for entry in sandbox.boxes.values() if entry.get("plans")]
    for entry in fed[:2]:
        sandbox.place_order(entry["code"], entry["plans"][0]["code"])
        demo.orders += 1
        demo.ordered.append(entry["code"])
    if sandbox.orders:
        sandbox.cancel_order(next(iter(sandbox.orders)))
        demo.cancelled += 1


def _linking_all(mall: SaleorSandbox, names: list[str]) -> int:
    """The mall's products whose links name every platform."""
    count, after = 0, None
    while True:
        answer = mall.execute(PRODUCTS, {"first": 100, "after": after}, superuser=True)
        page = answer["data"]["products"]
        for edge in page["edges"]:
            meta = {m["key"]: m["value"] for m in edge["node"]["metadata"]}
            links = json.loads(meta.get("gudok.links") or "[]")
            if set(names) <= {link.get("platform") for link in links}:
                count += 1
        if not page["pageInfo"]["hasNextPage"]:
            return count
        after = page["pageInfo"]["endCursor"]


def _inbox(app: Flask, connection_id: int) -> int:
    with session_scope(app.extensions["gudok"].session_factory) as session:
        return int(session.scalar(select(func.count()).select_from(InboxEntry).where(
            InboxEntry.connection_id == connection_id)) or 0)
