"""Schema truth: every GraphQL document the Saleor connector can send, and every
subscription query of its app manifest, validates against the real Saleor 3.23 schema."""

from __future__ import annotations

import ast
from pathlib import Path

import graphql
import pytest
from graphql.validation import NoDeprecatedCustomRule, specified_rules

import connectors.saleor as saleor_package
from connectors.saleor import documents
from connectors.saleor.client import SaleorClient, UnknownDocument
from connectors.saleor.documents import ALL_DOCUMENTS, WEBHOOK_SUBSCRIPTIONS
from connectors.saleor.manifest import app_manifest
from tests.connectors.saleor.saleor_fakes import API_URL, StandInTransport, saleor_schema

PACKAGE = Path(saleor_package.__file__).parent
# Modules of the connector itself; the sandbox (another part) plays the mall, not the hub.
CONNECTOR_MODULES = sorted(p for p in PACKAGE.glob("*.py") if not p.name.startswith("sandbox"))
# Deprecated, but the arguments the hub relies on; `where` needs a newer mall.
ACCEPTED_DEPRECATIONS = {
    ("ORDERS_PAGE", "Field 'Query.orders' argument 'filter' is deprecated."),
    ("PRODUCTS_PAGE", "Field 'Query.products' argument 'filter' is deprecated."),
}


@pytest.mark.parametrize("name", sorted(ALL_DOCUMENTS))
def test_every_document_validates_against_the_saleor_schema(name: str) -> None:
    document = graphql.parse(ALL_DOCUMENTS[name])
    assert graphql.validate(saleor_schema(), document) == []
    operations = [d for d in document.definitions
                  if isinstance(d, graphql.OperationDefinitionNode)]
    assert len(operations) == 1 and operations[0].name is not None, \
        "one named operation per document"


def test_no_deprecated_field_is_used_beyond_the_accepted_ones() -> None:
    rules = [*specified_rules, NoDeprecatedCustomRule]
    found = set()
    for name, text in ALL_DOCUMENTS.items():
        for error in graphql.validate(saleor_schema(), graphql.parse(text), rules):
            found.add((name, error.message.split(" Use ")[0]))
    assert found <= ACCEPTED_DEPRECATIONS


def test_collection_holds_every_document_constant_and_names_are_unique() -> None:
    constants = {name for name in vars(documents) if name.isupper()
                 and not name.startswith("_") and isinstance(getattr(documents, name), str)}
    assert set(ALL_DOCUMENTS) == constants
    names = [graphql.parse(text).definitions[0].name.value  # type: ignore[attr-defined]
             for text in ALL_DOCUMENTS.values()]
    assert len(names) == len(set(names))
    subscriptions = {text for _enum, text in WEBHOOK_SUBSCRIPTIONS.values()}
    assert subscriptions <= set(ALL_DOCUMENTS.values())


def _string_constants(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)]


def test_no_connector_module_carries_a_graphql_document_outside_the_collection() -> None:
    """Any string literal that reads as a GraphQL operation or fragment lives in
    documents.py, so ALL_DOCUMENTS really is everything the connector can send."""
    for path in CONNECTOR_MODULES:
        if path.name == "documents.py":
            continue
        for text in _string_constants(path):
            stripped = text.lstrip()
            if stripped.startswith(("query", "mutation", "subscription", "fragment")):
                try:
                    graphql.parse(text)
                except graphql.GraphQLError:
                    continue
                pytest.fail(f"{path.name} holds a GraphQL document: {stripped[:60]!r}")


def test_every_document_is_used_by_the_connector() -> None:
    sources = "\n".join(p.read_text(encoding="utf-8") for p in CONNECTOR_MODULES
                        if p.name != "documents.py")
    unused = [name for name in ALL_DOCUMENTS
              if not name.startswith("SUB_") and f"doc.{name}" not in sources]
    assert unused == []


def test_the_client_refuses_a_document_not_in_the_collection() -> None:
    client = SaleorClient(StandInTransport(), API_URL, "token")
    with pytest.raises(UnknownDocument):
        client.execute("query Sneaky { shop { name } }")
    # Even a valid variation of a known document is refused: only the exact text is known.
    with pytest.raises(UnknownDocument):
        client.execute(documents.SHOP_INFO + " ")


def test_manifest_subscription_queries_validate_and_cover_the_required_events() -> None:
    manifest = app_manifest(5, "https://hub.example.kr/")
    events = {event for hook in manifest["webhooks"] for event in hook["asyncEvents"]}
    assert events == {"PRODUCT_CREATED", "PRODUCT_UPDATED", "PRODUCT_DELETED",
                      "PRODUCT_VARIANT_STOCK_UPDATED", "ORDER_CREATED", "ORDER_UPDATED",
                      "ORDER_FULLY_PAID", "ORDER_CANCELLED", "ORDER_FULLY_REFUNDED",
                      "FULFILLMENT_CREATED"}
    async_enum = saleor_schema().type_map["WebhookEventTypeAsyncEnum"]
    for hook in manifest["webhooks"]:
        assert set(hook["asyncEvents"]) <= set(async_enum.values)  # type: ignore[attr-defined]
        document = graphql.parse(hook["query"])
        assert graphql.validate(saleor_schema(), document) == []
        assert document.definitions[0].operation == graphql.OperationType.SUBSCRIPTION  # type: ignore[attr-defined]
    permissions = saleor_schema().type_map["PermissionEnum"]
    assert set(manifest["permissions"]) <= set(permissions.values)  # type: ignore[attr-defined]


def test_the_documents_count() -> None:
    """The closing note of the issue reports this number."""
    assert len(ALL_DOCUMENTS) == 32
