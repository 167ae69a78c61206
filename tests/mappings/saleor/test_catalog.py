"""Box listings as Saleor product inputs (valid for the real input types), and mall
products back as catalog import records."""

from __future__ import annotations

import json

import graphql
import pytest
from graphql.utilities import coerce_input_value

from hub.errors import RecordError
from mappings.saleor import catalog as m
from tests.connectors.saleor.saleor_fakes import saleor_schema
from tests.mappings.saleor.samples import LISTING, PRODUCT, listing, product

CHANNEL = "Q2hhbm5lbDox"


def coerce(value: object, type_text: str) -> object:
    """Coerce a variable value to a type of the Saleor schema; raises if it does not fit."""
    input_type = graphql.type_from_ast(saleor_schema(), graphql.parse_type(type_text))
    assert input_type is not None
    return coerce_input_value(value, input_type)  # type: ignore[arg-type]


def test_create_inputs_fit_saleors_input_types() -> None:
    loaded = m.load_listing(LISTING)
    coerce(m.product_create_input(loaded, "UHJvZHVjdFR5cGU6Mg==", "Q2F0ZWdvcnk6Mw=="),
           "ProductCreateInput!")
    coerce(m.product_fields(loaded, None), "ProductInput!")
    coerce(m.product_listing_input(loaded, CHANNEL), "ProductChannelListingUpdateInput!")
    for plan in loaded["plans"]:
        coerce(m.variant_create_input(loaded, plan, CHANNEL), "ProductVariantBulkCreateInput!")
        coerce(m.variant_update_input(loaded, plan), "ProductVariantInput!")
        coerce(m.variant_listing_input(plan, CHANNEL),
               "[ProductVariantChannelListingAddInput!]!")
        coerce(m.metadata_input(m.variant_metadata(loaded, plan)), "[MetadataInput!]!")
    coerce(m.metadata_input(m.product_metadata(loaded)), "[MetadataInput!]!")
    with pytest.raises(graphql.GraphQLError):
        coerce({"name": "x"}, "ProductCreateInput!")  # the check itself bites


def test_product_carries_hub_ids_and_cross_listing_links_in_metadata() -> None:
    meta = m.product_metadata(m.load_listing(LISTING))
    assert meta["gudok.box_id"] == "11" and meta["gudok.tenant"] == "1"
    assert meta["gudok.box_code"] == "seasonal.box"
    assert json.loads(meta["gudok.links"]) == [
        {"platform": "naver", "url": "https://smartstore.naver.com/hanbit/products/9001"}]
    created = m.product_create_input(m.load_listing(LISTING), "T", None)
    assert {i["key"]: i["value"] for i in created["metadata"]} == meta
    assert created["slug"] == "gudok-1-seasonal-box"
    assert created["externalReference"] == "gudok:1:box:11"
    assert "category" not in created


def test_plans_become_variants_priced_for_their_prepaid_rounds() -> None:
    loaded = m.load_listing(LISTING)
    monthly, weekly = loaded["plans"]
    created = m.variant_create_input(loaded, monthly, CHANNEL)
    assert created["sku"] == "gudok-1-monthly-3"
    assert created["channelListings"] == [{"channelId": CHANNEL, "price": 117000}]
    assert created["attributes"] == [] and created["trackInventory"] is True
    meta = {i["key"]: i["value"] for i in created["metadata"]}
    assert meta["gudok.plan_id"] == "21" and meta["gudok.cadence"] == "monthly"
    assert meta["gudok.term_rounds"] == ""
    assert m.variant_metadata(loaded, weekly)["gudok.term_rounds"] == "12"
    assert m.variant_price(weekly) == 15000


def test_description_is_escaped_editorjs_and_reads_back() -> None:
    text = m.description_json(LISTING["description"])
    assert text is not None
    blocks = json.loads(text)["blocks"]
    assert [b["data"]["text"] for b in blocks] == ["제철 채소와 &lt;로컬&gt; 가공품.",
                                                   "매달 한 번."]
    assert m.description_text(text) == LISTING["description"]
    assert m.description_json(None) is None and m.description_text("not json") is None


@pytest.mark.parametrize(("status", "published", "buyable"), [
    ("active", True, True), ("paused", True, False), ("draft", False, False),
    ("retired", False, False)])
def test_box_status_decides_publication(status: str, published: bool, buyable: bool) -> None:
    entry = m.product_listing_input(m.load_listing(listing(status=status)),
                                    CHANNEL)["updateChannels"][0]
    assert (entry["isPublished"], entry["isAvailableForPurchase"]) == (published, buyable)


def test_an_invalid_listing_is_a_record_error() -> None:
    with pytest.raises(RecordError):
        m.load_listing(listing(available=-1))
    with pytest.raises(RecordError):
        m.load_listing(listing(plans=[{"plan_id": 1}]))


def test_a_mall_product_imports_as_catalog_push_records() -> None:
    record = m.import_record(PRODUCT, channel_slug="default-channel")
    assert record["external_id"] == PRODUCT["id"]
    assert record["box_id"] is None  # a mall-origin product, not one the hub pushed
    assert record["box"] == {
        "code": "hanbit-seasonal", "title": "한빛 제철 꾸러미",
        "description": "제철 & 로컬\n\n둘째\n줄",
        "images": ["https://mall.hanbit.example.kr/media/box.jpg"],
        "category": "produce", "status": "active"}
    assert record["plans"] == [{"box_code": "hanbit-seasonal", "code": "monthly-3",
                                "name": "월간 3회", "cadence": "monthly",
                                "prepaid_rounds": 3, "round_price": 39000}]
    assert record["variants"] == {"monthly-3": "UHJvZHVjdFZhcmlhbnQ6MTA="}


def test_a_pushed_box_reads_back_as_itself() -> None:
    loaded = m.load_listing(LISTING)
    plan = loaded["plans"][0]
    variant = {"id": "V1", "name": plan["name"], "sku": m.variant_sku(loaded, plan),
               "metadata": m.metadata_input(m.variant_metadata(loaded, plan)),
               "channelListings": [{"channel": {"id": CHANNEL, "slug": "default-channel"},
                                    "price": {"amount": 117000.0, "currency": "KRW"}}]}
    mall_product = product(slug=m.product_slug(loaded),
                           metadata=m.metadata_input(m.product_metadata(loaded)),
                           productVariants={"edges": [{"node": variant}]},
                           description=m.description_json(loaded["description"]))
    record = m.import_record(mall_product, channel_slug="default-channel")
    assert record["box_id"] == 11
    assert record["box"]["code"] == "seasonal.box"
    assert record["box"]["description"] == loaded["description"]
    assert record["plans"][0]["code"] == "monthly-3"
    assert record["plans"][0]["round_price"] == 39000


@pytest.mark.parametrize(("variant_changes", "message"), [
    ({"metadata": []}, "gudok.cadence"),
    ({"channelListings": []}, "no price"),
    ({"channelListings": [{"channel": {"slug": "default-channel"},
                           "price": {"amount": 100000.0, "currency": "KRW"}}]}, "whole rounds"),
    ({"channelListings": [{"channel": {"slug": "default-channel"},
                           "price": {"amount": 117000.5, "currency": "KRW"}}]}, "whole number"),
    ({"sku": "has space", "metadata": [{"key": "gudok.cadence", "value": "monthly"}]},
     "plan code"),
])
def test_unimportable_variants_are_record_errors(variant_changes: dict, message: str) -> None:
    node = {**PRODUCT["productVariants"]["edges"][0]["node"], **variant_changes}
    with pytest.raises(RecordError, match=message):
        m.import_record(product(productVariants={"edges": [{"node": node}]}),
                        channel_slug="default-channel")


def test_import_status_follows_the_channel_listing() -> None:
    unpublished = product(channelListings=[{"channel": {"slug": "default-channel"},
                                            "isPublished": False}])
    assert m.import_record(unpublished, channel_slug="default-channel")["box"]["status"] \
        == "draft"
    with pytest.raises(RecordError, match="box code"):
        m.import_record(product(slug="x" * 80), channel_slug="default-channel")
