"""Settings: defaults from config/default.toml, GUDOK_* variables, explicit overrides, and a
wrong setting stopping start-up with one line that names it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from hub.settings import SettingsError, load_settings

GUDOK = Path(__file__).resolve().parents[1] / ".venv" / "bin" / "gudok"
KEY = Fernet.generate_key().decode()


def test_defaults_load_from_the_packaged_file() -> None:
    settings = load_settings(environ={"GUDOK_SECRET_KEYS": KEY})
    assert settings.environment == "production"
    assert settings.database_url == ""
    assert settings.redis_url == ""
    assert settings.secret_keys == (KEY,)
    assert settings.max_request_bytes == 1048576
    assert settings.idempotency_ttl_hours == 24
    assert (settings.page_size_default, settings.page_size_max) == (50, 500)
    assert settings.default_time_zone == "Asia/Seoul"
    assert settings.log_level == "INFO"
    assert settings.bind == "127.0.0.1:8000"
    assert settings.workers == 2
    assert settings.extra == {}


def test_without_a_database_url_an_embedded_sqlite_file_under_var_is_used(
        tmp_path: Path) -> None:
    settings = load_settings({"var_dir": str(tmp_path / "state")},
                             environ={"GUDOK_ENVIRONMENT": "test"})
    assert settings.effective_database_url == f"sqlite:///{tmp_path / 'state' / 'gudok.db'}"
    given = load_settings({"database_url": "sqlite:///elsewhere.db"},
                          environ={"GUDOK_ENVIRONMENT": "test"})
    assert given.effective_database_url == "sqlite:///elsewhere.db"


def test_environment_variables_override_the_defaults() -> None:
    other = Fernet.generate_key().decode()
    settings = load_settings(environ={
        "GUDOK_ENVIRONMENT": "demo",
        "GUDOK_DATABASE_URL": "postgresql+psycopg://hub@db.internal:5432/gudok",
        "GUDOK_REDIS_URL": "redis://cache.internal:6379/2",
        "GUDOK_SECRET_KEYS": f" {KEY} , {other},",
        "GUDOK_MAX_REQUEST_BYTES": "2048",
        "GUDOK_IDEMPOTENCY_TTL_HOURS": "48",
        "GUDOK_PAGE_SIZE_DEFAULT": "20",
        "GUDOK_PAGE_SIZE_MAX": "100",
        "GUDOK_DEFAULT_TIME_ZONE": "UTC",
        "GUDOK_LOG_LEVEL": "debug",
        "GUDOK_BIND": "0.0.0.0:9000",
        "GUDOK_WORKERS": "8",
        "GUDOK_VAR_DIR": "/srv/gudok",
        "OTHER_VARIABLE": "ignored",
    })
    assert settings.environment == "demo"
    assert settings.database_url == "postgresql+psycopg://hub@db.internal:5432/gudok"
    assert settings.redis_url == "redis://cache.internal:6379/2"
    assert settings.secret_keys == (KEY, other)
    assert settings.max_request_bytes == 2048
    assert settings.idempotency_ttl_hours == 48
    assert (settings.page_size_default, settings.page_size_max) == (20, 100)
    assert settings.default_time_zone == "UTC"
    assert settings.log_level == "DEBUG"
    assert settings.bind == "0.0.0.0:9000"
    assert settings.workers == 8
    assert settings.var_dir == "/srv/gudok"


def test_explicit_overrides_beat_environment_variables() -> None:
    settings = load_settings({"page_size_default": 10, "secret_keys": KEY, "mall_url": "x"},
                             environ={"GUDOK_PAGE_SIZE_DEFAULT": "20",
                                      "GUDOK_ENVIRONMENT": "production"})
    assert settings.page_size_default == 10
    assert settings.secret_keys == (KEY,)
    assert settings.extra == {"mall_url": "x"}


def test_an_explicit_environ_replaces_the_process_environment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUDOK_ENVIRONMENT", "test")
    monkeypatch.setenv("GUDOK_PAGE_SIZE_DEFAULT", "7")
    assert load_settings().page_size_default == 7
    with pytest.raises(SettingsError) as raised:
        load_settings(environ={})  # production, and the process's variables are not read
    assert raised.value.key == "secret_keys"


@pytest.mark.parametrize("environment", ["demo", "test"])
def test_demo_and_tests_run_without_secret_keys(environment: str) -> None:
    settings = load_settings(environ={"GUDOK_ENVIRONMENT": environment})
    assert settings.secret_keys == ()


@pytest.mark.parametrize("environ", [
    {"GUDOK_ENVIRONMENT": "production"},
    {"GUDOK_ENVIRONMENT": "production", "GUDOK_SECRET_KEYS": ""},
    {"GUDOK_ENVIRONMENT": "production", "GUDOK_SECRET_KEYS": " , "},
], ids=["unset", "empty", "only-commas"])
def test_production_without_secret_keys_is_refused(environ: dict[str, str]) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings(environ=environ)
    assert str(raised.value).startswith("GUDOK_SECRET_KEYS: ")
    assert "generate one" in str(raised.value)


@pytest.mark.parametrize(("variable", "value", "problem"), [
    ("GUDOK_DATABASE_URL", "not a url", "not a database URL"),
    ("GUDOK_DATABASE_URL", "mysql://hub@db/gudok", "unsupported database 'mysql'"),
    ("GUDOK_REDIS_URL", "http://cache:6379", "must start with redis://"),
    ("GUDOK_SECRET_KEYS", "not-a-fernet-key", "key 1 is not a Fernet key"),
    ("GUDOK_SECRET_KEYS", f"{KEY},{KEY[:-4]}", "key 2 is not a Fernet key"),
    ("GUDOK_MAX_REQUEST_BYTES", "1MB", "expected a whole number, got '1MB'"),
    ("GUDOK_MAX_REQUEST_BYTES", "0", "expected a positive whole number"),
    ("GUDOK_WORKERS", "-2", "expected a positive whole number"),
    ("GUDOK_PAGE_SIZE_DEFAULT", "501", "must not exceed page_size_max"),
    ("GUDOK_DEFAULT_TIME_ZONE", "Asia/Busan", "unknown time zone 'Asia/Busan'"),
    ("GUDOK_DEFAULT_TIME_ZONE", "../../etc/passwd", "unknown time zone"),
    ("GUDOK_LOG_LEVEL", "chatty", "unknown level 'chatty'"),
    ("GUDOK_ENVIRONMENT", "staging", "must be one of production, demo, test"),
])
def test_a_wrong_setting_is_named_with_its_problem(variable: str, value: str,
                                                    problem: str) -> None:
    environ = {"GUDOK_ENVIRONMENT": "test", variable: value}
    with pytest.raises(SettingsError) as raised:
        load_settings(environ=environ)
    message = str(raised.value)
    assert message.startswith(f"{variable}: "), message
    assert problem in message
    assert raised.value.key == variable.removeprefix("GUDOK_").lower()


@pytest.mark.parametrize(("key", "value"), [
    ("max_request_bytes", True),
    ("workers", 1.5),
])
def test_overrides_must_have_the_right_type(key: str, value: object) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings({key: value}, environ={"GUDOK_ENVIRONMENT": "test"})
    assert raised.value.key == key


def _run_gudok(args: list[str], cwd: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUDOK_")}
    env.update(variables)
    return subprocess.run([str(GUDOK), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def test_the_command_stops_with_one_line_naming_the_missing_keys(tmp_path: Path) -> None:
    result = _run_gudok(["db", "upgrade"], tmp_path, GUDOK_ENVIRONMENT="production")
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "GUDOK_SECRET_KEYS" in lines[0]
    assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "var").exists(), "nothing is created before the settings are valid"


def test_help_with_a_wrong_setting_names_it_without_a_traceback(tmp_path: Path) -> None:
    result = _run_gudok(["--help"], tmp_path, GUDOK_ENVIRONMENT="production")
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "GUDOK_SECRET_KEYS" in lines[0], result.stderr
    assert "tokens" in result.stdout and "demo" in result.stdout


def test_the_command_names_a_wrong_number_setting(tmp_path: Path) -> None:
    result = _run_gudok(["tokens", "list"], tmp_path, GUDOK_ENVIRONMENT="test",
                        GUDOK_MAX_REQUEST_BYTES="lots")
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "gudok: GUDOK_MAX_REQUEST_BYTES: expected a whole number, got 'lots'"]
