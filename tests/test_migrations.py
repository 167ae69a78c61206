"""Alembic: the migrations build exactly the schema the models describe, on both databases,
and can be taken down and up again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import CheckConstraint, Engine, inspect

from hub import migrate
from hub.db import make_engine
from hub.models import Base
from tests.conftest import BACKENDS, _create_postgres_database, _drop_postgres_database

MODEL_TABLES = set(Base.metadata.tables)


@pytest.fixture(params=BACKENDS)
def fresh_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on a database nothing has touched yet."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
        yield engine
        engine.dispose()
        return
    url, admin = _create_postgres_database()
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()
        _drop_postgres_database(admin, url)


def _head(engine: Engine) -> str:
    heads = ScriptDirectory.from_config(migrate.alembic_config(engine)).get_heads()
    assert len(heads) == 1, f"the migrations have several heads: {heads}"
    return heads[0]


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def test_upgrade_downgrade_and_upgrade_again(fresh_engine: Engine) -> None:
    head = _head(fresh_engine)
    assert migrate.current(fresh_engine) is None

    migrate.upgrade(fresh_engine)
    assert _tables(fresh_engine) == MODEL_TABLES | {"alembic_version"}
    assert migrate.current(fresh_engine) == head

    migrate.downgrade(fresh_engine, "base")
    assert _tables(fresh_engine) == {"alembic_version"}
    assert migrate.current(fresh_engine) is None

    migrate.upgrade(fresh_engine)
    assert _tables(fresh_engine) == MODEL_TABLES | {"alembic_version"}
    assert migrate.current(fresh_engine) == head


def test_upgrading_an_up_to_date_database_changes_nothing(fresh_engine: Engine) -> None:
    migrate.upgrade(fresh_engine)
    migrate.upgrade(fresh_engine)
    assert migrate.current(fresh_engine) == _head(fresh_engine)
    assert _tables(fresh_engine) == MODEL_TABLES | {"alembic_version"}


def test_the_models_match_the_migrated_database(fresh_engine: Engine) -> None:
    """Autogenerate finds nothing to do: columns, types, nullability, server defaults,
    indexes, unique and foreign-key constraints all agree. No difference is filtered."""
    migrate.upgrade(fresh_engine)
    with fresh_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "compare_type": True, "compare_server_default": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_check_constraints_and_delete_rules_match_the_models(fresh_engine: Engine) -> None:
    """What autogenerate does not compare: named CHECK constraints and ON DELETE rules."""
    migrate.upgrade(fresh_engine)
    inspector = inspect(fresh_engine)
    for table in Base.metadata.sorted_tables:
        expected_checks = sorted(str(c.name) for c in table.constraints
                                 if isinstance(c, CheckConstraint))
        found_checks = sorted(str(c["name"]) for c in inspector.get_check_constraints(table.name))
        assert found_checks == expected_checks, table.name

        expected_keys = sorted(
            (tuple(c.name for c in fk.columns), fk.referred_table.name,
             (fk.ondelete or "NO ACTION").upper())
            for fk in table.foreign_key_constraints)
        found_keys = sorted(
            (tuple(fk["constrained_columns"]), fk["referred_table"],
             ((fk.get("options") or {}).get("ondelete") or "NO ACTION").upper())
            for fk in inspector.get_foreign_keys(table.name))
        assert found_keys == expected_keys, table.name


def test_a_populated_database_keeps_every_row_through_a_table_copy(fresh_engine: Engine) -> None:
    """On SQLite a migration that changes a table copies it: the boxes, orders and their
    versions and lines (which cascade from them) survive being copied by 0008."""
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from hub.models import BoxVersion, Contract, OrderLine, Tenant
    from tests.services.settlement_world import add_order, build_world, kst

    migrate.upgrade(fresh_engine)
    with Session(fresh_engine) as session, session.begin():
        tenant = Tenant(code="hanbit", name="한빛군")
        session.add(tenant)
        session.flush()
        world = build_world(session, tenant.id)
        add_order(session, world, "M1", world.mall, kst(2026, 10, 1), 104000)

    def counts() -> list[int]:
        with Session(fresh_engine) as session:
            return [int(session.scalar(select(func.count()).select_from(model)) or 0)
                    for model in (BoxVersion, OrderLine, Contract)]

    assert counts() == [1, 1, 1]
    migrate.downgrade(fresh_engine, "0007")
    migrate.upgrade(fresh_engine)
    assert counts() == [1, 1, 1]
    with Session(fresh_engine) as session, session.begin():
        session.scalars(select(Contract)).one().status = "paused"  # the new CHECK takes it
