"""Tenant isolation and roles over every route of the API, taken from the app's URL map.

A new route fails these tests until it is added to MEMBER_IDS or CROSS_TENANT_BODIES, so no
route escapes the check."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from hub.db import session_scope
from hub.models import (
    ApiToken,
    ChannelReport,
    Contract,
    Coupon,
    Order,
    OrderLine,
    PartnerProduct,
    ReconciliationRow,
    Round,
    Voucher,
)
from hub.services.tokens import digest, revoke_token
from tests.conftest import ApiClient, make_token
from tests.factories import create_catalog

PUBLIC = {"/api/v1/openapi.json", "/api/v1/docs", "/api/v1/docs/<path:filename>"}
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
ADMIN_ONLY_PREFIX = "/api/v1/tenants"
# Only partner tokens may call the Partner API (tests/api/test_partner_feed.py covers them);
# every other token, admin included, gets 403 there.
PARTNER_PREFIX = "/api/v1/partner/"
PATCH_BODY: dict[str, Any] = {}  # valid for every PATCH, so only the lookup can refuse


def api_routes(app: Flask) -> list[tuple[str, str, list[str]]]:
    """(rule, method, argument names) for every API route and method."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.rule in PUBLIC:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((rule.rule, method, sorted(rule.arguments)))
    assert len(found) > 20, "the URL map lost its API routes"
    return found


def member_ids(world: dict[str, Any], tenant_id: int) -> dict[str, Any]:
    """Tenant A's id for every URL argument a route can take."""
    return {
        "tenant_id": tenant_id,
        "merchant_id": world["merchant"]["id"],
        "item_id": world["items"][0]["id"],
        "box_id": world["box"]["id"],
        "plan_id": world["plan"]["id"],
        "location_id": world["location"]["id"],
        "level_id": world["level"]["id"],
        "connection_id": world["connection"]["id"],
        "binding_id": world["binding"]["id"],
        "box_code": world["box"]["code"],
        "product_id": world["partner_product"]["id"],
        "external_id": world["partner_product"]["external_id"],
        # A world made without add_order (the partner feed's) has no order: any id will do.
        "order_id": world["order"]["id"] if "order" in world else 1,
        "contract_id": world["contract"]["id"] if "contract" in world else 1,
        "round_id": world["round"]["id"] if "round" in world else 1,
        "code": world["voucher"]["code"] if "voucher" in world else "GV-NONE",
        "coupon_id": world["coupon"]["id"] if "coupon" in world else 1,
        "report_id": world["report"]["id"] if "report" in world else 1,
        "row_id": world["report"]["row_id"] if "report" in world else 1,
    }


def member_bodies(world: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """Valid bodies for member writes that a PATCH_BODY would not satisfy, so only the
    lookup can refuse."""
    return {("/api/v1/connections/<int:connection_id>/offerings", "PUT"):
            {"box_ids": [world["box"]["id"]]},
            ("/api/v1/rounds/<int:round_id>/ship", "POST"):
            {"carrier": "x", "tracking_number": "1"},
            ("/api/v1/contracts/<int:contract_id>/skip", "POST"):
            {"round_id": world.get("round", {}).get("id", 1)},
            ("/api/v1/contracts/<int:contract_id>/cadence", "POST"): {"cadence": "monthly"}}


def cross_tenant_bodies(world: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """Bodies with which tenant B's writes to collections reference tenant A's rows."""
    item = world["items"][0]["id"]
    return {
        ("/api/v1/items", "POST"): {"merchant_id": world["merchant"]["id"], "sku": "X-1",
                                    "name": "x", "list_price": 1},
        ("/api/v1/plans", "POST"): {"box_id": world["box"]["id"], "code": "X-P", "name": "x",
                                    "cadence": "weekly", "round_price": 1},
        ("/api/v1/boxes", "POST"): {"code": "X-B", "title": "x",
                                    "components": [{"item_id": item, "quantity": 1,
                                                    "weight": 1}]},
        ("/api/v1/bindings", "POST"): {"connection_id": world["connection"]["id"],
                                       "entity_type": "box", "internal_id": world["box"]["id"],
                                       "external_id": "X"},
        ("/api/v1/stock-levels", "PUT"): {"item_id": item,
                                          "location_id": world["location"]["id"],
                                          "on_hand": 0},
        ("/api/v1/stock-levels/adjust", "POST"): {"item_id": item,
                                                  "location_id": world["location"]["id"],
                                                  "delta": -1, "reason": "x"},
        ("/api/v1/merchants", "POST"): {"name": "x", "business_number": "220-81-62517",
                                        "tax_type": "general", "commission_rate_bp": 1,
                                        "tenant": "hanbit"},
        ("/api/v1/stock-locations", "POST"): {"code": "X", "name": "x", "tenant": "hanbit"},
        ("/api/v1/connections", "POST"): {"connector": "saleor", "name": "x",
                                          "tenant": "hanbit",
                                          "config": {"api_url": "https://x.example.kr/"}},
        ("/api/v1/catalog/push", "POST"): {"tenant": "hanbit", "items": [], "boxes": [],
                                           "plans": []},
    }


def url_for(rule: str, ids: dict[str, Any]) -> str:
    url = rule
    for name, value in ids.items():
        url = url.replace(f"<int:{name}>", str(value)).replace(f"<{name}>", str(value)) \
            .replace(f"<string:{name}>", str(value))
    assert "<" not in url, f"{rule}: add its URL argument to member_ids()"
    return url


def send(api: ApiClient, method: str, url: str, body: Any = None) -> Any:
    if method in {"GET", "DELETE"}:
        return getattr(api, method.lower())(url)
    return getattr(api, method.lower())(url, json=body)


def add_partner_product(app: Flask, world: dict[str, Any]) -> dict[str, Any]:
    """A platform product of the world's tenant, for the routes that take its ids."""
    with session_scope(app.extensions["gudok"].session_factory) as session:
        row = PartnerProduct(tenant_id=world["box"]["tenant_id"],
                             connection_id=world["connection"]["id"], external_id="P-1",
                             name="x", url="http://127.0.0.1/p/1", price=1, cadence="weekly")
        session.add(row)
        session.flush()
        world["partner_product"] = {"id": row.id, "external_id": row.external_id}
    return world


def add_order(app: Flask, world: dict[str, Any]) -> dict[str, Any]:
    """An order taken on the world's connection, with a contract, for the routes that take
    its id and the lists that must not show it to another tenant."""
    with session_scope(app.extensions["gudok"].session_factory) as session:
        moment = datetime(2026, 11, 29, tzinfo=UTC)
        row = Order(tenant_id=world["box"]["tenant_id"], connection_id=world["connection"]["id"],
                    external_id="O-1", status="paid", status_rank=1, placed_at=moment,
                    source_updated_at=moment, source_digest="0" * 64, currency="KRW",
                    total=1, refunded=0)
        line = OrderLine(external_line_id="1", box_id=world["box"]["id"],
                         plan_id=world["plan"]["id"], quantity=1, unit_price=1,
                         cancelled_quantity=0, refunded_quantity=0)
        row.lines.append(line)
        line.contract = Contract(tenant_id=row.tenant_id, order=row, plan_id=line.plan_id,
                                 box_id=line.box_id, cadence="weekly", prepaid_rounds=1,
                                 rounds_delivered=0, status="active")
        session.add(row)
        session.flush()
        world["order"] = {"id": row.id}
        world["contract"] = {"id": line.contract.id}
        add_money(session, world, line.contract)
    return world


def add_money(session: Any, world: dict[str, Any], contract: Contract) -> None:
    """A round, its voucher, a coupon and a reconciled channel report of the world's tenant,
    for the routes that take their ids."""
    tenant_id = world["box"]["tenant_id"]
    moment = datetime(2026, 11, 29, tzinfo=UTC)
    round_ = Round(tenant_id=tenant_id, contract_id=contract.id, number=1, sequence=1,
                   scheduled_on=moment.date(), cutoff_at=moment, quantity=1,
                   status="scheduled")
    session.add(round_)
    session.flush()
    voucher = Voucher(tenant_id=tenant_id, round_id=round_.id, item_id=world["items"][0]["id"],
                      merchant_id=world["merchant"]["id"], unit=1, code="GV-ABCDEFGH2345",
                      valid_until=moment.date(), status="issued")
    coupon = Coupon(tenant_id=tenant_id, code="A-COUPON", label="x", funder="municipality",
                    amount=1000)
    report = ChannelReport(tenant_id=tenant_id, connection_id=world["connection"]["id"],
                           source="csv", period="2026-11", digest="0" * 64, counts={})
    session.add_all([voucher, coupon, report])
    session.flush()
    row = ReconciliationRow(report_id=report.id, external_order_id="O-1", status="matched",
                            expected=1, reported=1)
    session.add(row)
    session.flush()
    world.update(round={"id": round_.id}, voucher={"code": voucher.code},
                 coupon={"id": coupon.id}, report={"id": report.id, "row_id": row.id})


@pytest.fixture
def world(app: Flask, operator: ApiClient) -> dict[str, Any]:
    return add_order(app, add_partner_product(app, create_catalog(operator)))


def snapshot(api: ApiClient) -> dict[str, Any]:
    """Tenant A's rows as A sees them, to prove nothing of them changed."""
    paths = ["/api/v1/merchants", "/api/v1/items", "/api/v1/boxes", "/api/v1/plans",
             "/api/v1/stock-locations", "/api/v1/stock-levels", "/api/v1/connections",
             "/api/v1/bindings", "/api/v1/contracts", "/api/v1/rounds", "/api/v1/vouchers",
             "/api/v1/coupons", "/api/v1/channel-reports"]
    return {path: api.get(path).get_json()["data"] for path in paths}


def test_other_tenants_token_gets_404_on_every_member_route(app, world, tenants, operator,
                                                            other_operator):
    ids = member_ids(world, tenants["hanbit"])
    bodies = member_bodies(world)
    before = snapshot(operator)
    checked = 0
    for rule, method, arguments in api_routes(app):
        if not arguments:
            continue
        response = send(other_operator, method, url_for(rule, ids),
                        bodies.get((rule, method), PATCH_BODY))
        expected = 403 if rule.startswith((ADMIN_ONLY_PREFIX, PARTNER_PREFIX)) else 404
        assert response.status_code == expected, (method, rule, response.get_json())
        assert response.mimetype == "application/problem+json"
        checked += 1
    assert checked >= 15
    assert snapshot(operator) == before


# Collection writes that reference nothing of another tenant: B acts on its own rows only.
OWN_TENANT_WRITES = {
    ("/api/v1/coupons", "POST"): ({"code": "B-1", "label": "x", "funder": "municipality",
                                   "amount": 1}, 201),
    ("/api/v1/statements/runs", "POST"): ({"period": "2026-11"}, 202),
}


def csv_writes(world: dict[str, Any]) -> dict[tuple[str, str], tuple[str, bytes]]:
    """CSV uploads naming tenant A's rows: (query, body) for each."""
    return {
        ("/api/v1/rounds/marks", "POST"):
            ("", f"round_id,status\n{world['round']['id']},delivered\n".encode()),
        ("/api/v1/vouchers/redemptions", "POST"):
            ("", f"code,redeemed_at\n{world['voucher']['code']},2026-11-29T10:00:00+09:00\n"
             .encode()),
        ("/api/v1/channel-reports/upload", "POST"):
            (f"?connection={world['connection']['id']}&order_column=o&amount_column=a",
             b"o,a\nO-1,1\n"),
    }


def test_other_tenants_token_sees_and_reaches_nothing_through_collections(
        app, world, tenants, operator, other_operator):
    bodies = cross_tenant_bodies(world)
    uploads = csv_writes(world)
    before = snapshot(operator)
    for rule, method, arguments in api_routes(app):
        if arguments:
            continue
        if (rule, method) in OWN_TENANT_WRITES:
            body, status = OWN_TENANT_WRITES[(rule, method)]
            response = send(other_operator, method, rule, body)
            assert response.status_code == status, (rule, response.get_json())
            continue
        if (rule, method) in uploads:
            query, data = uploads[(rule, method)]
            response = other_operator.post(rule + query, data=data,
                                           headers={"Content-Type": "text/csv"})
            assert response.status_code in (200, 404), (rule, response.get_json())
            if response.status_code == 200:  # every row refused: A's id names nothing here
                rows = response.get_json().get("rows") or response.get_json().get("data")
                assert rows and all(r.get("outcome", r.get("result")) == "error"
                                    for r in rows), (rule, rows)
            continue
        response = send(other_operator, method, rule, bodies.get((rule, method)))
        if rule.startswith((ADMIN_ONLY_PREFIX, PARTNER_PREFIX)):
            assert response.status_code == 403, (method, rule)
        elif method == "GET":
            assert response.status_code == 200, (rule, response.get_json())
            body = response.get_json()
            if isinstance(body, dict):  # a tenant's page of rows (a report's): B has none
                assert body["data" if "data" in body else "rows"] == [], (rule, body)
        else:
            assert (rule, method) in bodies, f"{method} {rule}: add a cross-tenant body"
            assert response.status_code == 400, (method, rule, response.get_json())
            paths = {e["path"] for e in response.get_json()["errors"]}
            assert paths & {"merchant_id", "box_id", "components[0].item_id", "connection_id",
                            "item_id", "tenant"}, (rule, paths)
    assert snapshot(operator) == before


def test_viewer_gets_403_on_every_write(app, world, tenants, viewer, operator):
    ids = member_ids(world, tenants["hanbit"])
    bodies = cross_tenant_bodies(world)
    before = snapshot(operator)
    writes = [(r, m, a) for r, m, a in api_routes(app) if m in WRITE_METHODS]
    assert len(writes) >= 15
    for rule, method, _arguments in writes:
        response = send(viewer, method, url_for(rule, ids), bodies.get((rule, method), {}))
        assert response.status_code == 403, (method, rule, response.get_json())
    for rule, method, _arguments in api_routes(app):
        if method == "GET" and not rule.startswith(ADMIN_ONLY_PREFIX):
            expected = 403 if rule.startswith(PARTNER_PREFIX) else 200
            assert send(viewer, "GET", url_for(rule, ids)).status_code == expected, rule
    assert snapshot(operator) == before


def test_mall_token_may_only_push_its_catalog(app, world, tenants, mall):
    ids = member_ids(world, tenants["hanbit"])
    for rule, method, _arguments in api_routes(app):
        if method not in WRITE_METHODS:
            continue
        response = send(mall, method, url_for(rule, ids), {"items": []} if
                        rule == "/api/v1/catalog/push" else {})
        expected = 200 if rule == "/api/v1/catalog/push" else 403
        assert response.status_code == expected, (method, rule, response.get_json())


def test_every_route_needs_a_valid_token(app, world, tenants):
    ids = member_ids(world, tenants["hanbit"])
    revoked = make_token(app, "operator", "hanbit")
    with session_scope(app.extensions["gudok"].session_factory) as session:
        row = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(revoked)))
        revoke_token(session, row.id)
    for token in (None, "gdk_not-a-token", revoked):
        api = ApiClient(app.test_client(), token)
        for rule, method, _arguments in api_routes(app):
            response = send(api, method, url_for(rule, ids), {})
            assert response.status_code == 401, (token, method, rule)
            assert response.headers["WWW-Authenticate"].startswith("Bearer")


# A tenant's statements and reports: an admin names the tenant (400 without it).
ADMIN_NAMES_TENANT = {"/api/v1/statements", "/api/v1/statements/periods",
                      "/api/v1/statements/public-funds"}


def test_admin_reaches_every_tenant(app, world, tenants, admin):
    ids = member_ids(world, tenants["hanbit"])
    for rule, method, _arguments in api_routes(app):
        if method == "GET":
            expected = 403 if rule.startswith(PARTNER_PREFIX) else 200
            url = url_for(rule, ids)
            if rule in ADMIN_NAMES_TENANT:
                assert send(admin, "GET", url).status_code == 400, rule
                url += "?tenant=hanbit"
            assert send(admin, "GET", url).status_code == expected, rule
    listed = admin.get("/api/v1/merchants?tenant=dasol").get_json()["data"]
    assert listed == []
    listed = admin.get("/api/v1/merchants?tenant=hanbit").get_json()["data"]
    assert [m["id"] for m in listed] == [world["merchant"]["id"]]
