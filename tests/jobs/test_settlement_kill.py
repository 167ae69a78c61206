"""A settlement run killed with SIGKILL in the middle of posting, then run again, gives
statements byte-identical to a run never interrupted; and running it twice changes nothing.

Both runs start from fresh databases built the same way, so their ids agree and the
statements (CSV bytes, digests) can be compared byte for byte."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from hub import create_app
from hub.db import session_scope
from hub.migrate import upgrade
from hub.models import Round, SettlementPeriod, Tenant
from hub.services.periods import period_row
from hub.services.statement_render import render_statement_csv
from hub.services.statements import statements_for
from jobs.settlement import settle
from tests.conftest import (
    TEST_KEY,
    _create_postgres_database,
    _drop_postgres_database,
    app_config,
    make_tenant,
)
from tests.jobs.fault_support import ROOT, worker_env
from tests.services.settlement_world import add_order, build_world, deliver, kst, refund

ORDERS = 30  # 4 rounds each: 120 rounds, posted 10 a batch


@contextmanager
def fresh_app(backend: str, tmp_path: Path, name: str) -> Iterator[tuple[Flask, str]]:
    admin = None
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / f'{name}.db'}"
    else:
        url, admin = _create_postgres_database()
    app = create_app(app_config(url, var_dir=str(tmp_path / f"var-{name}")))
    try:
        upgrade(app.extensions["gudok"].engine)
        tenant_id = make_tenant(app, "hanbit", "한빛군")
        with session_scope(app.extensions["gudok"].session_factory) as session:
            world = build_world(session, tenant_id)
            for number in range(ORDERS):
                connection = world.mall if number % 2 else world.platform
                name_ = f"O-{number:03d}"
                add_order(session, world, name_, connection, kst(2026, 10, 1), 104000,
                          coupon=number % 3 == 0)
                for sequence in range(1, 5):
                    deliver(session, world, name_, sequence, kst(2026, 10, 1 + 7 * sequence))
                if number % 5 == 0:
                    refund(session, world, name_, 1500 + number, kst(2026, 10, 30),
                           world.items[number % 3])
        yield app, url
    finally:
        app.extensions["gudok"].engine.dispose()
        if admin is not None:
            _drop_postgres_database(admin, url)


def statements_bytes(app: Flask) -> tuple[bytes, str | None]:
    with app.app_context(), session_scope(app.extensions["gudok"].session_factory) as session:
        tenant = session.scalar(select(Tenant).where(Tenant.code == "hanbit"))
        assert tenant is not None
        period = period_row(session, tenant, "2026-10")
        body = b"".join(render_statement_csv(statement)
                        for statement in statements_for(session, tenant, period))
        return body, period.digest


def run_settle(app: Flask) -> None:
    with app.app_context(), session_scope(app.extensions["gudok"].session_factory) as session:
        tenant_id = session.scalar(select(Tenant.id).where(Tenant.code == "hanbit"))
    assert tenant_id is not None
    with app.app_context():
        settle(tenant_id, "2026-10", close=True, batch=10)


def test_killed_settlement_rerun_gives_identical_statements(database_url, tmp_path):
    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    with fresh_app(backend, tmp_path, "calm") as (calm, _):
        run_settle(calm)
        expected, expected_digest = statements_bytes(calm)
    assert expected.count(b"\xef\xbb\xbf") == 3 and expected_digest

    with fresh_app(backend, tmp_path, "killed") as (app, url):
        marker = tmp_path / "paused"
        env = worker_env(url, "", TEST_KEY, tmp_path / "var-run")
        run = subprocess.Popen(
            [sys.executable, "-m", "tests.jobs.settle_fault", "--pause-after", "5",
             "--marker", str(marker), "--", "settle", "--tenant", "hanbit", "--period",
             "2026-10", "--close", "--batch", "10"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 90
            while not marker.exists():
                assert run.poll() is None, run.stderr.read() if run.stderr else ""
                assert time.monotonic() < deadline, "the run never reached its pause"
                time.sleep(0.1)
            os.kill(run.pid, signal.SIGKILL)
            run.wait(timeout=30)
        finally:
            if run.poll() is None:
                run.kill()
        factory = app.extensions["gudok"].session_factory
        with session_scope(factory) as session:
            posted = session.scalar(select(func.count()).select_from(Round).where(
                Round.posted_at.is_not(None)))
            status = session.scalar(select(SettlementPeriod.status).where(
                SettlementPeriod.key == "2026-10"))
        assert posted == 40  # four batches committed, the fifth died with the process
        assert status == "open"
        run_settle(app)
        after_kill, digest = statements_bytes(app)
        run_settle(app)  # and once more: a closed period's statements never change
        again, digest_again = statements_bytes(app)
    assert after_kill == expected and digest == expected_digest
    assert again == expected and digest_again == expected_digest
