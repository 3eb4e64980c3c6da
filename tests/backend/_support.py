"""Helpers for the backend tests: running Alembic, reading the catalogue, catching SQLSTATEs."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import URL

BACKEND_DIR = Path(__file__).resolve().parents[2] / "backend"
ALEMBIC_INI = BACKEND_DIR / "alembic.ini"

__all__ = [
    "ALEMBIC_INI",
    "alembic_config",
    "catalog",
    "migrate",
    "sqlstate",
]


def alembic_config(connection: sa.Connection) -> Config:
    """Return an Alembic ``Config`` for backend/alembic.ini that migrates ``connection``."""
    config = Config(str(ALEMBIC_INI))
    config.attributes["connection"] = connection
    config.attributes["configure_logger"] = False
    return config


def migrate(url: URL, action: str, revision: str) -> None:
    """Run ``alembic <action> <revision>`` (upgrade/downgrade) on the database at ``url``."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            getattr(command, action)(alembic_config(connection), revision)
    finally:
        engine.dispose()


def sqlstate(
    connection: sa.Connection, sql: str, params: Mapping[str, Any] | None = None
) -> str | None:
    """Return the SQLSTATE ``sql`` fails with, or None if it succeeds (run in a SAVEPOINT)."""
    savepoint = connection.begin_nested()
    try:
        connection.execute(sa.text(sql), dict(params or {}))
    except sa.exc.DBAPIError as error:
        savepoint.rollback()
        return getattr(error.orig, "pgcode", None)
    savepoint.commit()
    return None


_QUERIES: dict[str, str] = {
    "columns": """
        SELECT table_name, column_name, data_type, udt_name, character_maximum_length,
               is_nullable, column_default
        FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name <> 'alembic_version'
    """,
    "constraints": """
        SELECT conrelid::regclass::text, conname, contype::text, pg_get_constraintdef(oid)
        FROM pg_constraint
        WHERE connamespace = 'public'::regnamespace AND conrelid <> 0
          AND conrelid::regclass::text <> 'alembic_version'
    """,
    "indexes": """
        SELECT tablename, indexname, indexdef FROM pg_indexes
        WHERE schemaname = 'public' AND tablename <> 'alembic_version'
    """,
    "enums": """
        SELECT t.typname, string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
        FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
        WHERE t.typnamespace = 'public'::regnamespace GROUP BY t.typname
    """,
    "triggers": """
        SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(oid)
        FROM pg_trigger WHERE NOT tgisinternal
    """,
    "functions": """
        SELECT proname, prosrc FROM pg_proc WHERE pronamespace = 'public'::regnamespace
    """,
}


def catalog(connection: sa.Connection) -> dict[str, list[tuple[Any, ...]]]:
    """Return the public schema as sorted rows per kind (columns, constraints, indexes, ...).

    ``alembic_version`` is left out, so a migrated and a ``create_all`` database compare equal.
    """
    return {
        kind: sorted(tuple(row) for row in connection.exec_driver_sql(query))
        for kind, query in _QUERIES.items()
    }
