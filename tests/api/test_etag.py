"""ETag and If-Match: no write silently overwrites another one."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import create_catalog, merchant_body, problem

# (collection in the catalog, field changed by a PATCH, first value, second value)
RESOURCES = [
    ("merchant", "merchants", "name", "한빛농원 본점", "한빛농원 분점"),
    ("items", "items", "list_price", 11000, 12000),
    ("box", "boxes", "title", "봄 꾸러미", "여름 꾸러미"),
    ("plan", "plans", "round_price", 44000, 43000),
    ("location", "stock-locations", "name", "북부 센터", "남부 센터"),
    ("connection", "connections", "name", "한빛몰 운영", "한빛몰 시험"),
]


@pytest.fixture
def catalog(operator) -> dict[str, Any]:
    return create_catalog(operator)


def _path(catalog: dict[str, Any], key: str, collection: str) -> str:
    row = catalog[key][0] if isinstance(catalog[key], list) else catalog[key]
    return f"/api/v1/{collection}/{row['id']}"


def test_create_and_get_return_the_same_etag(operator):
    created = operator.post("/api/v1/merchants", json=merchant_body(1))
    assert created.status_code == 201 and created.headers["ETag"]
    fetched = operator.get(f"/api/v1/merchants/{created.get_json()['id']}")
    assert fetched.headers["ETag"] == created.headers["ETag"]
    assert fetched.headers["ETag"].startswith('"') and fetched.headers["ETag"].endswith('"')


@pytest.mark.parametrize(("key", "collection", "field", "first", "second"), RESOURCES,
                         ids=[r[1] for r in RESOURCES])
def test_a_patch_with_a_stale_etag_is_refused(operator, catalog, key, collection, field,
                                              first, second):
    path = _path(catalog, key, collection)
    read = operator.get(path)
    etag = read.headers["ETag"]
    assert etag

    patched = operator.patch(path, json={field: first}, headers={"If-Match": etag})
    assert patched.status_code == 200
    new_etag = patched.headers["ETag"]
    assert new_etag and new_etag != etag
    assert operator.get(path).headers["ETag"] == new_etag
    after_first = operator.get(path).get_json()
    assert after_first[field] == first

    stale = operator.patch(path, json={field: second}, headers={"If-Match": etag})
    problem(stale, 412)
    assert stale.headers["ETag"] == new_etag  # tells the caller what is current
    assert operator.get(path).get_json() == after_first
    assert operator.get(path).headers["ETag"] == new_etag

    retried = operator.patch(path, json={field: second}, headers={"If-Match": new_etag})
    assert retried.status_code == 200 and retried.get_json()[field] == second


def test_a_patch_that_changes_nothing_keeps_the_etag(operator, catalog):
    path = _path(catalog, "merchant", "merchants")
    read = operator.get(path)
    same = operator.patch(path, json={"name": read.get_json()["name"]},
                          headers={"If-Match": read.headers["ETag"]})
    assert same.status_code == 200 and same.headers["ETag"] == read.headers["ETag"]


def test_changing_box_components_changes_its_etag(operator, catalog):
    path = _path(catalog, "box", "boxes")
    etag = operator.get(path).headers["ETag"]
    components = [{"item_id": catalog["items"][0]["id"], "quantity": 3, "weight": 1}]
    patched = operator.patch(path, json={"components": components}, headers={"If-Match": etag})
    assert patched.status_code == 200 and patched.headers["ETag"] != etag
    problem(operator.patch(path, json={"components": components[:1] + [
        {"item_id": catalog["items"][1]["id"], "quantity": 1, "weight": 1}]},
        headers={"If-Match": etag}), 412)
    assert operator.get(path).get_json()["current_version"] == 2
    assert len(operator.get(f"{path}/versions").get_json()) == 2


def test_a_delete_with_a_stale_etag_is_refused(operator, catalog):
    path = _path(catalog, "location", "stock-locations")
    etag = operator.get(path).headers["ETag"]
    operator.patch(path, json={"name": "이전한 센터"})

    problem(operator.delete(path, headers={"If-Match": etag}), 412)
    assert operator.get(path).get_json()["name"] == "이전한 센터"

    # The level holding 40 units blocks the delete; empty it first.
    operator.put("/api/v1/stock-levels", json={"item_id": catalog["items"][0]["id"],
                                               "location_id": catalog["location"]["id"],
                                               "on_hand": 0})
    current = operator.get(path).headers["ETag"]
    assert operator.delete(path, headers={"If-Match": current}).status_code == 204
    problem(operator.get(path), 404)


def test_a_binding_unlink_with_a_stale_etag_is_refused(operator, catalog):
    path = f"/api/v1/bindings/{catalog['binding']['id']}"
    problem(operator.delete(path, headers={"If-Match": '"v999"'}), 412)
    assert operator.get(path).status_code == 200
    etag = operator.get(path).headers["ETag"]
    assert operator.delete(path, headers={"If-Match": etag}).status_code == 204


def test_if_match_star_matches_any_version(operator, catalog):
    path = _path(catalog, "merchant", "merchants")
    operator.patch(path, json={"name": "바뀐 이름"})
    starred = operator.patch(path, json={"name": "별표"}, headers={"If-Match": "*"})
    assert starred.status_code == 200 and starred.get_json()["name"] == "별표"

    plan = _path(catalog, "plan", "plans")
    assert operator.delete(plan, headers={"If-Match": "*"}).status_code == 204
    problem(operator.get(plan), 404)


def test_if_match_may_list_several_etags(operator, catalog):
    path = _path(catalog, "merchant", "merchants")
    etag = operator.get(path).headers["ETag"]
    both = operator.patch(path, json={"name": "목록"}, headers={"If-Match": f'"v999", {etag}'})
    assert both.status_code == 200
    problem(operator.patch(path, json={"name": "다시"},
                           headers={"If-Match": f'"v999", {etag}'}), 412)


def test_writes_without_if_match_are_not_blocked(operator, catalog):
    path = _path(catalog, "merchant", "merchants")
    assert operator.patch(path, json={"name": "조건 없음"}).status_code == 200
    assert operator.patch(path, json={"name": "또 조건 없음"}).status_code == 200
    assert operator.get(path).get_json()["name"] == "또 조건 없음"


def test_an_etag_of_another_row_does_not_match(operator, catalog):
    other = operator.post("/api/v1/merchants", json=merchant_body(2))
    operator.patch(f"/api/v1/merchants/{other.get_json()['id']}", json={"name": "둘째"})
    other_etag = operator.get(f"/api/v1/merchants/{other.get_json()['id']}").headers["ETag"]
    path = _path(catalog, "merchant", "merchants")
    assert operator.get(path).headers["ETag"] != other_etag
    problem(operator.patch(path, json={"name": "남의 태그"}, headers={"If-Match": other_etag}),
            412)


def test_a_weak_etag_never_matches_if_match(operator):
    """If-Match compares strongly (RFC 9110): W/"v1" is not a licence to overwrite."""
    created = operator.post("/api/v1/merchants", json=merchant_body(3))
    path = f"/api/v1/merchants/{created.get_json()['id']}"
    weak = "W/" + created.headers["ETag"]
    problem(operator.patch(path, json={"name": "약한 태그"}, headers={"If-Match": weak}), 412)
    assert operator.get(path).get_json()["name"] == created.get_json()["name"]
