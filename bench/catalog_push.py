"""Catalog push throughput, as ratios against a baseline measured in the same run.

The baseline is one authenticated GET of a single merchant through the same app and
database: the cheapest request that authenticates and reads a row. The figures are how
many such GETs one pushed record costs, for a first push (creates), a repeated push
(every record unchanged) and a push that changes every price (updates).

    .venv/bin/python bench/catalog_push.py [--records 300] [--postgres ADMIN_URL]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from hub import create_app
from hub.db import session_scope
from hub.migrate import upgrade
from hub.models import Tenant
from hub.services.tokens import create_token


def timed(function: Any, repeat: int = 1) -> float:
    started = time.perf_counter()
    for _ in range(repeat):
        function()
    return (time.perf_counter() - started) / repeat


def run(database_url: str, records: int) -> dict[str, float]:
    app = create_app({"environment": "test", "database_url": database_url,
                      "secret_keys": [Fernet.generate_key().decode()], "log_level": "WARNING",
                      "max_request_bytes": 64 * 1024 * 1024})
    state = app.extensions["gudok"]
    upgrade(state.engine)
    with session_scope(state.session_factory) as session:
        session.add(Tenant(code="bench", name="벤치군", time_zone="Asia/Seoul",
                           settlement_cycle="monthly"))
        session.flush()
        _row, token = create_token(session, "operator", "bench")
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    merchant = client.post("/api/v1/merchants", headers=headers, json={
        "name": "벤치 상회", "business_number": "124-81-00998", "tax_type": "general",
        "commission_rate_bp": 1000}).get_json()

    def body(price: int) -> dict[str, Any]:
        return {"items": [{"sku": f"B-{n}", "merchant_business_number": "124-81-00998",
                           "name": f"상품 {n}", "list_price": price + n}
                          for n in range(records)]}

    def push(price: int) -> None:
        response = client.post("/api/v1/catalog/push", headers=headers, json=body(price))
        assert response.status_code == 200, response.get_json()

    baseline = statistics.median(
        timed(lambda: client.get(f"/api/v1/merchants/{merchant['id']}", headers=headers), 50)
        for _ in range(5))
    first = timed(lambda: push(1000)) / records
    repeat = timed(lambda: push(1000)) / records
    update = timed(lambda: push(2000)) / records
    state.engine.dispose()
    return {"create": first / baseline, "unchanged": repeat / baseline,
            "update": update / baseline}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=300)
    parser.add_argument("--postgres", metavar="ADMIN_URL",
                        help="also run on a throwaway database made through this server, "
                             "e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    print(f"catalog push, {args.records} items per push; cost per record in baseline GETs")
    report("sqlite", run(f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}", args.records))
    if args.postgres:
        admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
        name = f"gudok_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = make_url(args.postgres).set(database=name)
            report("postgresql", run(url.render_as_string(hide_password=False), args.records))
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))


def report(backend: str, figures: dict[str, float]) -> None:
    print(f"  {backend:<12} " + "  ".join(f"{k} {v:5.2f}x" for k, v in figures.items()))


if __name__ == "__main__":
    main()
