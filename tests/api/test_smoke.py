from __future__ import annotations

from tests.factories import create_catalog


def test_catalog_is_created_through_the_api(operator):
    catalog = create_catalog(operator)
    for name, value in catalog.items():
        for row in value if isinstance(value, list) else [value]:
            assert "id" in row, (name, row)
    assert catalog["box"]["current_version"] == 1
    assert [c["sku"] for c in catalog["box"]["components"]] == ["SKU-1-1", "SKU-1-2"]
    assert catalog["connection"]["config"]["app_token"] == "********"
    assert catalog["merchant"]["payout_account_last4"] == "0101"
