"""The Partner API: partner tokens, offerings, the feed and its cursor, and reported links."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import delete, func, select, update

from hub.db import session_scope, utcnow
from hub.models import AuditEntry, Binding, CatalogChange
from hub.services.tokens import TokenError, create_token
from tests.api.test_isolation import (
    PARTNER_PREFIX,
    add_partner_product,
    api_routes,
    member_ids,
    send,
    url_for,
)
from tests.conftest import ApiClient
from tests.factories import create_catalog, error_paths, problem

OFFERED = 5


def partner_connection(api: ApiClient, name: str) -> dict[str, Any]:
    response = api.post("/api/v1/connections", json={
        "connector": "partner", "name": name, "config": {"platform_name": name}})
    assert response.status_code == 201, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def partner_client(app: Flask, tenant: str, connection_id: int) -> ApiClient:
    with session_scope(app.extensions["gudok"].session_factory) as session:
        _row, token = create_token(session, "partner", tenant, "test partner", connection_id)
    return ApiClient(app.test_client(), token)


def add_box(api: ApiClient, code: str, item_id: int) -> dict[str, Any]:
    response = api.post("/api/v1/boxes", json={
        "code": code, "title": f"꾸러미 {code}", "status": "active", "capacity_per_round": 10,
        "components": [{"item_id": item_id, "quantity": 1, "weight": 1}]})
    assert response.status_code == 201, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def offer(api: ApiClient, connection_id: int, box_ids: list[int]) -> Any:
    return api.put(f"/api/v1/connections/{connection_id}/offerings", json={"box_ids": box_ids})


@pytest.fixture
def gap(app: Flask, tenants: dict[str, int]) -> int:
    """A change id nobody will ever see: allocated and rolled back before anything else, as
    by a transaction that has not committed yet."""
    with session_scope(app.extensions["gudok"].session_factory) as session:
        row = CatalogChange(tenant_id=tenants["hanbit"], box_id=0)
        session.add(row)
        session.flush()
        change_id = row.id
        session.execute(delete(CatalogChange).where(CatalogChange.id == change_id))
    return change_id


@pytest.fixture
def shop(app: Flask, gap: int, operator: ApiClient,
         other_operator: ApiClient) -> dict[str, Any]:
    """hanbit: OFFERED boxes offered to platforms A and B, one box offered to nobody; dasol:
    a box offered to its own platform."""
    world = add_partner_product(app, create_catalog(operator))
    item = world["items"][0]["id"]
    boxes = [world["box"]] + [add_box(operator, f"FEED-{n}", item) for n in range(OFFERED - 1)]
    hidden = add_box(operator, "HIDDEN", item)
    a, b = partner_connection(operator, "플랫폼A"), partner_connection(operator, "플랫폼B")
    ids = [box["id"] for box in boxes]
    assert offer(operator, a["id"], ids).status_code == 200
    assert offer(operator, b["id"], ids).status_code == 200
    other = create_catalog(other_operator, seed=2)
    c = partner_connection(other_operator, "플랫폼C")
    assert offer(other_operator, c["id"], [other["box"]["id"]]).status_code == 200
    return {"world": world, "boxes": boxes, "hidden": hidden, "gap": gap,
            "a": partner_client(app, "hanbit", a["id"]), "a_id": a["id"],
            "b": partner_client(app, "hanbit", b["id"]), "b_id": b["id"],
            "c": partner_client(app, "dasol", c["id"]), "other": other}


def read(api: ApiClient, cursor: str | None = None, limit: int = 100) -> dict[str, Any]:
    query = f"?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
    response = api.get(f"/api/v1/partner/feed{query}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def read_to_end(api: ApiClient, cursor: str | None = None,
                limit: int = 2) -> tuple[list[dict[str, Any]], str]:
    entries: list[dict[str, Any]] = []
    for _page in range(100):
        body = read(api, cursor, limit)
        assert len(body["data"]) <= limit
        page_boxes = [entry["box_id"] for entry in body["data"]]
        assert len(page_boxes) == len(set(page_boxes)), "a box twice on one page"
        changes = [entry["change_id"] for entry in body["data"]]
        assert changes == sorted(changes)
        entries += body["data"]
        cursor = body["next_cursor"]
        if not body["has_more"]:
            assert cursor
            return entries, cursor
    raise AssertionError("the feed never ended")


def decoded(cursor: str) -> dict[str, Any]:
    return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))  # type: ignore[no-any-return]


def test_paging_to_the_end_returns_every_offered_box_exactly_once(shop):
    for _ in range(3):  # many changes of one box still make one entry
        shop["a"].get("/api/v1/partner/feed")
    entries, cursor = read_to_end(shop["a"], limit=2)
    ids = [entry["box_id"] for entry in entries]
    assert sorted(ids) == sorted(box["id"] for box in shop["boxes"])
    first = entries[0]
    assert first["offered"] is True and first["plans"] and "available" in first
    assert {"links", "title", "code", "external_id"} <= set(first)
    assert read(shop["a"], cursor)["data"] == []  # nothing changed since
    assert shop["hidden"]["id"] not in ids


def test_a_change_committed_late_below_ids_already_read_appears_on_a_later_page(app, shop):
    entries, cursor = read_to_end(shop["a"], limit=3)
    assert min(e["change_id"] for e in entries) > shop["gap"]
    box = shop["boxes"][2]
    # The late transaction commits now, with the id it took before those already read.
    with session_scope(app.extensions["gudok"].session_factory) as session:
        session.add(CatalogChange(id=shop["gap"], tenant_id=box["tenant_id"],
                                  box_id=box["id"], created_at=utcnow()))
    late = read(shop["a"], cursor)
    assert [(e["box_id"], e["change_id"]) for e in late["data"]] == [(box["id"], shop["gap"])]
    assert read(shop["a"], late["next_cursor"])["data"] == []


def test_the_watermark_passes_changes_older_than_the_overlap(app, shop):
    with session_scope(app.extensions["gudok"].session_factory) as session:
        session.execute(update(CatalogChange).values(
            created_at=utcnow() - timedelta(hours=1)))
        newest = session.scalar(select(func.max(CatalogChange.id)).where(
            CatalogChange.tenant_id == shop["boxes"][0]["tenant_id"]))
    entries, cursor = read_to_end(shop["a"], limit=OFFERED)
    assert len(entries) == OFFERED
    assert decoded(cursor) == {"w": newest, "d": []}
    # a fresh change above the watermark is still delivered
    response = shop["b"].put(f"/api/v1/partner/listings/{shop['boxes'][0]['code']}",
                             json={"external_id": "B-1", "url": "https://b.example.kr/1"})
    assert response.status_code == 200
    assert [e["box_id"] for e in read(shop["a"], cursor)["data"]] == [shop["boxes"][0]["id"]]


def test_a_withdrawn_box_appears_once_as_not_offered(shop, operator):
    _entries, cursor = read_to_end(shop["a"])
    _entries, b_cursor = read_to_end(shop["b"])
    gone = shop["boxes"][1]
    kept = [box["id"] for box in shop["boxes"] if box["id"] != gone["id"]]
    assert offer(operator, shop["a_id"], kept).status_code == 200
    body = read(shop["a"], cursor)
    assert [(e["box_id"], e["code"], e["offered"]) for e in body["data"]] == \
        [(gone["id"], gone["code"], False)]
    assert read(shop["a"], body["next_cursor"])["data"] == []
    # B still carries it; a box offered to nobody never appears anywhere
    assert read(shop["b"], b_cursor)["data"] == []
    assert operator.patch(f"/api/v1/boxes/{shop['hidden']['id']}",
                          json={"title": "바뀐 제목"}).status_code == 200
    assert read(shop["a"], body["next_cursor"])["data"] == []


def test_changes_to_plans_stock_and_boxes_reach_the_feed(shop, operator):
    _entries, cursor = read_to_end(shop["b"])
    world = shop["world"]
    assert operator.patch(f"/api/v1/plans/{world['plan']['id']}",
                          json={"round_price": 47000}).status_code == 200
    body = read(shop["b"], cursor)
    assert [(e["box_id"], e["plans"][0]["round_price"]) for e in body["data"]] == \
        [(world["box"]["id"], 47000)]
    assert operator.put("/api/v1/stock-levels", json={
        "item_id": world["items"][0]["id"], "location_id": world["location"]["id"],
        "on_hand": 3}).status_code in (200, 201)
    stocked = read(shop["b"], body["next_cursor"])["data"]
    assert sorted(e["box_id"] for e in stocked) == sorted(b["id"] for b in shop["boxes"])


def test_a_link_reported_by_one_platform_shows_in_the_others_feed(shop):
    _entries, cursor = read_to_end(shop["b"])
    box = shop["boxes"][3]
    response = shop["a"].put(f"/api/v1/partner/listings/{box['code']}",
                             json={"external_id": "A-77", "url": "https://a.example.kr/p/77"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["connection_id"] == shop["a_id"]
    body = read(shop["b"], cursor)
    assert [e["box_id"] for e in body["data"]] == [box["id"]]
    assert {"connection_id": shop["a_id"], "platform": "플랫폼A", "external_id": "A-77",
            "url": "https://a.example.kr/p/77"} in body["data"][0]["links"]
    # reporting again is a no-op; the same product id for another box conflicts
    again = shop["a"].put(f"/api/v1/partner/listings/{box['code']}",
                          json={"external_id": "A-77", "url": "https://a.example.kr/p/77"})
    assert again.status_code == 200
    problem(shop["a"].put(f"/api/v1/partner/listings/{shop['boxes'][0]['code']}",
                          json={"external_id": "A-77", "url": "https://a.example.kr/x"}), 409)
    problem(shop["a"].put(f"/api/v1/partner/listings/{shop['hidden']['code']}",
                          json={"external_id": "A-78", "url": "https://a.example.kr/y"}), 404)
    assert error_paths(shop["a"].put(f"/api/v1/partner/listings/{box['code']}",
                                     json={"external_id": "A-79"})) == ["url"]


def test_partner_tokens_reach_only_their_platform(app, shop, tenants):
    ids = member_ids(shop["world"], tenants["hanbit"])
    for rule, method, _arguments in api_routes(app):
        if rule.startswith(PARTNER_PREFIX):
            continue
        response = send(shop["a"], method, url_for(rule, ids), {})
        assert response.status_code == 403, (method, rule, response.get_json())
    # another tenant's platform sees only its own boxes and cannot link hanbit's
    entries, _cursor = read_to_end(shop["c"])
    assert [e["box_id"] for e in entries] == [shop["other"]["box"]["id"]]
    problem(shop["c"].put(f"/api/v1/partner/listings/{shop['boxes'][0]['code']}",
                          json={"external_id": "C-1", "url": "https://c.example.kr/1"}), 404)
    error_paths(shop["a"].get("/api/v1/partner/feed?cursor=bm9wZQ"))


def test_partner_tokens_need_a_partner_connection_of_their_tenant(app, shop):
    factory = app.extensions["gudok"].session_factory
    mall_connection = shop["world"]["connection"]["id"]
    for role, tenant, connection_id in (("partner", "hanbit", None),
                                        ("partner", "hanbit", mall_connection),
                                        ("partner", "dasol", shop["a_id"]),
                                        ("operator", "hanbit", shop["a_id"])):
        with session_scope(factory) as session, pytest.raises(TokenError):
            create_token(session, role, tenant, None, connection_id)


def test_offerings_are_replaced_checked_and_audited(app, shop, operator):
    url = f"/api/v1/connections/{shop['a_id']}/offerings"
    assert operator.get(url).get_json()["box_ids"] == sorted(b["id"] for b in shop["boxes"])
    foreign = shop["other"]["box"]["id"]
    assert error_paths(offer(operator, shop["a_id"], [shop["boxes"][0]["id"], foreign])) == \
        ["box_ids[1]"]
    with session_scope(app.extensions["gudok"].session_factory) as session:
        audits = session.scalar(select(func.count()).select_from(AuditEntry)
                                .where(AuditEntry.entity_type == "offering"))
    body = offer(operator, shop["a_id"], [shop["hidden"]["id"]]).get_json()
    assert body == {"connection_id": shop["a_id"], "box_ids": [shop["hidden"]["id"]]}
    with session_scope(app.extensions["gudok"].session_factory) as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)
                              .where(AuditEntry.entity_type == "offering")) == audits + 1


def test_the_partner_api_is_documented(app, admin):
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    feed = spec["paths"]["/api/v1/partner/feed"]["get"]
    assert feed["tags"] == ["Partner API"]
    assert "/api/v1/partner/listings/{box_code}" in spec["paths"]
    assert any(tag["name"] == "Partner API" for tag in spec["tags"])


def test_a_disabled_connection_cannot_read_but_a_paused_one_can(shop, operator):
    """Paused only stops the hub's notifications; disabled shuts the platform out."""
    operator.patch(f"/api/v1/connections/{shop['a_id']}", json={"status": "paused"})
    assert shop["a"].get("/api/v1/partner/feed").status_code == 200
    operator.patch(f"/api/v1/connections/{shop['a_id']}", json={"status": "disabled"})
    problem(shop["a"].get("/api/v1/partner/feed"), 403)
    problem(shop["a"].put(f"/api/v1/partner/listings/{shop['boxes'][0]['code']}",
                          json={"external_id": "A-1", "url": "https://a.example.kr/1"}), 403)


def test_a_stored_link_no_one_can_follow_is_left_out_not_a_500(app, shop):
    """A connector once stored a malformed URL (host and path run together): the feed still
    answers, without that link."""
    box = shop["boxes"][0]
    with session_scope(app.extensions["gudok"].session_factory) as session:
        session.execute(update(Binding).where(
            Binding.entity_type == "box", Binding.internal_id == box["id"]).values(
                url="http://127.0.0.1:9products/x"))
    entries, _cursor = read_to_end(shop["b"])
    [entry] = [e for e in entries if e["box_id"] == box["id"]]
    assert entry["links"] == []
