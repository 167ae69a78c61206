"""RFC 9457 problem+json for every error a caller gets, with field paths for bad input."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, g, json
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from hub.services.validation import field_paths

PROBLEM_TYPE = "application/problem+json"
log = logging.getLogger("gudok.api")


class ApiProblem(Exception):
    """An error with a status, a title and optional field errors, raised anywhere in a view."""

    def __init__(self, status: int, title: str, detail: str | None = None,
                 errors: list[dict[str, str]] | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = errors or []
        self.headers = dict(headers or {})


def not_found(what: str = "resource") -> ApiProblem:
    return ApiProblem(404, "Not Found", f"No such {what}.")


def field_error(path: str, message: str, status: int = 400) -> ApiProblem:
    return ApiProblem(status, "Invalid request", "One or more fields are invalid.",
                      errors=[{"path": path, "message": message}])


def problem_response(status: int, title: str, detail: str | None = None,
                     errors: list[dict[str, str]] | None = None,
                     headers: Mapping[str, str] | None = None) -> Response:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    request_id = g.get("request_id")
    if request_id:
        body["instance"] = f"urn:gudok:request:{request_id}"
    response = Response(json.dumps(body, ensure_ascii=False), status=status,
                        mimetype=PROBLEM_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def http_exception_problem(error: HTTPException) -> Response:
    status = error.code or 500
    errors: list[dict[str, str]] = []
    data = getattr(error, "data", None)
    if isinstance(data, Mapping) and "messages" in data:
        messages = data["messages"]
        # webargs nests messages under the request location ("json", "query", ...); the
        # path names the field or the query parameter alone, as the service errors do.
        if isinstance(messages, Mapping):
            for inner in messages.values():
                errors.extend(field_paths(inner))
    title = "Invalid request" if errors else error.name
    detail = error.description if not errors else "One or more fields are invalid."
    if status == 413:
        detail = "The request body is larger than this server accepts."
    headers = dict((data.get("headers") or {}) if isinstance(data, Mapping) else {})
    if error.response is not None:
        headers.update({k: v for k, v in error.response.headers.items()
                        if k.lower() in {"www-authenticate", "allow", "retry-after"}})
    elif status == 405:
        allowed = getattr(error, "valid_methods", None)
        if allowed:
            headers["Allow"] = ", ".join(allowed)
    return problem_response(status, title, detail, errors, headers)


def register_problem_handlers(app: Flask) -> None:
    @app.errorhandler(ApiProblem)
    def _api_problem(error: ApiProblem) -> Response:
        return problem_response(error.status, error.title, error.detail, error.errors,
                                error.headers)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Response:
        return http_exception_problem(error)

    @app.errorhandler(OperationalError)
    def _database_down(error: OperationalError) -> Response:
        # The database did not answer: the caller may retry; nothing was half-written.
        log.error("database unavailable in request %s: %s", g.get("request_id"),
                  type(error.orig).__name__)
        return problem_response(503, "Service Unavailable",
                                "The database is not answering; try again shortly.",
                                headers={"Retry-After": "30"})

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        log.exception("unhandled error in request %s", g.get("request_id"))
        return problem_response(500, "Internal Server Error",
                                "The server failed; the request id identifies it in the logs.")
