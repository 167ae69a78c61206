"""The Saleor GraphQL client: app-token auth, connection pagination, and the one table that
turns a GraphQL-level failure into the hub's failure taxonomy (HTTP-level failures are
already classified by the transport)."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from connectors.http import json_body
from connectors.saleor.documents import ALL_DOCUMENTS
from hub.errors import ConfigurationError, RecordError, TransientError

MAX_PAGE_SIZE = 100  # Saleor refuses more than 100 nodes a page
TIMEOUT_SECONDS = 30.0
_KNOWN_DOCUMENTS = frozenset(ALL_DOCUMENTS.values())
_DOCUMENT_NAMES = {document: name for name, document in ALL_DOCUMENTS.items()}

# GraphQL error codes, normalised (upper case, no underscores), and what a person must do.
_TOKEN_CODES = frozenset({"JSONWEBTOKENERROR", "JSONWEBTOKENEXPIRED", "EXPIREDSIGNATUREERROR",
                          "INVALIDTOKENERROR", "INVALIDSIGNATUREERROR", "DECODEERROR",
                          "UNAUTHENTICATED", "INVALIDTOKEN"})
_PERMISSION_CODES = frozenset({"PERMISSIONDENIED", "FORBIDDEN"})
_SCHEMA_CODES = frozenset({"GRAPHQLVALIDATIONFAILED", "GRAPHQLPARSEFAILED"})
_TRANSIENT_CODES = frozenset({"INTERNALSERVERERROR", "SERVICEUNAVAILABLE", "TIMEOUT"})
REINSTALL_FIX = ("Re-install the Gudok Hub app in the mall (Saleor dashboard > Apps) so that "
                 "it sends the hub a fresh app token.")


class Transport(Protocol):
    """What connectors/http.py offers: 2xx responses only, failures already classified."""

    def request(self, method: str, url: str, *, json: Any = None,
                headers: Mapping[str, str] | None = None, timeout: float | None = None,
                idempotent: bool = False) -> Any: ...


class UnknownDocument(ValueError):
    """A programming error: every document sent must be listed in documents.ALL_DOCUMENTS."""


@dataclass(frozen=True)
class Connection:
    """One page of a GraphQL connection: its nodes and where the next page starts."""

    nodes: list[dict[str, Any]]
    end_cursor: str | None
    has_next: bool


class SaleorClient:
    def __init__(self, http: Transport, api_url: str, token: str | None, *,
                 log: logging.Logger | None = None,
                 timeout: float = TIMEOUT_SECONDS) -> None:
        self.http = http
        self.api_url = api_url
        self._token = token
        self.log = log or logging.getLogger("gudok.connectors.saleor")
        self.timeout = timeout

    def execute(self, document: str, variables: Mapping[str, Any] | None = None, *,
                idempotent: bool | None = None) -> dict[str, Any]:
        """Send one known document; return its `data`, or raise a classified failure."""
        if document not in _KNOWN_DOCUMENTS:
            raise UnknownDocument("refusing a GraphQL document that is not in ALL_DOCUMENTS")
        name = _DOCUMENT_NAMES[document]
        if idempotent is None:
            idempotent = document.lstrip().startswith("query")
        headers = {"Accept": "application/json"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        response = self.http.request(
            "POST", self.api_url, json={"query": document, "variables": dict(variables or {})},
            headers=headers, timeout=self.timeout, idempotent=idempotent)
        body = json_body(response)  # untrusted: not JSON, NaN or deep nesting is refused
        if not isinstance(body, dict):
            raise RecordError(f"{name}: the mall's answer is not a GraphQL response object")
        errors = body.get("errors")
        if errors:
            raise classify_errors(name, errors)
        data = body.get("data")
        if not isinstance(data, dict):
            raise RecordError(f"{name}: the mall's answer has no data")
        return data

    def mutate(self, document: str, variables: Mapping[str, Any], root: str, *,
               idempotent: bool = False, record: str | None = None) -> dict[str, Any]:
        """Run a mutation and return its payload; payload `errors` become a RecordError."""
        data = self.execute(document, variables, idempotent=idempotent)
        payload = data.get(root)
        if not isinstance(payload, dict):
            raise RecordError(f"{root}: the mall returned no payload", record=record)
        raise_payload_errors(root, payload.get("errors"), record=record)
        return payload

    def page(self, document: str, variables: Mapping[str, Any], path: Sequence[str], *,
             first: int = MAX_PAGE_SIZE, after: str | None = None) -> Connection:
        """One page of the connection found at `path` inside the data."""
        first = max(1, min(int(first), MAX_PAGE_SIZE))
        data = self.execute(document, {**variables, "first": first, "after": after})
        return read_connection(data, path)

    def paginate(self, document: str, variables: Mapping[str, Any], path: Sequence[str], *,
                 first: int = MAX_PAGE_SIZE,
                 after: str | None = None) -> Iterator[dict[str, Any]]:
        """Every node of a connection, page by page; stops if the mall repeats a cursor."""
        seen: set[str | None] = {after}
        while True:
            current = self.page(document, variables, path, first=first, after=after)
            yield from current.nodes
            if not current.has_next:
                return
            if current.end_cursor in seen:
                raise RecordError(f"{'.'.join(path)}: the mall repeated a page cursor")
            seen.add(current.end_cursor)
            after = current.end_cursor


def read_connection(data: Mapping[str, Any], path: Sequence[str]) -> Connection:
    """Nodes and page info of a connection; anything malformed is a RecordError."""
    where = ".".join(path)
    value: Any = data
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
    if value is None:
        return Connection([], None, False)
    edges = value.get("edges") if isinstance(value, Mapping) else None
    if not isinstance(edges, list):
        raise RecordError(f"{where}: the mall's answer has no edges list")
    nodes: list[dict[str, Any]] = []
    for edge in edges:
        node = edge.get("node") if isinstance(edge, Mapping) else None
        if not isinstance(node, dict):
            raise RecordError(f"{where}: an edge of the mall's answer has no node")
        nodes.append(node)
    info = value.get("pageInfo") or {}
    if not isinstance(info, Mapping):
        raise RecordError(f"{where}: the mall's pageInfo is not an object")
    has_next = bool(info.get("hasNextPage"))
    end_cursor = info.get("endCursor")
    if has_next and not (isinstance(end_cursor, str) and end_cursor):
        raise RecordError(f"{where}: the mall says there is a next page but gives no cursor")
    return Connection(nodes, end_cursor if isinstance(end_cursor, str) else None, has_next)


def _code(error: Mapping[str, Any]) -> str:
    extensions = error.get("extensions")
    if not isinstance(extensions, Mapping):
        return ""
    raw = extensions.get("code")
    exception = extensions.get("exception")
    if not raw and isinstance(exception, Mapping):
        raw = exception.get("code")
    return str(raw or "").upper().replace("_", "")


def classify_errors(name: str, errors: Any) -> Exception:
    """Top-level GraphQL errors as one failure of the taxonomy, with the fix when a person
    must act. The mall's messages are untrusted: truncated, never trusted as markup."""
    if not isinstance(errors, list) or not errors:
        return RecordError(f"{name}: the mall's errors list is malformed")
    found = [e for e in errors if isinstance(e, Mapping)]
    codes = {_code(e) for e in found}
    message = "; ".join(str(e.get("message", ""))[:300] for e in found[:3]) or "no message"
    if codes & _TOKEN_CODES:
        return ConfigurationError(f"{name}: the mall rejected the app token ({message})",
                                  fix=REINSTALL_FIX)
    if codes & _PERMISSION_CODES:
        return ConfigurationError(
            f"{name}: the app lacks a permission in the mall ({message})",
            fix="Grant the Gudok Hub app the permission the message names (Saleor dashboard "
                "> Apps > Gudok Hub), or re-install it from the hub's manifest URL, which "
                "asks for every permission the hub needs.")
    if codes & _SCHEMA_CODES:
        return ConfigurationError(
            f"{name}: the mall's Saleor does not accept the hub's query ({message})",
            fix="Upgrade the mall to a Saleor release compatible with 3.23.")
    if codes & _TRANSIENT_CODES:
        return TransientError(f"{name}: the mall failed ({message})")
    return RecordError(f"{name}: the mall refused the request ({message})")


def raise_payload_errors(root: str, errors: Any, *, record: str | None = None) -> None:
    """A mutation's own `errors` list: each names the input field the mall refused."""
    if errors in (None, []):
        return
    if not isinstance(errors, list):
        raise RecordError(f"{root}: the mall's errors list is malformed", record=record)
    parts = []
    for error in errors[:5]:
        if not isinstance(error, Mapping):
            parts.append("malformed error")
            continue
        field = error.get("field") or "input"
        index = error.get("index")
        where = f"{field}[{index}]" if isinstance(index, int) else str(field)
        parts.append(f"{where}: {str(error.get('message') or '')[:200]} "
                     f"({error.get('code') or 'no code'})")
    raise RecordError(f"{root} refused: " + "; ".join(parts), record=record)
