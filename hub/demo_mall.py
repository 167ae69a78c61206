"""The demo's municipal mall: a Saleor sandbox on loopback into which the hub installs itself
as an app and pushes the demo catalog; then a shopper's orders come back as signed webhooks.
Two sandbox platforms then join beside it (hub/demo_partners.py)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy import func, select
from werkzeug.serving import make_server

from connectors.saleor.sandbox import SaleorSandbox
from hub.db import session_scope
from hub.demo_partners import PartnersDemo, run_partner_demo
from hub.models import Binding, Connection, InboxEntry, Tenant
from hub.queue import embedded_queue
from hub.services.connections import apply_connection
from jobs.catalog import CatalogPushReport, push_catalog

CONNECTION_NAME = "한빛몰 (sandbox mall)"


@dataclass
class MallDemo:
    graphql_url: str
    connection_id: int
    report: CatalogPushReport
    variants: int
    orders: int
    webhooks_in_inbox: int
    partners: PartnersDemo | None = None


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """The hub on a loopback port, so the mall can fetch its manifest and send webhooks."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def _mall_connection(app: Flask, tenant_code: str, api_url: str, storefront: str) -> int:
    state = app.extensions["gudok"]
    with session_scope(state.session_factory) as session:
        tenant = session.scalar(select(Tenant).where(Tenant.code == tenant_code))
        if tenant is None:
            raise LookupError(f"no tenant {tenant_code!r}: load the demo first")
        row = session.scalar(select(Connection).where(Connection.tenant_id == tenant.id,
                                                      Connection.name == CONNECTION_NAME))
        # The sandbox listens on a new port each run: point the connection at it.
        data = {"connector": "saleor", "name": CONNECTION_NAME, "status": "active",
                "config": {"api_url": api_url, "app_token": None,
                           "storefront_url_template": storefront.rstrip("/") + "/products/{slug}"}}
        row = apply_connection(session, state.secrets, tenant.id, data, row)
        session.flush()
        return row.id


def run_mall_demo(app: Flask, tenant_code: str,
                  progress: Callable[[Any], None] | None = None, *,
                  partners: bool = True) -> MallDemo:
    # The demo runs the queued jobs itself, in order, when it shows the sync engine at work.
    embedded_queue(app, start=False)
    with SaleorSandbox() as mall, serving(app) as hub_url:
        connection_id = _mall_connection(app, tenant_code, mall.graphql_url, mall.url)
        mall.install_app(f"{hub_url}saleor/{connection_id}/manifest")
        with app.app_context():
            report = push_catalog(connection_id, progress=progress)
        mall.drain()  # the product events of the push land first
        state = app.extensions["gudok"]
        with session_scope(state.session_factory) as session:
            variants = list(session.scalars(select(Binding.external_id).where(
                Binding.connection_id == connection_id, Binding.entity_type == "plan",
                Binding.status == "active").order_by(Binding.internal_id)))
            before = _inbox(session, connection_id)
        orders = 0
        for variant in variants[:3]:  # a shopper subscribes to a few boxes
            mall.place_order([(variant, 1)])
            orders += 1
        mall.drain()
        with session_scope(state.session_factory) as session:
            landed = _inbox(session, connection_id) - before
        beside = run_partner_demo(app, tenant_code, hub_url, mall, connection_id) \
            if partners else None
    return MallDemo(mall.graphql_url, connection_id, report, len(variants), orders, landed,
                    beside)


def _inbox(session: Any, connection_id: int) -> int:
    return int(session.scalar(select(func.count()).select_from(InboxEntry).where(
        InboxEntry.connection_id == connection_id)))
