"""Saleor's cursor connections (keyset pagination, at most 100 a page), their sort orders,
list filters and lookup-argument rules."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from typing import Any

from graphql import GraphQLError

from connectors.saleor.sandbox.schema import from_global_id, parse_datetime
from connectors.saleor.sandbox.store import Rec

MAX_PAGE = 100
KeyFn = Callable[[Rec], Any]
EPOCH = datetime.min.replace(tzinfo=UTC)


class Unsupported(GraphQLError):
    """A filter or argument Saleor has and the sandbox does not implement."""


def _encode(values: Iterable[Any]) -> str:
    raw = [v if v is None else str(v) for v in values]
    return base64.b64encode(json.dumps(raw).encode()).decode()


def _coerce(raw: Any, sample: Any) -> Any:
    if isinstance(sample, datetime):
        return parse_datetime(raw)
    if isinstance(sample, bool):
        return raw == "True"
    if isinstance(sample, int):
        return int(raw)
    return raw


def _decode(cursor: str, sample: tuple[Any, ...]) -> tuple[Any, ...]:
    try:
        raw = json.loads(base64.b64decode(cursor.encode(), validate=True))
        if not isinstance(raw, list) or len(raw) != len(sample):
            raise ValueError
        return tuple(_coerce(r, s) for r, s in zip(raw, sample, strict=True))
    except (binascii.Error, ValueError, TypeError):
        raise GraphQLError("Received cursor is invalid.") from None


def connection(items: list[Rec], args: dict[str, Any], name: str, keys: list[KeyFn],
               descending: bool = False) -> Rec:
    """One page of a Saleor CountableConnection over `items`, sorted by `keys`."""
    first, last = args.get("first"), args.get("last")
    if first is None and last is None:
        raise GraphQLError(f"You must provide a `first` or `last` value to properly paginate "
                           f"the `{name}` connection.")
    if first is not None and last is not None:
        raise GraphQLError(f"Passing both `first` and `last` to paginate the `{name}` "
                           "connection is not supported.")
    for arg, value in (("first", first), ("last", last)):
        if value is not None and value < 0:
            raise GraphQLError(f"Argument `{arg}` on connection `{name}` cannot be less than 0.")
        if value is not None and value > MAX_PAGE:
            raise GraphQLError(f"Requesting {value} records on the `{name}` connection exceeds "
                               f"the `{arg}` limit of {MAX_PAGE} records.")

    def key(record: Rec) -> tuple[Any, ...]:
        return tuple(fn(record) for fn in keys)

    ordered = sorted(items, key=key, reverse=descending)
    if ordered:
        sample = key(ordered[0])
        if args.get("after"):
            mark = _decode(args["after"], sample)
            ordered = [r for r in ordered if (key(r) < mark if descending else key(r) > mark)]
        if args.get("before"):
            mark = _decode(args["before"], sample)
            ordered = [r for r in ordered if (key(r) > mark if descending else key(r) < mark)]
    if first is not None:
        page, has_next, has_previous = ordered[:first], len(ordered) > first, False
    else:
        assert last is not None
        page = ordered[max(len(ordered) - last, 0):] if last else []
        has_next, has_previous = False, len(ordered) > last
    edges = [{"node": r, "cursor": _encode(key(r))} for r in page]
    return {
        "edges": edges, "totalCount": len(items),
        "pageInfo": {"hasNextPage": has_next, "hasPreviousPage": has_previous,
                     "startCursor": edges[0]["cursor"] if edges else None,
                     "endCursor": edges[-1]["cursor"] if edges else None},
    }


# -- filter helpers --------------------------------------------------------------------------

def pks(ids: Iterable[str] | None, type_name: str) -> set[str]:
    found = set()
    for value in ids or ():
        decoded = from_global_id(value)
        if decoded is None or decoded[0] != type_name:
            raise GraphQLError(f"Invalid ID: {value}. Expected: {type_name}.")
        found.add(decoded[1])
    return found


def in_range(value: datetime | date | int | None, bounds: dict[str, Any] | None) -> bool:
    if not bounds:
        return True
    if value is None:
        return False
    gte, lte = bounds.get("gte"), bounds.get("lte")
    if isinstance(value, datetime) and isinstance(gte, date) and not isinstance(gte, datetime):
        value = value.date()
    return (gte is None or value >= gte) and (lte is None or value <= lte)


def matches_filter_input(value: Any, spec: dict[str, Any] | None) -> bool:
    """Saleor's `{eq, oneOf, range}` filter inputs."""
    if spec is None:
        return True
    if spec.get("eq") is not None and value != spec["eq"]:
        return False
    if spec.get("oneOf") is not None and value not in spec["oneOf"]:
        return False
    return in_range(value, spec.get("range"))


def metadata_matches(record: Rec, filters: list[dict[str, Any]] | dict[str, Any] | None) -> bool:
    items = [filters] if isinstance(filters, dict) else filters or []
    meta = record.get("_metadata", {})
    for item in items:
        if item["key"] not in meta:
            return False
        value = item.get("value")
        if isinstance(value, dict):
            if not matches_filter_input(meta[item["key"]], value):
                return False
        elif value is not None and meta[item["key"]] != value:
            return False
    return True


def check_supported(given: dict[str, Any] | None, supported: set[str], name: str) -> None:
    for key, value in (given or {}).items():
        if value is not None and key not in supported:
            raise Unsupported(f"The sandbox does not implement `{key}` on `{name}`.",
                              extensions={"code": "SANDBOX_UNSUPPORTED"})


def text_search(needle: str | None, *haystack: Any) -> bool:
    if not needle:
        return True
    lowered = needle.lower()
    return any(lowered in str(h).lower() for h in haystack if h)


def description_text(description: Any) -> str:
    """The plain text of an EditorJS description."""
    if not isinstance(description, dict):
        return str(description or "")
    blocks = description.get("blocks") or []
    return " ".join(str((b.get("data") or {}).get("text", "")) for b in blocks
                    if isinstance(b, dict))


def combine_where(record: Rec, where: dict[str, Any] | None,
                  test: Callable[[Rec, dict[str, Any]], bool]) -> bool:
    if not where:
        return True
    rest = {k: v for k, v in where.items() if k not in ("AND", "OR")}
    if not test(record, rest):
        return False
    if where.get("AND") and not all(combine_where(record, w, test) for w in where["AND"]):
        return False
    return not where.get("OR") or any(combine_where(record, w, test) for w in where["OR"])


# -- sorting and lookup rules shared by the query resolvers ---------------------------------

def field_key(name: str) -> Any:
    def key(record: Rec) -> Any:
        if name == "_type_name":
            return record["productType"]["name"]
        value = record.get(name)
        if value is None:
            return EPOCH if name in ("updatedAt", "created") else ""
        return value
    return key


def pk_key(record: Rec) -> Any:
    return int(record["pk"]) if record["pk"].isdigit() else record["pk"]


def sorted_connection(items: list[Rec], args: dict[str, Any], name: str,
                      fields: dict[str, str], default: tuple[str, bool]) -> Rec:
    sort_by = args.get("sortBy") or {}
    field_name = fields.get(sort_by.get("field") or "", default[0]) if sort_by else default[0]
    descending = sort_by.get("direction") == "DESC" if sort_by else default[1]
    return connection(items, args, name, [field_key(field_name), pk_key], descending)


def one_filter(args: dict[str, Any]) -> None:
    if args.get("filter") and args.get("where"):
        raise GraphQLError("Only one filtering argument (filter or where) can be specified.")


def one_of(**given: Any) -> None:
    """Saleor's rule for lookups: exactly one of the identifying arguments."""
    named = [name for name, value in given.items() if value is not None]
    if not named:
        raise GraphQLError("At least one of arguments is required: "
                           + ", ".join(f"'{name}'" for name in given) + ".")
    if len(named) > 1:
        raise GraphQLError(f"Argument '{named[0]}' cannot be combined with '{named[1]}'")
