"""What every resource blueprint does around a write: audit, commit, map domain errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import current_app, g
from flask_smorest import Blueprint as SmorestBlueprint
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
