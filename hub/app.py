"""The app factory and the state it keeps in app.extensions["gudok"]."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, g, request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from hub.crypto import SecretBox, local_key
from hub.db import make_engine, make_session_factory
from hub.settings import Settings, load_settings


@dataclass
class HubState:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    secrets: SecretBox

    def session(self) -> Session:
        """The current request's session, opened on first use and closed at teardown."""
        if "db" not in g:
            g.db = self.session_factory()
        return g.db  # type: ignore[no-any-return]


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    settings = load_settings(config)
    logging.basicConfig(level=settings.log_level,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # Alembic narrates every step at INFO; the CLI reports the resulting revision itself.
    logging.getLogger("alembic").setLevel(max(logging.WARNING,
                                              logging.getLevelName(settings.log_level)))
    keys = settings.secret_keys or (local_key(settings.var_path),)
    app = Flask("hub")
    app.config.update(
        MAX_CONTENT_LENGTH=settings.max_request_bytes,
        JSON_SORT_KEYS=False,
        TESTING=settings.environment == "test",
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # Korean text stays readable
    engine = make_engine(settings.effective_database_url)
    state = HubState(settings, engine, make_session_factory(engine), SecretBox(keys))
    app.extensions["gudok"] = state

    @app.before_request
    def _request_id() -> None:
        incoming = request.headers.get("X-Request-Id", "")
        g.request_id = incoming if 0 < len(incoming) <= 64 and incoming.isprintable() \
            else uuid.uuid4().hex

    @app.after_request
    def _tag_response(response: Response) -> Response:
        response.headers["X-Request-Id"] = g.get("request_id", "")
        return response

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        session = g.pop("db", None)
        if session is not None:
            session.close()

    from hub.api import register_api
    from hub.api.auth import install_auth
    from hub.api.problems import register_problem_handlers
    from hub.health import health
    from hub.webhooks import register_webhooks

    register_problem_handlers(app)
    install_auth(app)
    app.register_blueprint(health)
    register_api(app)
    register_webhooks(app)
    return app
