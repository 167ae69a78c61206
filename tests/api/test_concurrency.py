"""The same catalog push sent many times at once: nothing is created twice, nothing fails."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from hub.db import session_scope
from hub.models import AuditEntry, Box, BoxVersion, Item
from tests.conftest import ApiClient
from tests.factories import merchant_body

SENDERS = 12


def test_simultaneous_identical_pushes_create_each_record_once(app, operator, mall):
    merchant = operator.post("/api/v1/merchants", json=merchant_body(7)).get_json()
    body = {
        "items": [{"sku": f"RACE-{n}", "merchant_business_number": merchant["business_number"],
                   "name": f"경쟁 {n}", "list_price": 1000 * n} for n in range(1, 4)],
        "boxes": [{"code": "RACE-BOX", "title": "동시 꾸러미", "status": "active",
                   "components": [{"sku": "RACE-1", "quantity": 1, "weight": 1},
                                  {"sku": "RACE-2", "quantity": 1, "weight": 2}]}],
    }

    def push(_n: int):
        client = ApiClient(app.test_client(), mall.token)
        return client.post("/api/v1/catalog/push", json=body)

    with ThreadPoolExecutor(max_workers=SENDERS) as pool:
        responses = list(pool.map(push, range(SENDERS)))

    assert [r.status_code for r in responses] == [200] * SENDERS
    statuses: dict[str, list[str]] = {}
    for response in responses:
        for result in response.get_json()["results"]:
            statuses.setdefault(result["key"], []).append(result["status"])
    for key, seen in statuses.items():
        assert seen.count("created") == 1, (key, seen)
        assert set(seen) <= {"created", "unchanged", "updated"}, (key, seen)
    with session_scope(app.extensions["gudok"].session_factory) as session:
        assert session.scalar(select(func.count()).select_from(Item)) == 3
        assert session.scalar(select(func.count()).select_from(Box)) == 1
        assert session.scalar(select(func.count()).select_from(BoxVersion)) == 1
        created = session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "push.created"))
        assert created == 4
