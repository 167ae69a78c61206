"""The database itself refuses to update or delete money already posted: the ledger, what
funders paid and the statements frozen at a period's close are append-only, on SQLite and on
PostgreSQL alike, whatever code (or person with a SQL prompt) tries."""

from __future__ import annotations

from sqlalchemy import Connection, text

APPEND_ONLY_TABLES = ("ledger_entry", "funding_entry", "statement")
REFUSAL = "append-only: posted money is never updated or deleted"

_POSTGRESQL_FUNCTION = f"""
CREATE OR REPLACE FUNCTION gudok_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '%: %', TG_TABLE_NAME, '{REFUSAL}'
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql
"""


def install(connection: Connection) -> None:
    """Triggers that refuse UPDATE and DELETE on every append-only table."""
    postgresql = connection.dialect.name == "postgresql"
    if postgresql:
        connection.execute(text(_POSTGRESQL_FUNCTION))
    for table in APPEND_ONLY_TABLES:
        for action in ("UPDATE", "DELETE"):
            name = f"{table}_no_{action.lower()}"
            if postgresql:
                connection.execute(text(
                    f'CREATE TRIGGER {name} BEFORE {action} ON "{table}" '
                    "FOR EACH ROW EXECUTE FUNCTION gudok_refuse_change()"))
            else:
                connection.execute(text(
                    f'CREATE TRIGGER IF NOT EXISTS {name} BEFORE {action} ON "{table}" '
                    f"BEGIN SELECT RAISE(ABORT, '{table}: {REFUSAL}'); END"))


def remove(connection: Connection) -> None:
    """Drop the triggers: only to take the schema down, or to empty a test database."""
    for table in APPEND_ONLY_TABLES:
        for action in ("update", "delete"):
            suffix = f' ON "{table}"' if connection.dialect.name == "postgresql" else ""
            connection.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_{action}{suffix}"))
    if connection.dialect.name == "postgresql":
        connection.execute(text("DROP FUNCTION IF EXISTS gudok_refuse_change()"))
