"""The conformance suite every connector passes, importable by outside connector packages.

Subclass `ConnectorConformance` in a pytest module, set `connector`, and provide the
fixtures it names; every test below then runs against that connector:

    class TestMyConnector(ConnectorConformance):
        connector = MyConnector

        @pytest.fixture
        def valid_config(self): ...            # a full config, secrets included
        @pytest.fixture
        def make_context(self): ...            # config -> SyncContext whose http is a real
                                               # connectors.http.HttpClient (sleep injected)
        @pytest.fixture
        def platform_url(self): ...            # the base URL the connector calls
        @pytest.fixture
        def read_once(self): ...               # ctx -> a representative read call
        @pytest.fixture
        def write_once(self): ...              # ctx -> a representative write call, or None
                                               # for a read-only connector
        @pytest.fixture
        def platform_state(self): ...          # () -> a snapshot of the platform's data
        @pytest.fixture
        def stream_page(self): ...             # (ctx, cursor) -> connectors.base.Page
        @pytest.fixture
        def cursor_order(self): ...            # cursor -> a comparable key

Failure classification is checked by answering every call to `platform_url` with the
status under test (the `responses` library, which intercepts HttpClient's adapter: the
address checks, retries and failure table all run), so no platform is needed for it; the
idempotency, cursor and log checks run against the connector's sandbox."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any, ClassVar

import pytest
import requests
import responses
from marshmallow import ValidationError

from connectors.base import CAPABILITIES, CAPABILITY_INTERFACES, Connector, Page, SyncContext
from hub.errors import ConfigurationError, RateLimited, TransientError

ALL_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _answer_everything(mock: responses.RequestsMock, platform_url: str, **answer: Any) -> None:
    pattern = re.compile(re.escape(platform_url.rstrip("/")) + ".*")
    for method in ALL_METHODS:
        mock.add(method, pattern, **answer)


class ConnectorConformance:
    connector: ClassVar[type[Connector]]

    # --- what the connector declares -------------------------------------------------

    def test_declares_key_name_and_known_capabilities(self) -> None:
        assert re.fullmatch(r"[a-z][a-z0-9_-]{1,63}", self.connector.key)
        assert self.connector.display_name
        assert set(self.connector.capabilities) <= set(CAPABILITIES)

    def test_implements_every_capability_it_declares(self) -> None:
        instance = self.connector()
        for capability in self.connector.capabilities:
            assert isinstance(instance, CAPABILITY_INTERFACES[capability]), capability

    # --- config schema ---------------------------------------------------------------

    def test_config_schema_loads_a_valid_config(self, valid_config: dict[str, Any]) -> None:
        loaded = self.connector.config_schema().load(valid_config)
        for name in self.connector.secret_fields():
            assert name in self.connector.config_schema._declared_fields
            if valid_config.get(name) is not None:
                assert isinstance(loaded[name], str)

    def test_config_schema_rejects_unknown_and_missing_fields(
            self, valid_config: dict[str, Any]) -> None:
        schema = self.connector.config_schema()
        with pytest.raises(ValidationError) as unknown:
            schema.load({**valid_config, "no_such_setting": 1})
        assert "no_such_setting" in unknown.value.messages
        required = [name for name, field in schema.fields.items() if field.required]
        for name in required:
            with pytest.raises(ValidationError) as missing:
                schema.load({k: v for k, v in valid_config.items() if k != name})
            assert name in missing.value.messages

    # --- failure classification --------------------------------------------------------

    def _failing_read(self, make_context: Callable[[dict[str, Any]], SyncContext],
                      valid_config: dict[str, Any], platform_url: str,
                      read_once: Callable[[SyncContext], Any], **answer: Any) -> Exception:
        ctx = make_context(valid_config)
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            _answer_everything(mock, platform_url, **answer)
            with pytest.raises(Exception) as raised:
                read_once(ctx)
            # Otherwise an unreachable platform_url (a transient connection error) or a read
            # that fails before calling out would pass these tests without being classified.
            # (`responses` records unmatched calls too, refused as transient ConnectionErrors.)
            served = sum(stub.call_count for stub in mock.registered())
            assert served, (f"no call of read_once was answered under {platform_url}; "
                            f"it raised {raised.value!r}")
        return raised.value

    def test_401_is_a_configuration_error_with_a_fix(self, make_context, valid_config,
                                                     platform_url, read_once) -> None:
        error = self._failing_read(make_context, valid_config, platform_url, read_once,
                                   status=401, json={"error": "unauthorized"})
        assert isinstance(error, ConfigurationError), repr(error)
        assert error.fix

    def test_429_is_rate_limited_with_its_wait(self, make_context, valid_config,
                                               platform_url, read_once) -> None:
        error = self._failing_read(make_context, valid_config, platform_url, read_once,
                                   status=429, headers={"Retry-After": "120"})
        assert isinstance(error, RateLimited), repr(error)
        assert error.wait_seconds == pytest.approx(120, abs=1)

    @pytest.mark.parametrize("status", [500, 502, 503, 504])
    def test_5xx_is_transient(self, make_context, valid_config, platform_url, read_once,
                              status: int) -> None:
        error = self._failing_read(make_context, valid_config, platform_url, read_once,
                                   status=status, body="upstream failed")
        assert isinstance(error, TransientError), repr(error)

    def test_a_timeout_is_transient(self, make_context, valid_config, platform_url,
                                    read_once) -> None:
        error = self._failing_read(make_context, valid_config, platform_url, read_once,
                                   body=requests.exceptions.ReadTimeout("read timed out"))
        assert isinstance(error, TransientError), repr(error)

    # --- behaviour against the sandbox ------------------------------------------------

    def test_rerunning_a_write_changes_nothing(self, make_context, valid_config, write_once,
                                               read_once, platform_state) -> None:
        """A connector without writes is held to the same rule through its read."""
        ctx = make_context(valid_config)
        run = write_once if write_once is not None else read_once
        first = run(ctx)
        state = platform_state()
        second = run(ctx)
        assert second == first
        assert platform_state() == state

    def test_cursors_never_move_backwards(self, make_context, valid_config, stream_page,
                                          cursor_order) -> None:
        ctx = make_context(valid_config)
        cursor = None
        seen: list[Any] = []
        for _ in range(4):
            page: Page = stream_page(ctx, cursor)
            if cursor is not None and page.cursor is not None:
                assert cursor_order(page.cursor) >= cursor_order(cursor)
            if page.cursor is None:
                assert cursor is None, "a stream lost its cursor"
            cursor = page.cursor if page.cursor is not None else cursor
            seen.append(cursor)
        assert seen[-1] == seen[-2], "re-reading with no new changes moved the cursor"

    def test_secrets_never_appear_in_logs(self, make_context, valid_config, read_once,
                                          write_once, caplog) -> None:
        caplog.set_level(logging.DEBUG)
        ctx = make_context(valid_config)
        read_once(ctx)
        if write_once is not None:
            write_once(ctx)
        ctx.log.info("config is %s", dict(ctx.config))  # even a careless line is redacted
        secrets = [str(valid_config[name]) for name in self.connector.secret_fields()
                   if valid_config.get(name)]
        assert secrets, "the conformance config must carry at least one secret"
        text = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
        for secret in secrets:
            assert secret not in text
