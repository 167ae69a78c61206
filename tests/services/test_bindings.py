"""The binder: upsert, lookups both ways, unbind, tombstones, SKU matching, no duplicates."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from hub.db import session_scope
from hub.models import Binding
from hub.services import bindings
from tests.factories import create_catalog, item_body


@pytest.fixture
def world(app, operator):
    catalog = create_catalog(operator)
    extra = operator.post("/api/v1/items", json=item_body(
        catalog["merchant"]["id"], sku="sku-1-1")).get_json()  # collides case-insensitively
    catalog["extra_item"] = extra
    return catalog


def session_of(app):
    return session_scope(app.extensions["gudok"].session_factory)


def count(app) -> int:
    with session_of(app) as session:
        return int(session.scalar(select(func.count()).select_from(Binding)))


def test_bind_is_an_upsert_and_lookups_go_both_ways(app, world):
    connection = world["connection"]["id"]
    box = world["box"]["id"]
    before = count(app)
    with session_of(app) as session:
        first = bindings.bind(session, connection, "plan", 7, "UHJvZHVjdFZhcmlhbnQ6MQ==",
                              "https://mall.example.kr/p/1")
        again = bindings.bind(session, connection, "plan", 7, "UHJvZHVjdFZhcmlhbnQ6MQ==")
        assert again.id == first.id and again.url == "https://mall.example.kr/p/1"
        moved = bindings.bind(session, connection, "plan", 7, "NEW-ID")
        assert moved.id == first.id
        assert bindings.to_external(session, connection, "plan", 7) == "NEW-ID"
        assert bindings.to_internal(session, connection, "plan", "NEW-ID") == 7
        assert bindings.to_internal(session, connection, "plan", "UHJvZHVjdFZhcmlhbnQ6MQ==") \
            is None
        assert bindings.to_external(session, connection, "box", box) == \
            world["binding"]["external_id"]
    assert count(app) == before + 1


def test_an_external_id_linked_to_another_row_is_a_conflict(app, world):
    connection = world["connection"]["id"]
    with session_of(app) as session:
        bindings.bind(session, connection, "plan", 1, "EXT")
        with pytest.raises(bindings.BindingConflict):
            bindings.bind(session, connection, "plan", 2, "EXT")


def test_a_tombstoned_record_comes_back_as_the_same_binding(app, world):
    connection = world["connection"]["id"]
    with session_of(app) as session:
        row = bindings.bind(session, connection, "item", 5, "P-5")
        bindings.tombstone(session, connection, "item", "P-5")
        assert bindings.to_internal(session, connection, "item", "P-5") is None
        assert bindings.to_external(session, connection, "item", 5) is None
        back = bindings.bind(session, connection, "item", 5, "P-5")
        assert back.id == row.id and back.status == "active"
        # A dead link of another row gives way to a live one.
        bindings.tombstone(session, connection, "item", "P-5")
        taken = bindings.bind(session, connection, "item", 6, "P-5")
        assert taken.internal_id == 6
        assert bindings.unbind(session, connection, "item", 6) is True
        assert bindings.unbind(session, connection, "item", 6) is False


def test_concurrent_binds_of_the_same_pair_make_one_row(app, world):
    connection = world["connection"]["id"]
    before = count(app)

    def bind_once(_n: int) -> int:
        with session_of(app) as session:
            return bindings.bind(session, connection, "item", 9, "RACE-9").id

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = set(pool.map(bind_once, range(16)))
    assert len(ids) == 1
    assert count(app) == before + 1


def test_sku_matching_leaves_ambiguity_to_a_person(app, world):
    connection = world["connection"]["id"]
    first, second = world["items"]
    with session_of(app) as session:
        bindings.bind(session, connection, "item", second["id"], "EXT-BOUND")
        found = bindings.match_items_by_sku(session, connection, [
            ("EXT-A", "SKU-1-1"),       # two items share it case-insensitively: ambiguous
            ("EXT-B", " sku-1-2 "),     # matches the second item, but it is carried twice
            ("EXT-C", "SKU-1-2"),
            ("EXT-D", "NO-SUCH-SKU"),
            ("EXT-E", None),
            ("EXT-BOUND", "SKU-1-2"),
        ], bind_matches=True)
    assert found.ambiguous == [("EXT-A", sorted([first["id"], world["extra_item"]["id"]])),
                               ("EXT-B", [second["id"]]), ("EXT-C", [second["id"]])]
    assert found.unmatched == ["EXT-D", "EXT-E"]
    assert found.already_bound == [("EXT-BOUND", second["id"])]
    assert found.matched == []


def test_an_unambiguous_sku_is_matched_and_bound(app, world):
    connection = world["connection"]["id"]
    second = world["items"][1]
    with session_of(app) as session:
        found = bindings.match_items_by_sku(session, connection, [("EXT-X", "sku-1-2")],
                                            bind_matches=True)
        assert found.matched == [("EXT-X", second["id"])]
        assert bindings.to_internal(session, connection, "item", "EXT-X") == second["id"]
