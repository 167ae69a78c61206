"""The GraphQL client: bearer token, failures classified, pagination bounded and checked."""

from __future__ import annotations

import json

import pytest
import responses

from connectors.saleor import documents as doc
from connectors.saleor.client import MAX_PAGE_SIZE, SaleorClient, read_connection
from hub.errors import ConfigurationError, RecordError, TransientError
from tests.connectors.saleor.saleor_fakes import API_URL, StandInTransport


def client() -> SaleorClient:
    return SaleorClient(StandInTransport(), API_URL, "tok-123456")


def answer(mock: responses.RequestsMock, body: object, status: int = 200) -> None:
    mock.add(responses.POST, API_URL, body=json.dumps(body), status=status,
             content_type="application/json")


@responses.activate
def test_sends_the_document_with_the_app_token() -> None:
    answer(responses.mock, {"data": {"shop": {"name": "한빛몰"}, "app": None}})
    data = client().execute(doc.SHOP_INFO)
    assert data["shop"]["name"] == "한빛몰"
    sent = responses.calls[0].request
    assert sent.headers["Authorization"] == "Bearer tok-123456"
    assert json.loads(sent.body) == {"query": doc.SHOP_INFO, "variables": {}}


@pytest.mark.parametrize(("error", "kind", "words"), [
    ({"message": "To access this path, you need one of the following permissions: "
                 "MANAGE_ORDERS", "extensions": {"exception": {"code": "PermissionDenied"}}},
     ConfigurationError, "permission"),
    ({"message": "denied", "extensions": {"code": "PERMISSION_DENIED"}},
     ConfigurationError, "permission"),
    ({"message": "Invalid token", "extensions": {"exception": {"code": "JSONWebTokenError"}}},
     ConfigurationError, "Re-install"),
    ({"message": "Cannot query field 'x'",
      "extensions": {"exception": {"code": "GraphQLError"}}}, RecordError, "refused"),
    ({"message": "Cannot query field 'x'", "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}},
     ConfigurationError, "Saleor"),
    ({"message": "boom", "extensions": {"code": "INTERNAL_SERVER_ERROR"}},
     TransientError, "failed"),
])
@responses.activate
def test_top_level_errors_are_classified(error: dict, kind: type, words: str) -> None:
    answer(responses.mock, {"data": None, "errors": [error]})
    with pytest.raises(kind) as raised:
        client().execute(doc.SHOP_INFO)
    failure = raised.value
    text = failure.message + getattr(failure, "fix", "")  # type: ignore[attr-defined]
    assert words in text


@responses.activate
def test_mutation_payload_errors_name_the_field() -> None:
    answer(responses.mock, {"data": {"productCreate": {"product": None, "errors": [
        {"field": "slug", "message": "Product with this Slug already exists.",
         "code": "UNIQUE"}]}}})
    with pytest.raises(RecordError, match=r"productCreate refused: slug: .*UNIQUE") as raised:
        client().mutate(doc.PRODUCT_CREATE, {"input": {}}, "productCreate", record="box 1")
    assert raised.value.record == "box 1"


@pytest.mark.parametrize("body", [
    "not json", "[1, 2]", '{"data": null}', '{"data": {"x": NaN}}', '{"errors": "bad"}',
    '{"data": {"productCreate": null}}',
])
@responses.activate
def test_malformed_answers_are_record_errors(body: str) -> None:
    responses.add(responses.POST, API_URL, body=body, content_type="application/json")
    with pytest.raises(RecordError):
        client().mutate(doc.PRODUCT_CREATE, {"input": {}}, "productCreate")


@responses.activate
def test_http_failures_stay_as_the_transport_classified_them() -> None:
    answer(responses.mock, {"errors": []}, status=401)
    with pytest.raises(ConfigurationError):
        client().execute(doc.SHOP_INFO)


def _page(nodes: list[str], end: str | None, more: bool) -> dict:
    return {"data": {"orders": {"edges": [{"node": {"id": n}} for n in nodes],
                                "pageInfo": {"hasNextPage": more, "endCursor": end}}}}


@responses.activate
def test_paginate_follows_cursors_with_at_most_100_a_page() -> None:
    answer(responses.mock, _page(["a", "b"], "c1", True))
    answer(responses.mock, _page(["c"], "c2", False))
    nodes = list(client().paginate(doc.ORDERS_PAGE, {"gte": None, "lte": "x"}, ("orders",),
                                   first=500))
    assert [n["id"] for n in nodes] == ["a", "b", "c"]
    sent = [json.loads(c.request.body)["variables"] for c in responses.calls]
    assert [v["first"] for v in sent] == [MAX_PAGE_SIZE, MAX_PAGE_SIZE]
    assert [v["after"] for v in sent] == [None, "c1"]


@responses.activate
def test_paginate_stops_when_the_mall_repeats_a_cursor() -> None:
    answer(responses.mock, _page(["a"], "c1", True))
    answer(responses.mock, _page(["b"], "c1", True))
    with pytest.raises(RecordError, match="repeated"):
        list(client().paginate(doc.ORDERS_PAGE, {"lte": "x"}, ("orders",)))


@pytest.mark.parametrize("connection", [
    {"edges": "x"}, {"edges": [{"cursor": "1"}]}, {"edges": [], "pageInfo": "x"},
    {"edges": [], "pageInfo": {"hasNextPage": True, "endCursor": None}},
])
def test_malformed_connections_are_record_errors(connection: dict) -> None:
    with pytest.raises(RecordError):
        read_connection({"orders": connection}, ("orders",))
