"""What every resource blueprint does around a write: audit, commit, map domain errors."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from flask import current_app, g
from flask_smorest import Blueprint as SmorestBlueprint
from marshmallow import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from webargs.flaskparser import FlaskParser

from hub.api.auth import principal
from hub.api.problems import ApiProblem
from hub.crypto import SecretBox
from hub.services import audit
from hub.services.validation import Conflict, RecordInvalid


class Parser(FlaskParser):
    """Bad input is a 400 with field paths (webargs defaults to 422)."""

    DEFAULT_VALIDATION_STATUS = 400

    def pre_load(self, location_data: Any, *, schema: Any, req: Any, location: str) -> Any:
        """Refuse NUL characters anywhere: PostgreSQL cannot store them in text or JSON."""
        if location in {"query", "querystring"}:
            pairs: Any = req.args.items(multi=True)
            errors = {key: [NUL_MESSAGE] for key, value in pairs if "\x00" in key + value}
        else:
            errors = _nul_errors(location_data)
        if errors:
            raise ValidationError(errors)
        return location_data


NUL_MESSAGE = "NUL characters (\\u0000) are not allowed."


def _nul_errors(value: Any) -> Any:
    """marshmallow-style messages for every string holding a NUL, keyed by where it is."""
    if isinstance(value, str):
        return [NUL_MESSAGE] if "\x00" in value else None
    items: Any = value.items() if isinstance(value, Mapping) else \
        enumerate(value) if isinstance(value, list) else ()
    errors: dict[Any, Any] = {}
    for key, inner in items:
        found = [NUL_MESSAGE] if isinstance(key, str) and "\x00" in key else _nul_errors(inner)
        if found:
            errors[key] = found
    return errors or None


class Blueprint(SmorestBlueprint):
    ARGUMENTS_PARSER = Parser()


def db() -> Session:
    return current_app.extensions["gudok"].session()  # type: ignore[no-any-return]


def secret_box() -> SecretBox:
    return current_app.extensions["gudok"].secrets  # type: ignore[no-any-return]


def invalid(errors: list[dict[str, str]]) -> ApiProblem:
    return ApiProblem(400, "Invalid request", "One or more fields are invalid.", errors=errors)


@contextmanager
def write() -> Iterator[Session]:
    """One API write: commit at the end, or roll back and answer a problem."""
    session = db()
    try:
        yield session
        session.commit()
    except RecordInvalid as error:
        session.rollback()
        raise invalid(error.errors) from None
    except Conflict as error:
        session.rollback()
        raise ApiProblem(409, "Conflict", str(error)) from None
    except StaleDataError:
        session.rollback()
        raise ApiProblem(412, "Precondition Failed",
                         "Someone else changed this resource meanwhile; fetch it and retry.") \
            from None
    except IntegrityError:
        session.rollback()
        raise ApiProblem(409, "Conflict",
                         "The write conflicts with existing data (a duplicate or a row still "
                         "in use).") from None
    except BaseException:
        session.rollback()
        raise


def audited(session: Session, action: str, entity_type: str, row: Any,
            before: dict[str, Any] | None, tenant_id: int | None = None) -> None:
    """Leave the audit row of this write in the same transaction."""
    session.flush()
    after = None if action == "delete" else audit.snapshot(row)
    audit.record(session, actor=principal().actor, action=action, entity_type=entity_type,
                 entity_id=row.id, tenant_id=tenant_id if tenant_id is not None
                 else getattr(row, "tenant_id", None), before=before, after=after,
                 request_id=g.get("request_id"))
