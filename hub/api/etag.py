"""ETags from the row version, and If-Match checks so no write silently overwrites another."""

from __future__ import annotations

from typing import Any

from flask import Response, request

from hub.api.problems import ApiProblem


def etag_of(row: Any) -> str:
    return f'"v{row.version}"'


def check_if_match(row: Any) -> None:
    """412 when the caller's If-Match names a version other than the current one."""
    header = request.headers.get("If-Match")
    if header is None:
        return
    # RFC 9110: If-Match compares strongly, so a weak tag never matches.
    candidates = {part.strip() for part in header.split(",")}
    if "*" in candidates or etag_of(row) in candidates:
        return
    raise ApiProblem(412, "Precondition Failed",
                     "The resource changed since you read it; fetch it again and retry.",
                     headers={"ETag": etag_of(row)})


def with_etag(response: Response, row: Any) -> Response:
    response.headers["ETag"] = etag_of(row)
    return response
