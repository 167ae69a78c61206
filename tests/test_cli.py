"""The `gudok` command as an operator runs it: a real subprocess against a real database."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from sqlalchemy import func, select

from hub import create_app
from hub.crypto import SecretBox, SecretError
from hub.db import session_scope
from hub.models import (
    Binding,
    Connection,
    Merchant,
    Offering,
    PartnerProduct,
    SettlementPeriod,
)
from hub.services.business_number import normalize_business_number
from hub.services.demo import read_demo_files
from tests.conftest import _create_postgres_database, _drop_postgres_database

GUDOK = Path(__file__).resolve().parents[1] / ".venv" / "bin" / "gudok"


@dataclass
class Hub:
    """One database and its keys, reached through the command and through the app."""

    directory: Path
    database_url: str
    keys: str

    def run(self, *args: str, keys: str | None = None) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GUDOK_")}
        env.update(GUDOK_DATABASE_URL=self.database_url, GUDOK_ENVIRONMENT="test",
                   GUDOK_SECRET_KEYS=keys or self.keys, GUDOK_LOG_LEVEL="WARNING",
                   GUDOK_VAR_DIR=str(self.directory / "var"), GUDOK_OUTBOUND_ALLOW_ONLY="true")
        return subprocess.run([str(GUDOK), *args], cwd=self.directory, env=env, text=True,
                              capture_output=True, timeout=180, check=False)

    def ok(self, *args: str, keys: str | None = None) -> str:
        result = self.run(*args, keys=keys)
        assert result.returncode == 0, f"gudok {' '.join(args)}:\n{result.stderr}"
        return result.stdout

    def app(self, keys: str | None = None) -> Flask:
        return create_app({"environment": "test", "database_url": self.database_url,
                           "secret_keys": (keys or self.keys).split(","),
                           "log_level": "WARNING", "var_dir": str(self.directory / "var")})


def _key() -> str:
    return Fernet.generate_key().decode()


def _get(app: Flask, path: str, token: str) -> Any:
    return app.test_client().get(path, headers={"Authorization": f"Bearer {token}"})


def _summary_counts(output: str) -> dict[str, int]:
    counts = {}
    for line in output.splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] in {"merchants", "items", "boxes", "plans"}:
            counts[words[0]] = int(words[1])
    return counts


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Hub, list[str]]]:
    """A SQLite file migrated by `gudok db upgrade`, then given the demo twice."""
    directory = tmp_path_factory.mktemp("cli")
    hub = Hub(directory, f"sqlite:///{directory / 'gudok.db'}", _key())
    upgraded = hub.ok("db", "upgrade")
    outputs = [hub.ok("demo"), hub.ok("demo")]
    yield hub, [upgraded, *outputs]


def test_db_upgrade_reports_the_head_revision(demo: tuple[Hub, list[str]]) -> None:
    hub, (upgraded, *_rest) = demo
    assert upgraded.strip().startswith("database at ")
    assert "(sqlite)" in upgraded
    assert "None" not in upgraded


def test_demo_loads_a_municipality_and_a_second_run_changes_nothing(
        demo: tuple[Hub, list[str]]) -> None:
    _hub, (_upgraded, first, second) = demo
    assert "한빛군 (hanbit)" in first
    assert "created" in first and "nothing changed" not in first
    assert "this run: nothing changed" in second
    for output in (first, second):
        counts = _summary_counts(output)
        assert counts["merchants"] >= 40, output
        assert counts["items"] >= 100, output
        assert counts["boxes"] >= 30, output
    assert _summary_counts(first) == _summary_counts(second)


def test_an_admin_token_is_printed_alone_and_reaches_every_tenant(
        demo: tuple[Hub, list[str]]) -> None:
    hub, _outputs = demo
    stdout = hub.ok("tokens", "create", "--role", "admin", "--label", "ops")
    lines = stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("gdk_"), stdout
    token = lines[0]
    app = hub.app()
    response = _get(app, "/api/v1/tenants", token)
    assert response.status_code == 200
    assert [t["code"] for t in response.get_json()["data"]] == ["hanbit"]
    listed = hub.ok("tokens", "list")
    assert token[:10] in listed and token not in listed


def test_an_operator_token_reaches_its_tenant(demo: tuple[Hub, list[str]]) -> None:
    hub, _outputs = demo
    stdout = hub.ok("tokens", "create", "--tenant", "hanbit", "--role", "operator")
    lines = stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("gdk_"), stdout
    app = hub.app()
    merchants = _get(app, "/api/v1/merchants?limit=100", lines[0])
    assert merchants.status_code == 200
    assert len(merchants.get_json()["data"]) >= 40
    assert _get(app, "/api/v1/tenants", lines[0]).status_code == 403  # admin only


@pytest.mark.parametrize(("args", "message"), [
    (["--tenant", "nowhere", "--role", "operator"], "no tenant with code 'nowhere'"),
    (["--role", "operator"], "needs --tenant"),
    (["--tenant", "hanbit", "--role", "admin"], "give no --tenant"),
    (["--tenant", "hanbit", "--role", "superuser"], "superuser"),
])
def test_a_token_that_cannot_be_made_is_refused_clearly(
        demo: tuple[Hub, list[str]], args: list[str], message: str) -> None:
    hub, _outputs = demo
    result = hub.run("tokens", "create", *args)
    assert result.returncode != 0
    assert result.stdout == ""
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_revoked_token_answers_401_at_once(demo: tuple[Hub, list[str]]) -> None:
    hub, _outputs = demo
    token = hub.ok("tokens", "create", "--role", "admin", "--label", "leaving").strip()
    app = hub.app()
    assert _get(app, "/api/v1/tenants", token).status_code == 200
    rows = [line.split("\t") for line in hub.ok("tokens", "list").splitlines()]
    (token_id,) = [row[0] for row in rows if row[1].rstrip("…") == token[:10]]
    assert hub.ok("tokens", "revoke", token_id).strip() == f"token {token_id} revoked"
    response = _get(app, "/api/v1/tenants", token)
    assert response.status_code == 401
    assert response.headers["Content-Type"].startswith("application/problem+json")
    rows = [line.split("\t") for line in hub.ok("tokens", "list").splitlines()]
    assert [row[4] for row in rows if row[0] == token_id] == ["revoked"]
    missing = hub.run("tokens", "revoke", "999999")
    assert missing.returncode != 0 and "no token with id 999999" in missing.stderr


def _payout_accounts(app: Flask) -> dict[str, str]:
    """Encrypted payout account per business number, as stored."""
    with session_scope(app.extensions["gudok"].session_factory) as session:
        return {m.business_number: m.payout_account_encrypted or "" for m in
                session.scalars(select(Merchant))}


def test_secrets_rotate_moves_every_secret_to_the_new_key(
        demo: tuple[Hub, list[str]], tmp_path: Path) -> None:
    source, _outputs = demo
    with sqlite3.connect(source.directory / "gudok.db") as original, \
            sqlite3.connect(tmp_path / "gudok.db") as copy:
        original.backup(copy)  # a copy of its own, WAL included: rotation changes the keys
    old_key, new_key = source.keys, _key()
    hub = Hub(tmp_path, f"sqlite:///{tmp_path / 'gudok.db'}", old_key)
    token = hub.ok("tokens", "create", "--tenant", "hanbit", "--role", "operator").strip()
    connection = hub.app().test_client().post(
        "/api/v1/connections", headers={"Authorization": f"Bearer {token}"},
        json={"connector": "saleor", "name": "한빛몰",
              "config": {"api_url": "https://mall.hanbit.example.kr/graphql/",
                         "app_token": "saleor-app-token-SECRET"}})
    assert connection.status_code == 201, connection.get_json()
    before = _payout_accounts(hub.app())
    with pytest.raises(SecretError):
        SecretBox([new_key]).decrypt(next(iter(before.values())))

    with session_scope(hub.app().extensions["gudok"].session_factory) as session:
        connections = len(session.scalars(select(Connection).where(
            Connection.secrets_encrypted.is_not(None))).all())
    # the demo's sandbox mall (its app token), its two platforms (their signing secrets) and
    # the one above
    assert connections == 4
    output = hub.ok("secrets", "rotate", keys=f"{new_key},{old_key}")
    assert output.strip() == \
        f"{len(before) + connections} secrets re-encrypted with the first key"

    expected = {normalize_business_number(m["business_number"]): m["payout_account"]
                for m in read_demo_files()["merchants"]["merchants"]}
    new_only, old_only = SecretBox([new_key]), SecretBox([old_key])
    after = _payout_accounts(hub.app(keys=new_key))
    assert after.keys() == expected.keys()
    for business_number, stored in after.items():
        assert new_only.decrypt(stored) == expected[business_number]
        with pytest.raises(SecretError):
            old_only.decrypt(stored)

    app = hub.app(keys=new_key)
    shown = _get(app, f"/api/v1/connections/{connection.get_json()['id']}", token)
    assert shown.status_code == 200, shown.get_json()
    assert shown.get_json()["config"]["app_token"] == "********"
    merchants = _get(app, "/api/v1/merchants?limit=100", token)
    assert merchants.status_code == 200
    assert all(m["payout_account_last4"] for m in merchants.get_json()["data"])


def test_demo_loads_on_postgresql(tmp_path: Path) -> None:
    url, admin = _create_postgres_database()
    try:
        hub = Hub(tmp_path, url, _key())
        first, second = hub.ok("demo"), hub.ok("demo")
        assert "[postgresql:" in first
        counts = _summary_counts(first)
        assert counts["merchants"] >= 40 and counts["items"] >= 100 and counts["boxes"] >= 30
        assert "this run: nothing changed" in second
        assert _summary_counts(second) == counts
    finally:
        _drop_postgres_database(admin, url)


def test_demo_runs_two_platforms_beside_the_mall(demo: tuple[Hub, list[str]]) -> None:
    hub, (_upgraded, first, second) = demo
    for output in (first, second):
        platforms = re.findall(r"Platform: (.+?) \(sandbox, connection (\d+)\): (\d+) boxes "
                               r"offered, (\d+) read from the feed, (\d+) listing links "
                               r"reported\n  (\d+) signed notifications received and verified;"
                               r" (\d+) orders placed and (\d+) cancelled -> (\d+) signed",
                               output)
        assert len(platforms) == 2, output
        for _name, _id, offered, fed, linked, notified, placed, cancelled, inbox in platforms:
            assert int(offered) > 10 and offered == fed == linked, output
            assert int(notified) >= int(offered), output  # one per box, and more
            assert (int(placed), int(cancelled), int(inbox)) == (2, 1, 3), output
        both = re.search(r"mall products linking to both platforms: (\d+)", output)
        assert both and int(both.group(1)) == min(int(p[2]) for p in platforms), output
        assert re.search(r"own product approved and listed in the mall: "
                         r"http://127\.0\.0\.1:\d+/products/partner-", output), output
        # The sync engine: every channel's orders applied, and the ordered box's availability
        # moved the same on the mall and on both platforms.
        sync = re.search(r"Sync: the queued jobs ran until none was left \(idle\); new "
                         r"orders: mall (\d+), \S+ (\d+), \S+ (\d+)", output)
        assert sync, output
        assert [int(n) for n in sync.groups()] == [3, 2, 2], output
        moved = re.search(r"availability of \S+: hub (\d+) -> (\d+); as each channel shows "
                          r"it: mall (\d+) -> (\d+), \S+ (\d+) -> (\d+), \S+ (\d+) -> (\d+)",
                          output)
        assert moved, output
        hub_before, hub_after, *channels = (int(n) for n in moved.groups())
        assert hub_after < hub_before, output
        assert channels[1::2] == [hub_after] * 3, output  # every channel shows the new number
        assert "Sync health" in output and "closed" in output
    with hub.app().app_context() as ctx:
        factory = ctx.app.extensions["gudok"].session_factory
        with session_scope(factory) as session:
            product = session.scalar(select(PartnerProduct))
            assert product is not None and product.status == "approved"
            assert product.listed is not None
            links = session.scalars(select(Binding).where(
                Binding.entity_type == "partner_product", Binding.internal_id == product.id))
            assert [b.url for b in links]
            partners = session.scalars(select(Connection).where(
                Connection.connector == "partner")).all()
            for connection in partners:
                offered = session.scalar(select(func.count()).select_from(Offering).where(
                    Offering.connection_id == connection.id))
                linked = session.scalar(select(func.count()).select_from(Binding).where(
                    Binding.connection_id == connection.id, Binding.entity_type == "box",
                    Binding.status == "active"))
                assert offered == linked and offered


def test_demo_runs_a_month_of_money(demo: tuple[Hub, list[str]]) -> None:
    """Rounds delivered on three channels, a voucher redeemed, an early cancellation, a
    partial refund landing after the current month closed, the month closed, one platform's
    payout report reconciled with one deliberate mismatch, and statements written."""
    hub, (_upgraded, first, second) = demo
    month = re.search(r"Month: (\d{4}-\d{2}) run through on its delivery dates \((\d+) dates, "
                      r"(\d+) rounds shipped and delivered, (\d+) tracking numbers pushed", first)
    assert month, first
    key, _dates, delivered, pushed = month.group(1), *(int(n) for n in month.groups()[1:])
    assert delivered > 0 and pushed == delivered, first
    assert re.search(r"redeemed: GV-[0-9A-Z]{12}", first), first
    assert re.search(r"cancelled early \(고객 요청: 이사\): [\d,]+ KRW refunded for "
                     r"undelivered prepaid rounds", first)
    assert "partly refunded (5,000 KRW)" in first and "lands in the next open period" in first
    assert re.search(rf"period {key} closed, statements frozen \(digest [0-9a-f]{{12}}\)", first)
    assert "amount_mismatch 1" in first and "missing_in_hub 0" in first, first
    mismatch = re.search(r"expected ([\d,]+) KRW, reported ([\d,]+) KRW", first)
    assert mismatch, first
    expected, reported = (int(n.replace(",", "")) for n in mismatch.groups())
    assert reported - expected == 1000
    statements = re.search(r"(\d+) merchant statements for \S+: ([\d,]+) KRW payable", first)
    assert statements and int(statements.group(1)) >= 3, first
    folder = hub.directory / "var" / "demo" / "statements" / key
    csvs, pdfs = sorted(folder.glob("*.csv")), sorted(folder.glob("*.pdf"))
    assert len(csvs) == len(pdfs) == int(statements.group(1))
    assert all(path.read_bytes().startswith(b"\xef\xbb\xbf") for path in csvs)
    assert all(path.read_bytes().startswith(b"%PDF") for path in pdfs)
    # The second run finds the month closed: its statements stand as they were frozen.
    assert re.search(rf"period {key} closed, statements frozen", second), second
    app = hub.app()
    with session_scope(app.extensions["gudok"].session_factory) as session:
        closed = session.scalar(select(SettlementPeriod.status).where(
            SettlementPeriod.key == key))
        assert closed == "closed"


def test_settle_prints_each_merchants_total_and_writes_statements(
        demo: tuple[Hub, list[str]], tmp_path: Path) -> None:
    hub, (_upgraded, first, _second) = demo
    month = re.search(r"Month: (\d{4}-\d{2})", first)
    assert month, first
    out = tmp_path / "statements"
    output = hub.ok("settle", "--tenant", "hanbit", "--period", month.group(1), "--out",
                    str(out))
    assert re.search(rf"hanbit {month.group(1)}: \d+ events posted; period closed, digest "
                     r"[0-9a-f]{12}", output), output
    totals = re.findall(r"\(merchant (\d+)\): payable ([\d,]+) KRW, carried forward "
                        r"(-?[\d,]+) KRW, \d+ lines, closed", output)
    assert len(totals) >= 3, output
    assert len(list(out.glob("*.csv"))) == len(list(out.glob("*.pdf"))) == len(totals)
    again = hub.ok("settle", "--tenant", "hanbit", "--period", month.group(1), "--out",
                   str(out))
    assert again.splitlines()[1:] == output.splitlines()[1:]  # a closed period: the same
    wrong = hub.run("settle", "--tenant", "hanbit", "--period", "2026-W48")
    assert wrong.returncode != 0 and "monthly period" in wrong.stderr
    assert "Traceback" not in wrong.stderr
